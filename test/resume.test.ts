/**
 * Runs survive: a run killed with SIGKILL and resumed, or stopped with SIGINT and resumed, writes
 * the same CSV numbers as an uninterrupted run; a diverging run stops alone with exit code 3.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readCsv, runCli, settle, start, tempDir, timelessRows, waitForCheckpoint } from './helpers.js';

/** A protocol small enough for seconds, with checkpoints every 300 steps. */
const configPath = join(tempDir(), 'resume.json');
writeFileSync(
  configPath,
  JSON.stringify({
    train: { steps: 2400, checkpointEvery: 300 },
    // The Santurkar et al. measurements too, every other evaluation: their files must resume alike.
    eval: { every: 200, probeSize: 200, landscape: { every: 2 } },
    batchNorm: { populationBatches: 5 },
    data: { source: 'embedded', trainSubset: 2000, testSubset: 400 },
  }),
);
const runArgs = (out: string) => ['mnist', '--config', configPath, '--out', out, '--quiet'];

function assertSameResults(dir: string, reference: string): void {
  for (const file of ['accuracy.csv', 'activations.csv', 'ics.csv', 'landscape.csv']) {
    const want = timelessRows(reference, file);
    assert.equal(want.length >= 14, true, `${file} has ${want.length} rows`);
    assert.deepEqual(timelessRows(dir, file), want, `${file} differs from the uninterrupted run`);
  }
  const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
  assert.equal(run.status, 'finished');
  assert.deepEqual(run.runs.map((r: { arm: string; steps: number }) => [r.arm, r.steps]).sort(), [
    ['baseline', 2400],
    ['bn', 2400],
  ]);
}

const reference = join(tempDir(), 'reference');
test('an uninterrupted reference run', () => {
  const r = runCli(runArgs(reference));
  assert.equal(r.code, 0, r.stderr);
});

test('SIGKILL mid-run, then --resume: the same CSV numbers as the uninterrupted run', async () => {
  const out = join(tempDir(), 'killed');
  const child = start(runArgs(out), 'ignore');
  await settle(child, async () => {
    await waitForCheckpoint(join(out, 'checkpoints', 'bn-seed0.json'), 900);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  });
  const midway = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
  assert.equal(midway.status, 'running', 'killed before it could finish');
  const r = runCli(['mnist', '--resume', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /resuming bn seed 0 from step \d+/);
  assertSameResults(out, reference);
});

test('SIGINT checkpoints, exits 130 and says how to resume; resuming completes identically', async () => {
  const out = join(tempDir(), 'interrupted');
  const child = start(runArgs(out), 'pipe');
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  let code: unknown;
  await settle(child, async () => {
    await waitForCheckpoint(join(out, 'checkpoints', 'baseline-seed0.json'), 300);
    child.kill('SIGINT');
    code = await new Promise((r) => child.once('exit', r));
  });
  assert.equal(code, 130, stderr);
  assert.match(stderr, /continue with: bn-repro mnist --resume /);
  assert.equal(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).status, 'interrupted');
  const r = runCli(['mnist', '--resume', out, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  assertSameResults(out, reference);
  const again = runCli(['mnist', '--resume', out]);
  assert.equal(again.code, 0);
  assert.match(again.stderr, /nothing to resume/);
});

test('a diverging run stops with a final nan row, diverged_at_step in run.json and exit code 3', () => {
  const out = join(tempDir(), 'diverged');
  const r = runCli(['mnist', '--bn', 'both', '--lr', '1e30', '--steps', '400', '--eval-every', '100', '--data', 'embedded', '--out', out]);
  assert.equal(r.code, 3, r.stderr);
  const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
  assert.equal(run.status, 'diverged');
  const baseline = run.runs.find((x: { arm: string }) => x.arm === 'baseline');
  assert.ok(baseline.divergedAtStep > 0 && baseline.divergedAtStep <= 400);
  const rows = readCsv(join(out, 'accuracy.csv')).rows.filter((x) => x.arm === 'baseline');
  assert.equal(Number(rows.at(-1)!.step), baseline.divergedAtStep);
  assert.equal(rows.at(-1)!.train_loss, 'nan');
  assert.equal(run.runs.length, 2, 'the other arm still ran to its end');
});
