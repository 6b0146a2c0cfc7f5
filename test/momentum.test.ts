/**
 * Momentum SGD (train.momentum, issue 20 item 4): two steps of v <- mu * v + lr * g, p <- p - v
 * on a net of one input, one sigmoid unit and two classes, worked out by hand, on the tfjs step
 * and on the ONNX step graph; the ORT engine's rows against tfjs wasm with momentum 0.9; the
 * velocity in checkpoints, so that a run stopped and resumed gives the rows of one that never
 * stopped, on both engines and through the checkpoint file after a SIGKILL; momentum 0 builds no
 * velocity; and the key's validation.
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { initBackend } from '../src/backend.js';
import { applyOverrides, DEFAULTS, type ResolvedConfig } from '../src/config.js';
import { loadDataset } from '../src/data/load.js';
import { loadOrt, sessionOptions } from '../src/engines/ort/runtime.js';
import { NEXT, stepModel, velocityName } from '../src/engines/ort/step-graph.js';
import { UsageError } from '../src/errors.js';
import { silentLogger } from '../src/logger.js';
import { createVelocity } from '../src/model/momentum.js';
import { variable, type Net } from '../src/model/net.js';
import { sgdStep } from '../src/model/sgd.js';
import type { RunCheckpoint } from '../src/run/checkpoint.js';
import { MemoryRecorder } from '../src/run/records.js';
import { trainRun } from '../src/run/train.js';
import { assertRefused, readCsv, runCli, settle, start, tempDir, testConfig, useTestBackend, waitForCheckpoint } from './helpers.js';

const LR = 0.4;
const MU = 0.9;

/**
 * By hand, with every parameter 0, x = 1, label 0, batch of one. Step 1: h = sigmoid(0) = 1/2,
 * logits 0, p = (1/2, 1/2), lr * dlogits = lr * (p - y) = lr * (-1/2, 1/2); out.w's step is
 * h times that, out.b's that, and the hidden unit's 0 (out.w is 0). v1 = step 1, p1 = -v1.
 * Step 2: h = 1/2 still; logits = h * out.w + out.b = lr * (5/8, -5/8); p0 = sigmoid(lr * 5/4);
 * d = lr * (1 - p0), lr * dlogits = (-d, d); out.w's step (-d/2, d/2), out.b's (-d, d); back to
 * the unit: dh = -d * out.w0 + d * out.w1 = -d * lr / 2, times sigmoid' = 1/4 gives the unit's
 * step -lr * d / 8 for both w and b. v2 = mu * v1 + step 2, p2 = p1 - v2.
 */
function handComputed() {
  const p0 = 1 / (1 + Math.exp(-LR * 1.25));
  const d = LR * (1 - p0);
  const v1 = { hw: 0, hb: 0, ow: [-LR / 4, LR / 4], ob: [-LR / 2, LR / 2] };
  const p1 = { hw: 0, hb: 0, ow: [LR / 4, -LR / 4], ob: [LR / 2, -LR / 2] };
  const v2 = {
    hw: -(LR * d) / 8,
    hb: -(LR * d) / 8,
    ow: [MU * v1.ow[0] - d / 2, MU * v1.ow[1] + d / 2],
    ob: [MU * v1.ob[0] - d, MU * v1.ob[1] + d],
  };
  return {
    v2,
    p2: { hw: p1.hw - v2.hw, hb: p1.hb - v2.hb, ow: [p1.ow[0] - v2.ow[0], p1.ow[1] - v2.ow[1]], ob: [p1.ob[0] - v2.ob[0], p1.ob[1] - v2.ob[1]] },
  };
}

const close = (actual: ArrayLike<number>, expected: number[], what: string) => {
  assert.equal(actual.length, expected.length, what);
  expected.forEach((e, i) => assert.ok(Math.abs(actual[i] - e) <= 1e-6, `${what}[${i}]: ${actual[i]} vs ${e}`));
};

test('tfjs: two momentum steps on a one-unit net give the hand-computed velocity and parameters', async () => {
  await useTestBackend();
  const net: Net = {
    bn: false,
    epsilon: 1e-3,
    hidden: [{ w: variable(tf.zeros([1, 1])), b: variable(tf.zeros([1])) }],
    out: { w: variable(tf.zeros([1, 2])), b: variable(tf.zeros([2])) },
  };
  const velocity = createVelocity(net, MU);
  const batch = { x: tf.tensor2d([[1]]), xT: tf.tensor2d([[1]]), y: tf.tensor2d([[1, 0]]) };
  const sum = variable(tf.scalar(0));
  sgdStep(net, batch, LR, sum, undefined, velocity);
  sgdStep(net, batch, LR, sum, undefined, velocity);
  const { v2, p2 } = handComputed();
  const [vw, vb, vow, vob] = velocity.values.map((v) => Array.from(v.dataSync()));
  close(vw, [v2.hw], 'velocity h0.w');
  close(vb, [v2.hb], 'velocity h0.b');
  close(vow, v2.ow, 'velocity out.w');
  close(vob, v2.ob, 'velocity out.b');
  close(net.hidden[0].w.dataSync(), [p2.hw], 'h0.w');
  close(net.hidden[0].b!.dataSync(), [p2.hb], 'h0.b');
  close(net.out.w.dataSync(), p2.ow, 'out.w');
  close(net.out.b.dataSync(), p2.ob, 'out.b');
  // Not plain SGD's second step, which would move out.b by lr * dlogits alone, -(-d, d): the carry mu * v1 is there.
  const d = LR * (1 - 1 / (1 + Math.exp(-LR * 1.25)));
  assert.ok(Math.abs(vob[0] - -d) > 0.1, `velocity out.b ${vob[0]} vs plain ${-d}`);
});

