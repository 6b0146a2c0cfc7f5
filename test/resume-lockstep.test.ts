/**
 * --resume takes --lockstep (an execution flag, like --jobs): a run stopped without lockstep and
 * resumed with --lockstep on really trains in lockstep, and one stopped in lockstep and resumed with
 * --lockstep off really does not (the first stopped out of phase, in two threads); both end with the rows of an unbroken run (bit for bit on ort-cpu,
 * where a stacked member runs its single-run op sequence), keep every row written before the stop
 * byte for byte, and keep run.json's saved config and digest. --lockstep on against a folder of a
 * tfjs backend, and a bad --lockstep value, are one usage error each that leave the folder as it
 * was; --tensorboard is still refused with --resume (it changes which files the folder holds).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { EXIT } from '../src/core/errors.js';
import { snapshot } from './folder-helpers.js';
import { assertRefused, runCli, tempDir, waitForCheckpoint } from './helpers.js';
import { assertSameRows, launch, statusOf } from './signal-helpers.js';

const dir = tempDir('bn-repro-resume-lockstep-');
const STEPS = 1500;
const EVERY = 50;
const MEMBERS = ['baseline-seed0', 'bn-seed0'];

/** Both arms of seed 0 on ort-cpu, long enough that a signal after the first checkpoint lands mid-run. */
function config(name: string, extra: Record<string, unknown> = {}): string {
  const path = join(dir, `${name}.json`);
  const base = {
    name,
    seeds: [0],
    backend: 'ort-cpu',
    jobs: 1,
    tensorboard: 'off',
    train: { steps: STEPS, learningRate: 0.5, checkpointEvery: EVERY },
    eval: { every: 500, probeSize: 200, units: [0, 1] },
    batchNorm: { populationBatches: 3 },
    data: { source: 'embedded', trainSubset: 1000, testSubset: 300 },
  };
  writeFileSync(path, JSON.stringify({ ...base, ...extra }));
  return path;
}

const cfg = config('resume-lockstep');
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const CSVS = ['accuracy.csv', 'activations.csv'];
const LOCKSTEP_LINE = /^lockstep: 2 runs in 1 stack\(s\), one ONNX Runtime call per step for each stack$/m;

/**
 * Trains `cfg` with `flags`, stops it by SIGINT once every member has a checkpoint; returns its
 * folder and each member's checkpointed step.
 */
async function stoppedRun(name: string, flags: string[]): Promise<{ out: string; steps: Map<string, number> }> {
  const out = join(dir, name);
  const p = launch(['mnist', '--config', cfg, '--out', out, '--quiet', ...flags]);
  for (const m of MEMBERS) await waitForCheckpoint(join(out, 'checkpoints', `${m}.json`), EVERY);
  p.child.kill('SIGINT');
  const stopped = await p.exited;
  assert.equal(stopped.code, EXIT.interrupted, stopped.stderr);
  assert.equal(statusOf(out), 'interrupted');
  const steps = new Map(MEMBERS.map((m) => [m.split('-seed')[0], readJson(join(out, 'checkpoints', `${m}.json`)).step as number]));
  for (const [arm, step] of steps) assert.ok(step >= EVERY && step < STEPS, `${arm} stopped mid-run, at step ${step}`);
  return { out, steps };
}

/** The CSV lines of `dir` (timing included) at or before each arm's checkpointed step: what a resume must leave as it is. */
function linesKept(dir: string, file: string, steps: Map<string, number>): string[] {
  const [header, ...lines] = readFileSync(join(dir, file), 'utf8').trim().split('\n');
  const [armAt, stepAt] = ['arm', 'step'].map((c) => header.split(',').indexOf(c));
  return lines.filter((line) => {
    const cells = line.split(',');
    return Number(cells[stepAt]) <= steps.get(cells[armAt])!;
  });
}

