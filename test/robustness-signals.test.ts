/**
 * Signals at any moment (issue 17, family 7): SIGTERM, SIGINT and SIGHUP from the moment the shim
 * has its handlers (before the CLI and tfjs load), while the data loads, mid-training, during the
 * final writes, twice in a row, during --resume, during report, and with stderr or stdout closed.
 * Each asserts exit 130, a folder that is absent or resumable (never `running`, no `.lock`, no temp
 * file) and, resumed, rows equal to those of an uninterrupted run.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { tinyRunConfig } from './folder-helpers.js';
import { runCli, tempDir, tinySweepConfig, waitForCheckpoint } from './helpers.js';
import { assertSameRows, assertWholeCsvs, handlersInstalled, launch, leftovers, statusOf } from './signal-helpers.js';

const work = tempDir('bn-repro-signals-');
const tiny = tinyRunConfig(work);
const train = (out: string, ...extra: string[]) => ['mnist', '--config', tiny, '--out', out, '--jobs', '1', ...extra];
let reference = '';

before(() => {
  reference = join(work, 'reference');
  const r = runCli(train(reference, '--quiet'));
  assert.equal(r.code, 0, r.stderr);
});

const NO_STACK = /^\s+at |internal error|node:internal/m;

/** An interrupted folder: exit 130, the continue line, `interrupted`, whole CSVs, nothing left behind. */
function assertResumable(dir: string, r: { code: number | null; signal: string | null; stderr: string }): void {
  assert.equal(r.signal, null, `died by ${r.signal}`);
  assert.equal(r.code, 130, r.stderr);
  assert.ok(r.stderr.includes(`continue with: bn-repro mnist --resume ${dir}\n`), r.stderr);
  assert.doesNotMatch(r.stderr, NO_STACK);
  assert.equal(statusOf(dir), 'interrupted');
  assert.deepEqual(leftovers(dir), []);
  assertWholeCsvs(dir);
}

/** --resume finishes the folder into the rows of an uninterrupted run. */
function assertResumes(dir: string): void {
  const r = runCli(['mnist', '--resume', dir, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(statusOf(dir), 'finished');
  assertSameRows(dir, reference);
  assert.deepEqual(leftovers(dir), []);
}

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  test(`${signal} as soon as the shim has its handlers (before the CLI loads): exit 130, no folder`, async () => {
    const out = join(tempDir(), 'run');
    const p = launch(train(out));
    await handlersInstalled(p.child.pid!);
    p.child.kill(signal);
    const r = await p.exited;
    assert.equal(r.signal, null, `died by ${r.signal}: handlers came too late`);
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, new RegExp(`^warning: ${signal}: stopped`, 'm'));
    assert.equal(existsSync(out), false);
    assert.deepEqual(leftovers(join(out, '..'), false), []);
  });

  test(`${signal} mid-training: checkpoint, exit 130, interrupted; --resume equals an uninterrupted run`, async () => {
    const out = join(tempDir(), 'run');
    const p = launch(train(out));
    await waitForCheckpoint(join(out, 'checkpoints', 'baseline-seed0.json'), 200);
    p.child.kill(signal);
    const r = await p.exited;
    assertResumable(out, r);
    assert.match(r.stderr, new RegExp(`^warning: ${signal}: finishing the current step and saving checkpoints`, 'm'));
    assertResumes(out);
  });
}

test('SIGINT while the data loads: exit 130, and the folder is absent or resumable', async () => {
  const out = join(tempDir(), 'run');
  const p = launch(train(out));
  await p.line(/^backend: /m);
  p.child.kill('SIGINT');
  const r = await p.exited;
  assert.equal(r.code, 130, r.stderr);
  if (existsSync(out)) {
    assertResumable(out, r);
    assertResumes(out);
  } else {
    assert.match(r.stderr, /^warning: SIGINT: stopped; no run folder was created$/m);
    assert.deepEqual(leftovers(join(out, '..'), false), []);
  }
});

test('two SIGINTs in a row quit at once: exit 130, run.json interrupted, no lock; --resume equals an uninterrupted run', async () => {
  const out = join(tempDir(), 'run');
  const p = launch(train(out));
  await waitForCheckpoint(join(out, 'checkpoints', 'baseline-seed0.json'), 200);
  p.child.kill('SIGINT');
  await p.line(/finishing the current step/);
  p.child.kill('SIGINT');
  const r = await p.exited;
  assertResumable(out, r);
  assertResumes(out);
});