test('ONNX step graph: the same two momentum steps give the same hand-computed values', async () => {
  const ort = await loadOrt();
  const spec = { inputSize: 1, hiddenUnits: [1], classes: 2, bn: false, epsilon: 1e-3, batchSize: 1, learningRate: LR, sgdMomentum: MU };
  const session = await ort.InferenceSession.create(stepModel(spec), sessionOptions('cpu'));
  const f32 = (values: number[], dims: number[]) => new ort.Tensor('float32', Float32Array.from(values), dims);
  const dims: Record<string, number[]> = { 'h0.w': [1, 1], 'h0.b': [1], 'out.w': [1, 2], 'out.b': [2] };
  let state: Record<string, ReturnType<typeof f32>> = { lossSum: f32([0], []) };
  for (const [name, d] of Object.entries(dims)) {
    state[name] = f32(new Array(d.reduce((a, b) => a * b)).fill(0), d);
    state[velocityName(name)] = f32(new Array(d.reduce((a, b) => a * b)).fill(0), d);
  }
  for (let step = 0; step < 2; step++) {
    const out = await session.run({ ...state, x: f32([1], [1, 1]), y: f32([1, 0], [1, 2]) });
    state = Object.fromEntries(Object.keys(state).map((name) => [name, out[NEXT + name] as ReturnType<typeof f32>]));
  }
  const { v2, p2 } = handComputed();
  const values = (name: string) => state[name].data as Float32Array;
  close(values(velocityName('h0.w')), [v2.hw], 'velocity h0.w');
  close(values(velocityName('out.w')), v2.ow, 'velocity out.w');
  close(values(velocityName('out.b')), v2.ob, 'velocity out.b');
  close(values('h0.w'), [p2.hw], 'h0.w');
  close(values('h0.b'), [p2.hb], 'h0.b');
  close(values('out.w'), p2.ow, 'out.w');
  close(values('out.b'), p2.ob, 'out.b');
  await session.release();
});

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
  // And momentum is really on: the rows differ from plain SGD's at the same learning rate.
  const plain = await train('ort-cpu', tiny(1000, 100, { train: { steps: 1000, checkpointEvery: 0, momentum: 0, learningRate: 0.02 } }));
  assert.notEqual(onnx.evals.at(-1)!.testLoss, plain.evals.at(-1)!.testLoss);
});

for (const backend of ['wasm', 'ort-cpu'] as const) {
  test(`${backend}: a momentum run stopped at a checkpoint and resumed gives the rows of one that never stopped`, async () => {
    const cfg = tiny(400, 100);
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

test('train.momentum outside [0, 1) or not a number is one sentence naming the key', () => {
  for (const bad of [1, -0.1, 1.5, '0.9', null]) {
    const sentence = `x.json: config key "train.momentum" must be a number in [0, 1) (got ${JSON.stringify(bad)}).`;
    assert.throws(
      () => applyOverrides(structuredClone(DEFAULTS) as ResolvedConfig, { train: { momentum: bad } }, 'x.json'),
      (err: Error) => err instanceof UsageError && err.message === sentence,
      sentence,
    );
  }
  assert.equal(applyOverrides(structuredClone(DEFAULTS) as ResolvedConfig, { train: { momentum: 0.99 } }, 'x.json').train.momentum, 0.99);
});

test('the CLI refuses momentum 1 with exit 2, one error line, and writes no folder', () => {
  const dir = tempDir();
  const file = join(dir, 'mu1.json');
  writeFileSync(file, JSON.stringify({ train: { momentum: 1 } }));
  const out = join(dir, 'out');
  const r = runCli(['mnist', '--config', file, '--data', 'embedded', '--steps', '1', '--out', out]);
  assertRefused(r, 2, /config key "train\.momentum" must be a number in \[0, 1\) \(got 1\)\./);
  assert.equal(existsSync(out), false);
});

test('CLI, momentum 0.9: SIGKILL after a checkpoint, then --resume: the velocity comes back from disk and the rows equal an uninterrupted run', async () => {
  const dir = tempDir();
  const file = join(dir, 'momentum.json');
  writeFileSync(
    file,
    JSON.stringify({
      train: { steps: 1200, checkpointEvery: 200, momentum: MU, learningRate: 0.02 },
      eval: { every: 200, probeSize: 200 },
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
    await waitForCheckpoint(join(out, 'checkpoints', 'bn-seed0.json'), 400);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  });
  const saved = JSON.parse(readFileSync(join(out, 'checkpoints', 'bn-seed0.json'), 'utf8'));
  assert.equal(saved.velocity?.length, saved.params.length, 'the checkpoint file holds the velocity');
  const r = runCli(['mnist', '--resume', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /resuming bn seed 0 from step \d+/);
  const rows = (d: string, f: string) =>
    readCsv(join(d, f))
      .rows.map(({ elapsed_s: _t, ...row }) => JSON.stringify(row))
      .sort();
  for (const f of ['accuracy.csv', 'activations.csv']) {
    assert.ok(rows(reference, f).length >= 14, f);
    assert.deepEqual(rows(out, f), rows(reference, f), `${f} differs from the uninterrupted run`);
  }
});
