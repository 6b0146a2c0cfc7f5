/**
 * Lockstep training of the CNN (issue 20) on ort-cpu, where the stack lays its members out as
 * copies of their step subgraphs: `mnist --model cnn --bn both --lockstep on` writes the rows and
 * digest of `--lockstep off`, bit for bit; in process, trainLockstep's checkpoints (weights, moving
 * statistics, batch order) equal trainRun's for members that differ in arm, learning rate,
 * activation and hidden width, and a stop request then a resume ends with the rows of runs never
 * stopped; a CNN member with an absurd learning rate diverges while the others finish (exit 3);
 * with momentum SGD the lockstep CNN's rows are tfjs wasm's (within float32 noise).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Variant } from '../src/config/config.js';
import { silentLogger } from '../src/core/logger.js';
import { EXIT } from '../src/core/errors.js';
import { loadDataset } from '../src/data/load.js';
import { initBackend } from '../src/engines/backend.js';
import type { RunCheckpoint } from '../src/training/checkpoint-state.js';
import { trainLockstep } from '../src/training/lockstep.js';
import { MemoryRecorder, type RunSpec } from '../src/training/records.js';
import { trainRun } from '../src/training/train.js';
import { SMALL_CNN_MODEL } from './net-fixtures.js';
import { readCsv, runCli, tempDir, testConfig, timelessRows } from './helpers.js';
import { assertSameRows, statusOf } from './signal-helpers.js';

const STEPS = 60;
const EVERY = 20;
/** Evaluations at steps 0, 20, 40 and 60. */
const ROWS_PER_RUN = STEPS / EVERY + 1;
/** A small CNN (4 and 8 maps of 5x5, 20 hidden units) on 600 embedded digits: about a second a run. */
const MODEL = SMALL_CNN_MODEL;
const BASE = {
  seeds: [0],
  backend: 'ort-cpu',
  tensorboard: 'off',
  model: MODEL,
  train: { steps: STEPS, learningRate: 0.1, checkpointEvery: EVERY },
  eval: { every: EVERY, probeSize: 100, units: [0, 1] },
  batchNorm: { populationBatches: 2 },
  data: { source: 'embedded', trainSubset: 600, testSubset: 200 },
};
const dir = tempDir('bn-repro-lockstep-cnn-');

function config(name: string, extra: Record<string, unknown> = {}): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify({ name, ...BASE, ...extra }));
  return path;
}

const train = (cfg: string, out: string, ...flags: string[]) =>
  runCli(['mnist', '--config', cfg, '--out', out, '--quiet', '--backend', 'ort-cpu', '--model', 'cnn', '--jobs', '1', ...flags]);
const runJson = (d: string) => JSON.parse(readFileSync(join(d, 'run.json'), 'utf8'));

const separate = join(dir, 'separate');

test('ort-cpu: mnist --model cnn --bn both in lockstep gives the rows and digest of --lockstep off, bit for bit', () => {
  const cfg = config('both');
  const a = train(cfg, separate, '--bn', 'both', '--lockstep', 'off');
  assert.equal(a.code, 0, a.stderr);
  const stacked = join(dir, 'stacked');
  const b = train(cfg, stacked, '--bn', 'both', '--lockstep', 'on');
  assert.equal(b.code, 0, b.stderr);
  assert.equal(timelessRows(stacked, 'accuracy.csv').length, 2 * ROWS_PER_RUN);
  assert.equal(timelessRows(stacked, 'activations.csv').length, 2 * ROWS_PER_RUN * 2, 'two probed units per evaluation');
  assertSameRows(stacked, separate);
  // Runs that learned: the step-0 rows would agree whatever the step did.
  const rows = readCsv(join(stacked, 'accuracy.csv')).rows;
  for (const arm of ['baseline', 'bn']) {
    const at = (step: number) => Number(rows.find((r) => r.arm === arm && Number(r.step) === step)?.test_loss);
    assert.ok(at(STEPS) < at(0), `${arm} learned: test loss ${at(0)} -> ${at(STEPS)}`);
  }
  assert.equal(runJson(stacked).config.lockstep, 'on');
  assert.equal(runJson(stacked).config.model.kind, 'cnn');
  assert.equal(runJson(stacked).digest, runJson(separate).digest, 'lockstep changes no result, so not the digest');
});

