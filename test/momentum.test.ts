/**
 * Momentum SGD (train.momentum, issue 20 item 4): two steps of v <- mu * v + lr * g, p <- p - v
 * on a net of one input, one sigmoid unit and two classes, worked out by hand, on the tfjs step
 * and on the ONNX step graph; and the key's validation. Training with momentum (engines agreeing,
 * checkpoints and resume) is in momentum-train.test.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULTS, type ResolvedConfig } from '../src/config/config.js';
import { applyOverrides } from '../src/config/resolve.js';
import { loadOrt, sessionOptions } from '../src/engines/ort/runtime.js';
import { NEXT, stepModel, velocityName } from '../src/engines/ort/step-graph.js';
import { UsageError } from '../src/core/errors.js';
import { createVelocity } from '../src/model/momentum.js';
import { netVariables, variable, type Net } from '../src/model/net.js';
import { sgdStep } from '../src/model/sgd.js';
import { assertRefused, runCli, tempDir, useTestBackend } from './helpers.js';

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
  const velocity = createVelocity(netVariables(net), MU);
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