/** Resumes the stopped folder with `--lockstep lockstep` and checks it against the unbroken run and its own state before. */
function resumeAndCheck({ out, steps }: { out: string; steps: Map<string, number> }, lockstep: 'on' | 'off', unbroken: string): void {
  const before = readJson(join(out, 'run.json'));
  const kept = CSVS.map((f) => linesKept(out, f, steps));
  assert.ok(kept[0].length >= 2, `rows before the stop: ${kept[0].length}`);
  const r = runCli(['mnist', '--resume', out, '--lockstep', lockstep, '--jobs', '1']);
  assert.equal(r.code, 0, r.stderr);
  // The flag's value is the one used, not run.json's (which says the opposite).
  if (lockstep === 'on') assert.match(r.stderr, LOCKSTEP_LINE);
  else assert.doesNotMatch(r.stderr, /^lockstep: /m);
  for (const [arm, step] of steps) assert.match(r.stderr, new RegExp(`resuming ${arm} seed 0 from step ${step}\\b`));
  assert.equal(statusOf(out), 'finished');
  assertSameRows(out, unbroken);
  CSVS.forEach((f, i) => assert.deepEqual(linesKept(out, f, steps), kept[i], `${f}: the rows written before the stop`));
  const after = readJson(join(out, 'run.json'));
  assert.deepEqual(after.config, before.config, 'run.json keeps the config it was saved with (its lockstep too)');
  assert.equal(after.config.lockstep, lockstep === 'on' ? 'off' : 'on');
  assert.equal(after.digest, before.digest);
  assert.equal(after.resumedAt.length, 1);
  for (const m of MEMBERS) {
    const ckpt = readJson(join(out, 'checkpoints', `${m}.json`));
    assert.equal(ckpt.digest, before.digest, `${m}'s checkpoint still carries the folder's digest`);
    assert.equal(ckpt.summary.steps, STEPS, `${m} ended at the last step`);
  }
}

const unbroken = join(dir, 'unbroken');
test('an unbroken run (lockstep off; lockstep.test.ts shows lockstep on gives the same rows bit for bit)', () => {
  const r = runCli(['mnist', '--config', cfg, '--out', unbroken, '--quiet', '--lockstep', 'off']);
  assert.equal(r.code, 0, r.stderr);
});

test('stopped without lockstep (two threads, out of phase), --resume DIR --lockstep on stacks them and ends with the unbroken rows', async () => {
  resumeAndCheck(await stoppedRun('off-then-on', ['--lockstep', 'off', '--jobs', '2']), 'on', unbroken);
});

test('stopped in lockstep, --resume DIR --lockstep off trains the runs apart and ends with the unbroken rows', async () => {
  const stopped = await stoppedRun('on-then-off', ['--lockstep', 'on']);
  assert.equal(new Set(stopped.steps.values()).size, 1, `the stacked members checkpointed at one step: ${[...stopped.steps.values()]}`);
  resumeAndCheck(stopped, 'off', unbroken);
});

test('--resume DIR --lockstep on, for a folder trained on wasm (a tfjs backend): one usage error, the folder unchanged', () => {
  const out = join(dir, 'wasm');
  const wasm = config('wasm', {
    backend: 'wasm',
    seeds: [0],
    bn: 'on',
    train: { steps: 4, checkpointEvery: 2 },
    eval: { every: 2, probeSize: 20, units: [0] },
  });
  assert.equal(runCli(['mnist', '--config', wasm, '--out', out, '--quiet']).code, 0);
  const before = snapshot(out);
  assertRefused(
    runCli(['mnist', '--resume', out, '--lockstep', 'on']),
    EXIT.usage,
    /^error: --lockstep on cannot be used here: this folder's runs train on wasm, a tfjs backend, and lockstep training is an ONNX Runtime feature; drop --lockstep or give --lockstep off\.$/,
  );
  assert.deepEqual(snapshot(out), before);
  // off is what the folder does anyway: accepted, and nothing is left to train.
  const off = runCli(['mnist', '--resume', out, '--lockstep', 'off']);
  assert.equal(off.code, 0, off.stderr);
  assert.match(off.stderr, /nothing to resume/);
  assert.deepEqual(snapshot(out), before);
});

test('--resume with a bad --lockstep value, or with --tensorboard: one usage error each, the folder unchanged', () => {
  const before = snapshot(unbroken);
  assertRefused(
    runCli(['mnist', '--resume', unbroken, '--lockstep', 'sideways']),
    EXIT.usage,
    /^error: --lockstep: config key "lockstep" must be one of "on", "off", "auto" \(got "sideways"\)\.$/,
  );
  assertRefused(
    runCli(['mnist', '--resume', unbroken, '--tensorboard', 'on']),
    EXIT.usage,
    /^error: --resume continues a run with its saved settings; drop --tensorboard\.$/,
  );
  assert.deepEqual(snapshot(unbroken), before);
});