test('ort-cpu: a CNN member with an absurd learning rate diverges in lockstep, the others finish with their rows; exit 3', () => {
  const sweep = [
    { name: 'baseline', bn: false, lrMultiplier: 1 },
    { name: 'bn', bn: true, lrMultiplier: 1 },
    { name: 'bn-x1e30', bn: true, lrMultiplier: 1e30 },
  ];
  const out = join(dir, 'diverged');
  const r = train(config('diverge', { sweep }), out, '--lockstep', 'on');
  assert.equal(r.code, EXIT.diverged, r.stderr);
  assert.equal(statusOf(out), 'diverged');
  const diverged = runJson(out).runs.find((s: { arm: string }) => s.arm === 'bn-x1e30');
  assert.ok(diverged.divergedAtStep > 0 && diverged.divergedAtStep < STEPS, `diverged at ${diverged.divergedAtStep}`);
  const rows = readCsv(join(out, 'accuracy.csv')).rows;
  assert.ok(rows.filter((x) => x.arm === 'bn-x1e30').length < ROWS_PER_RUN);
  // The others: every row, with the numbers of the same runs trained alone (the first test's).
  const strip = (xs: Record<string, string>[], arm: string) => xs.filter((x) => x.arm === arm).map(({ elapsed_s: _t, ...x }) => x);
  const alone = readCsv(join(separate, 'accuracy.csv')).rows;
  for (const arm of ['baseline', 'bn']) {
    assert.equal(strip(rows, arm).length, ROWS_PER_RUN);
    assert.deepEqual(strip(rows, arm), strip(alone, arm), `${arm}: a NaN in another member changed no number`);
  }
});

/**
 * Steps of the momentum comparison: the velocity acts from step 2 on. Later (from about step 6 of
 * the BN net at lr 0.1, mu 0.5) a max-pool's argmax flips on float32 noise and the engines part
 * by 1e-5 and more, as any two engines do; up to step 5 they agree to within 1e-7 (measured).
 */
const MOMENTUM_STEPS = 5;

test('ort-cpu: momentum SGD trains the CNN in lockstep as tfjs wasm trains it (the velocity is state of the CNN step too)', () => {
  const train5 = { steps: MOMENTUM_STEPS, learningRate: 0.1, momentum: 0.5, checkpointEvery: 0 };
  const momentum = config('momentum', { train: train5, eval: { ...BASE.eval, every: MOMENTUM_STEPS } });
  const ort = join(dir, 'momentum-ort');
  const wasm = join(dir, 'momentum-wasm');
  assert.equal(train(momentum, ort, '--bn', 'both', '--lockstep', 'on').code, 0);
  assert.equal(runCli(['mnist', '--config', momentum, '--out', wasm, '--quiet', '--backend', 'wasm', '--bn', 'both']).code, 0);
  const [a, b] = [ort, wasm].map((d) => readCsv(join(d, 'accuracy.csv')).rows.filter((r) => Number(r.step) === MOMENTUM_STEPS));
  assert.equal(a.length, 2);
  for (const r of a) {
    const w = b.find((x) => x.arm === r.arm)!;
    // Plain SGD (the CNN's ORT step before it held a velocity) is off by 1e-4 and more here (measured).
    for (const key of ['train_loss', 'test_loss']) {
      const rel = Math.abs(Number(r[key]) - Number(w[key])) / Number(w[key]);
      assert.ok(rel < 1e-5, `${r.arm} ${key}: ort-cpu ${r[key]}, wasm ${w[key]}`);
    }
    assert.equal(r.test_accuracy, w.test_accuracy, r.arm);
  }
});

