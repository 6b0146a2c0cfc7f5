/**
 * Training with momentum SGD (train.momentum = 0.9, issue 20 item 4): the ORT engine's rows against
 * tfjs wasm within test/engine-ort.test.ts's tolerances; the velocity in checkpoints, so that a run
 * stopped and resumed gives the rows of one that never stopped, on both engines and through the
 * checkpoint file after a SIGKILL; momentum 0 (the default) keeps no velocity.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { initBackend } from '../src/engines/backend.js';
import type { ResolvedConfig } from '../src/config/config.js';
import { loadDataset } from '../src/data/load.js';
import { silentLogger } from '../src/core/logger.js';
import type { RunCheckpoint } from '../src/training/checkpoint-state.js';
import { MemoryRecorder } from '../src/training/records.js';
import { trainRun } from '../src/training/train.js';
import { runCli, settle, start, tempDir, testConfig, timelessRows, waitForCheckpoint } from './helpers.js';

const MU = 0.9;
const ARMS = [
  { name: 'baseline', bn: false, lrMultiplier: 1 },
  { name: 'bn', bn: true, lrMultiplier: 1 },
];
const tiny = (steps: number, every: number, extra: Record<string, unknown> = {}) =>
  testConfig({
    train: { steps, checkpointEvery: 0, momentum: MU, learningRate: 0.02 },
    eval: { every, probeSize: 300 },
    batchNorm: { populationBatches: 10 },
    data: { source: 'embedded', trainSubset: 2000, testSubset: 1000 },
    ...extra,
  });
const config = tiny(1000, 100);
const data = await loadDataset(config, { logger: silentLogger });
const rowsOf = (r: MemoryRecorder) => r.evals.map(({ elapsedS: _t, ...row }) => row);
const relClose = (a: number, b: number, tol: number) => Math.abs(a - b) <= tol * Math.max(Math.abs(a), Math.abs(b));

class CheckpointRecorder extends MemoryRecorder {
  saved?: RunCheckpoint;
  checkpoint(state: RunCheckpoint): void {
    this.saved = state;
  }
}

async function train(backend: 'wasm' | 'ort-cpu', cfg: ResolvedConfig) {
  await initBackend(backend, silentLogger);
  const recorder = new MemoryRecorder();
  for (const arm of ARMS) await trainRun(arm, 0, { config: cfg, data, recorder });
  return recorder;
}

test('momentum 0.9: ort-cpu gives the rows of tfjs wasm over 1,000 steps, both arms (accuracy within 0.002, losses within 1e-3 relative)', async () => {
  const wasm = await train('wasm', config);
  const onnx = await train('ort-cpu', config);
  assert.equal(onnx.evals.length, 2 * 11);
  onnx.evals.forEach((e, i) => {
    const w = wasm.evals[i];
    const where = `${e.arm} step ${e.step}`;
    assert.deepEqual([e.arm, e.step], [w.arm, w.step]);
    assert.ok(Math.abs(e.testAccuracy - w.testAccuracy) <= 0.002 + 1e-12, `${where}: accuracy ${e.testAccuracy} vs ${w.testAccuracy}`);
    assert.ok(relClose(e.testLoss, w.testLoss, 1e-3), `${where}: test loss ${e.testLoss} vs ${w.testLoss}`);
    if (w.trainLoss === null) assert.equal(e.trainLoss, null);
    else assert.ok(relClose(e.trainLoss!, w.trainLoss, 1e-3), `${where}: train loss ${e.trainLoss} vs ${w.trainLoss}`);
  });
  // Both learn: the BN net well above chance at the end.
  assert.ok(onnx.evals.at(-1)!.testAccuracy > 0.8, `BN ends at ${onnx.evals.at(-1)!.testAccuracy}`);
  // And momentum is really on: the rows differ from plain SGD's at the same learning rate, from the
  // first evaluation after step 0 (100 steps of plain SGD show it; 1,000 would only repeat it).
  const plain = await train('ort-cpu', tiny(100, 100, { train: { steps: 100, checkpointEvery: 0, momentum: 0, learningRate: 0.02 } }));
  const at100 = (r: MemoryRecorder) => r.evals.filter((e) => e.step === 100).map((e) => `${e.arm}: ${e.testLoss}`);
  assert.equal(at100(plain).length, 2);
  at100(plain).forEach((row, i) => assert.notEqual(at100(onnx)[i], row));
});

for (const backend of ['wasm', 'ort-cpu'] as const) {
  test(`${backend}: a momentum run stopped at a checkpoint and resumed gives the rows of one that never stopped`, async () => {
    // Evaluations at 0, 100 and 200; stopped at 150, so the resumed part carries the checkpoint's
    // loss sum, velocity and sampler into the step-200 evaluation.
    const cfg = tiny(200, 100);
    await initBackend(backend, silentLogger);
    for (const arm of ARMS) {
      const whole = new MemoryRecorder();
      await trainRun(arm, 3, { config: cfg, data, recorder: whole });
      const first = new CheckpointRecorder();
      let polls = 0;
      // Polled every 50 steps: stop at step 150, between two evaluations.
      await trainRun(arm, 3, { config: cfg, data, recorder: first, shouldStop: () => ++polls === 3 });
      assert.equal(first.saved?.step, 150);
      assert.equal(first.saved.velocity?.length, first.saved.params.length, 'one velocity per parameter in the checkpoint');
      assert.ok(
        first.saved.velocity.some((v) => Buffer.from(v, 'base64').some((b) => b !== 0)),
        'the velocity is not zero',
      );
      const rest = new MemoryRecorder();
      await trainRun(arm, 3, { config: cfg, data, recorder: rest, resume: first.saved });
      assert.equal(JSON.stringify(rowsOf(whole)), JSON.stringify([...rowsOf(first), ...rowsOf(rest)]), arm.name);
    }
  });
}

test('momentum 0 (the default) keeps no velocity: the checkpoint has none', async () => {
  await initBackend('ort-cpu', silentLogger);
  const first = new CheckpointRecorder();
  let polls = 0;
  const cfg = tiny(200, 100, { train: { steps: 200, checkpointEvery: 0 } });
  assert.equal(cfg.train.momentum, 0);
  await trainRun(ARMS[0], 0, { config: cfg, data, recorder: first, shouldStop: () => ++polls === 1 });
  assert.equal(first.saved?.step, 50);
  assert.equal('velocity' in first.saved, false);
});

test('CLI, momentum 0.9: SIGKILL after a checkpoint, then --resume: the velocity comes back from disk and the rows equal an uninterrupted run', async () => {
  const dir = tempDir();
  const file = join(dir, 'momentum.json');
  writeFileSync(
    file,
    JSON.stringify({
      train: { steps: 600, checkpointEvery: 100, momentum: MU, learningRate: 0.02 },
      eval: { every: 100, probeSize: 200 },
      batchNorm: { populationBatches: 5 },
      data: { source: 'embedded', trainSubset: 2000, testSubset: 400 },
    }),
  );
  const args = (out: string) => ['mnist', '--config', file, '--jobs', '1', '--out', out, '--quiet'];
  const reference = join(dir, 'reference');
  assert.equal(runCli(args(reference)).code, 0);
  const out = join(dir, 'killed');
  const child = start(args(out), 'ignore');
  await settle(child, async () => {
    await waitForCheckpoint(join(out, 'checkpoints', 'bn-seed0.json'), 200);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  });
  const saved = JSON.parse(readFileSync(join(out, 'checkpoints', 'bn-seed0.json'), 'utf8'));
  assert.equal(saved.velocity?.length, saved.params.length, 'the checkpoint file holds the velocity');
  const r = runCli(['mnist', '--resume', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /resuming bn seed 0 from step \d+/);
  for (const f of ['accuracy.csv', 'activations.csv']) {
    assert.ok(timelessRows(reference, f).length >= 14, f);
    assert.deepEqual(timelessRows(out, f), timelessRows(reference, f), `${f} differs from the uninterrupted run`);
  }
});