/**
 * The last run has ended; what is left is closing the files, run.json's end state and the lock. A
 * signal that lands after the event loop's last turn, as the process exits, is never seen: then
 * the exit is 0 and the folder finished, which is what happened.
 */
test('SIGTERM during the final writes: exit 130 (or 0 once all is written), never running, no lock', async () => {
  const out = join(tempDir(), 'run');
  const p = launch(train(out));
  await p.line(/^bn +seed 0 done: /m);
  p.child.kill('SIGTERM');
  const r = await p.exited;
  assert.equal(r.signal, null, `died by ${r.signal}`);
  assert.ok(r.code === 130 || (r.code === 0 && statusOf(out) === 'finished'), `exit ${r.code}, ${statusOf(out)}; ${r.stderr}`);
  assert.ok(['finished', 'interrupted'].includes(statusOf(out)), statusOf(out));
  assert.deepEqual(leftovers(out), []);
  assertResumes(out);
});

test('SIGHUP with the terminal gone (stderr closed): exit 130, interrupted, no lock; --resume equals an uninterrupted run', async () => {
  const out = join(tempDir(), 'run');
  const p = launch(train(out));
  await waitForCheckpoint(join(out, 'checkpoints', 'baseline-seed0.json'), 200);
  p.child.stderr!.destroy();
  p.child.kill('SIGHUP');
  const r = await p.exited;
  assert.equal(r.signal, null, `died by ${r.signal}`);
  assert.equal(r.code, 130);
  assert.equal(statusOf(out), 'interrupted');
  assert.deepEqual(leftovers(out), []);
  assertResumes(out);
});

test('SIGTERM during --resume: exit 130, interrupted again; a second --resume equals an uninterrupted run', async () => {
  const out = join(tempDir(), 'run');
  const first = launch(train(out));
  await waitForCheckpoint(join(out, 'checkpoints', 'baseline-seed0.json'), 200);
  first.child.kill('SIGTERM');
  assertResumable(out, await first.exited);
  const p = launch(['mnist', '--resume', out]);
  await p.line(/^baseline seed 0 step 400:/m);
  p.child.kill('SIGTERM');
  assertResumable(out, await p.exited);
  assertResumes(out);
});

test('SIGTERM during report: exit 130, the folder unchanged but for a whole report.md, no lock or temp file', async () => {
  const dir = join(tempDir(), 'run');
  cpSync(reference, dir, { recursive: true });
  const before = readFileSync(join(dir, 'accuracy.csv'), 'utf8');
  const p = launch(['report', dir]);
  await handlersInstalled(p.child.pid!);
  p.child.kill('SIGTERM');
  const r = await p.exited;
  assert.equal(r.code, 130, r.stderr);
  assert.doesNotMatch(r.stderr, NO_STACK);
  assert.equal(readFileSync(join(dir, 'accuracy.csv'), 'utf8'), before);
  assert.deepEqual(leftovers(dir), []);
  if (existsSync(join(dir, 'report.md'))) assert.match(readFileSync(join(dir, 'report.md'), 'utf8'), /^# bn-repro report/);
});

test('report with stdout closed early (`report DIR | head -1`): exit 0, report.md written, no stack trace', async () => {
  const dir = join(tempDir(), 'run');
  cpSync(reference, dir, { recursive: true });
  const p = launch(['report', dir]);
  p.child.stdout!.destroy();
  const r = await p.exited;
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, NO_STACK);
  assert.match(readFileSync(join(dir, 'report.md'), 'utf8'), /^# bn-repro report/);
  assert.deepEqual(leftovers(dir), []);
});

test('SIGTERM as merge starts: exit 130, no --out and no temp folder', async () => {
  const out = join(tempDir(), 'merged');
  const p = launch(['merge', reference, '--out', out]);
  await handlersInstalled(p.child.pid!);
  p.child.kill('SIGTERM');
  const r = await p.exited;
  assert.equal(r.code, 130, r.stderr);
  assert.equal(existsSync(out), false);
  assert.deepEqual(leftovers(join(out, '..'), false), []);
});

test('SIGTERM mid-sweep (a shard): the same clean stop, exit 130 and the continue line', async () => {
  const out = join(tempDir(), 'shard');
  const p = launch(['sweep', tinySweepConfig(work, 'sweep'), '--shard', '1/2', '--jobs', '1', '--out', out]);
  await p.line(/ step 200:/);
  p.child.kill('SIGTERM');
  assertResumable(out, await p.exited);
});