// In process: trainLockstep against trainRun, their checkpoints compared value for value.
const inProcess = testConfig({ ...BASE, train: { steps: STEPS, learningRate: 0.1, checkpointEvery: EVERY } });
const data = await loadDataset(inProcess, { logger: silentLogger });
await initBackend('ort-cpu', silentLogger);
const VARIANTS: Variant[] = [
  // The plain BN arm is the first test's; here members that differ from it in every way a variant can.
  { name: 'baseline', bn: false, lrMultiplier: 1 },
  { name: 'bn-x5-sigmoid', bn: true, lrMultiplier: 5, activation: 'sigmoid' },
  { name: 'bn-wide', bn: true, lrMultiplier: 1, hiddenUnits: [30] },
];
const SEED = 3;

/** Every checkpoint a run writes (the recorder keeps each, not only the last). */
class CheckpointRecorder extends MemoryRecorder {
  readonly saved: RunCheckpoint[] = [];
  checkpoint(state: RunCheckpoint): void {
    this.saved.push(state);
  }
}

/** What a recorder got, timing aside, ordered by run so that interleaving does not matter. */
function recorded(r: CheckpointRecorder): string {
  const byRun = <T extends { arm: string }>(xs: T[]) => VARIANTS.flatMap((v) => xs.filter((x) => x.arm === v.name));
  const checkpoints = byRun(r.saved).map(({ elapsedS: _t, last, ...c }) => ({ ...c, last: last && { ...last, elapsedS: 0 } }));
  return JSON.stringify({ evals: byRun(r.evals.map(({ elapsedS: _t, ...e }) => e)), activations: byRun(r.activations), checkpoints });
}

const alone = new CheckpointRecorder();
for (const v of VARIANTS) await trainRun(v, SEED, { config: inProcess, data, recorder: alone });

test("trainLockstep's CNN members write trainRun's rows and checkpoints (weights, moving statistics, batch order) bit for bit", async () => {
  const stacked = new CheckpointRecorder();
  const summaries = await trainLockstep(
    VARIANTS.map((variant) => ({ variant, seed: SEED })),
    { config: inProcess, data, recorder: stacked },
  );
  assert.deepEqual(
    summaries.map((s) => [s.arm, s.steps]),
    VARIANTS.map((v) => [v.name, STEPS]),
  );
  // Checkpoints at steps 20 and 40 of each run, holding weights.
  assert.equal(alone.saved.length, VARIANTS.length * 2);
  assert.ok(alone.saved.every((c) => c.params.length > 0));
  assert.equal(recorded(stacked), recorded(alone));
});

test('a stop request checkpoints every CNN member; resumed in lockstep, they end with the rows of runs never stopped', async () => {
  const first = new CheckpointRecorder();
  // Polled every 50 steps (YIELD_EVERY_STEPS): stop at step 50.
  const stopped = await trainLockstep(
    VARIANTS.map((variant) => ({ variant, seed: SEED })),
    { config: inProcess, data, recorder: first, shouldStop: () => true },
  );
  assert.deepEqual(
    stopped.map((s) => [s.interrupted, s.steps]),
    VARIANTS.map(() => [true, 50]),
  );
  const at50 = (arm: string) => first.saved.find((c) => c.arm === arm && c.step === 50);
  const specs: RunSpec[] = VARIANTS.map((variant) => ({ variant, seed: SEED, resume: at50(variant.name) }));
  assert.ok(specs.every((s) => s.resume));
  const rest = new CheckpointRecorder();
  await trainLockstep(specs, { config: inProcess, data, recorder: rest });
  const joined = new CheckpointRecorder();
  joined.evals.push(...first.evals, ...rest.evals);
  joined.activations.push(...first.activations, ...rest.activations);
  // The checkpoints of steps 20 and 40, written before the stop.
  joined.saved.push(...first.saved.filter((c) => c.step !== 50));
  assert.equal(recorded(joined), recorded(alone));
});
