/**
 * Momentum SGD on the CNN (train.momentum > 0 with model.kind "cnn", issue 20: "everything the
 * MLP has works for the CNN"): two steps of v <- mu * v + lr * g, p <- p - v (momentum.ts's
 * convention) on a tiny CNN against a scalar chain rule worked out here, and a CLI run killed
 * after a checkpoint and resumed giving the rows of one that never stopped (the velocity comes
 * back from the checkpoint file).
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { planCnn, type CnnPlan } from '../src/config/conv-shapes.js';
import { createConvNet, convNetVariables } from '../src/model/conv-net.js';
import { convSgdStep } from '../src/model/conv-train.js';
import { createVelocity } from '../src/model/momentum.js';
import { variable } from '../src/model/net.js';
import { Rng } from '../src/core/random.js';
import { runCli, settle, start, tempDir, timelessRows, useTestBackend, waitForCheckpoint } from './helpers.js';
import { TINY_CNN_MODEL } from './net-fixtures.js';

const LR = 0.5;
const MU = 0.9;
/** One 3x3 image (row-major), label 0 of two classes. */
const X = [0.1, 0.9, 0.3, 0.7, 0.2, 0.8, 0.4, 0.6, 0.5];
/** Starting values, in convNetVariables' order: conv w (2x2 patch, one map), conv b, hidden w (4 locations), hidden b, out w, out b. */
const START = { cw: [0.3, -0.2, 0.1, 0.4], cb: 0.05, hw: [0.5, -0.4, 0.3, 0.2], hb: -0.1, ow: [0.6, -0.3], ob: [0.1, -0.1] };
type Params = typeof START;

const sig = (z: number) => 1 / (1 + Math.exp(-z));
/** The 2x2 patch at output location l (row-major over the 2x2 output), in (dy, dx) order. */
const patch = (l: number) => {
  const [r, c] = [Math.floor(l / 2), l % 2];
  return [X[r * 3 + c], X[r * 3 + c + 1], X[(r + 1) * 3 + c], X[(r + 1) * 3 + c + 1]];
};

/**
 * lr * dLoss/dp of the net conv(2x2, 1 map) -> sigmoid -> 4 values -> dense(1) -> sigmoid ->
 * dense(2) -> softmax cross-entropy, for one example, by the chain rule on scalars:
 * c_l = s(w.patch_l + b), h = s(sum_l hw_l c_l + hb), logits = h ow + ob, dlogits = lr (p - y);
 * dow = h dlogits, dob = dlogits, dz = (dlogits . ow) h (1 - h), dhw_l = c_l dz, dhb = dz,
 * dpre_l = hw_l dz c_l (1 - c_l), dcw = sum_l dpre_l patch_l, dcb = sum_l dpre_l.
 */
function steps(p: Params): Params {
  const pre = [0, 1, 2, 3].map((l) => patch(l).reduce((s, x, j) => s + x * p.cw[j], p.cb));
  const c = pre.map(sig);
  const h = sig(c.reduce((s, v, l) => s + v * p.hw[l], p.hb));
  const logits = p.ow.map((w, k) => h * w + p.ob[k]);
  const e = logits.map((z) => Math.exp(z - Math.max(...logits)));
  const dlogits = e.map((v, k) => LR * (v / (e[0] + e[1]) - (k === 0 ? 1 : 0)));
  const dz = (dlogits[0] * p.ow[0] + dlogits[1] * p.ow[1]) * h * (1 - h);
  const dpre = c.map((v, l) => p.hw[l] * dz * v * (1 - v));
  return {
    cw: [0, 1, 2, 3].map((j) => dpre.reduce((s, d, l) => s + d * patch(l)[j], 0)),
    cb: dpre.reduce((s, d) => s + d, 0),
    hw: c.map((v) => v * dz),
    hb: dz,
    ow: dlogits.map((d) => h * d),
    ob: dlogits,
  };
}

const flat = (p: Params) => [...p.cw, p.cb, ...p.hw, p.hb, ...p.ow, ...p.ob];
const unflat = (v: number[]): Params => ({ cw: v.slice(0, 4), cb: v[4], hw: v.slice(5, 9), hb: v[9], ow: v.slice(10, 12), ob: v.slice(12, 14) });

/** Two momentum steps by hand: v1 = s(p0), p1 = p0 - v1; v2 = mu v1 + s(p1), p2 = p1 - v2. */
function handComputed(): { v2: number[]; p2: number[]; plainP2: number[] } {
  const p0 = flat(START);
  const v1 = flat(steps(START));
  const p1 = p0.map((x, i) => x - v1[i]);
  const s2 = flat(steps(unflat(p1)));
  const v2 = v1.map((v, i) => MU * v + s2[i]);
  return { v2, p2: p1.map((x, i) => x - v2[i]), plainP2: p1.map((x, i) => x - s2[i]) };
}

test('tfjs CNN: two momentum steps give the hand-computed velocity and parameters of every conv, hidden and output variable', async () => {
  await useTestBackend();
  const plan = planCnn([{ type: 'conv', kernel: 2, maps: 1 }], [3, 3, 1]) as CnnPlan;
  const net = createConvNet(plan, [1], 2, { bn: false, initStd: 0.1, epsilon: 1e-3, activation: 'sigmoid' }, Rng.stream(0, 'init'));
  const vars = convNetVariables(net);
  assert.deepEqual(
    vars.map((v) => v.size),
    [4, 1, 4, 1, 2, 2],
  );
  let at = 0;
  for (const v of vars) {
    const values = flat(START).slice(at, at + v.size);
    at += v.size;
    tf.tidy(() => v.assign(tf.tensor(values, v.shape)));
  }
  const velocity = createVelocity(vars, MU);
  const batch = { x: tf.tensor2d([X]), xT: tf.tensor2d(X, [9, 1]), y: tf.tensor2d([[1, 0]]) };
  const sum = variable(tf.scalar(0));
  convSgdStep(net, batch, LR, sum, undefined, velocity);
  convSgdStep(net, batch, LR, sum, undefined, velocity);
  const { v2, p2, plainP2 } = handComputed();
  const got = (ts: tf.Tensor[]) => ts.flatMap((t) => Array.from(t.dataSync()));
  const check = (actual: number[], expected: number[], what: string) =>
    expected.forEach((e, i) => assert.ok(Math.abs(actual[i] - e) <= 1e-6, `${what}[${i}]: ${actual[i]} vs ${e}`));
  check(got(velocity.values), v2, 'velocity');
  check(got(vars), p2, 'parameters');
  // Every variable moved by the carry mu * v1: plain SGD's second step would land elsewhere on each.
  for (const [i, e] of plainP2.entries()) assert.ok(Math.abs(got(vars)[i] - e) > 1e-5, `parameter ${i} shows no momentum`);
  tf.dispose([batch.x, batch.xT, batch.y, sum, ...velocity.values, ...vars]);
});

test('CLI, CNN with momentum 0.9: SIGKILL after a checkpoint, then --resume: the velocity comes back from disk and the rows equal an uninterrupted run', async () => {
  const dir = tempDir();
  const file = join(dir, 'cnn-momentum.json');
  writeFileSync(
    file,
    JSON.stringify({
      model: TINY_CNN_MODEL,
      train: { steps: 300, batchSize: 20, checkpointEvery: 50, momentum: MU, learningRate: 0.02 },
      eval: { every: 100, probeSize: 100, units: [0, 1] },
      batchNorm: { populationBatches: 2 },
      data: { source: 'embedded', trainSubset: 400, testSubset: 100 },
    }),
  );
  const args = (out: string) => ['mnist', '--config', file, '--bn', 'on', '--jobs', '1', '--out', out, '--quiet'];
  const reference = join(dir, 'reference');
  const whole = runCli(args(reference));
  assert.equal(whole.code, 0, whole.stderr);
  const out = join(dir, 'killed');
  const child = start(args(out), 'ignore');
  const checkpoint = join(out, 'checkpoints', 'bn-seed0.json');
  await settle(child, async () => {
    await waitForCheckpoint(checkpoint, 50);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  });
  const saved = JSON.parse(readFileSync(checkpoint, 'utf8'));
  assert.ok(saved.step >= 50 && saved.step < 300, `killed mid-way, at step ${saved.step}`);
  assert.equal(saved.velocity?.length, saved.params.length, 'the checkpoint file holds one velocity per parameter');
  assert.ok(
    saved.velocity.some((v: string) => Buffer.from(v, 'base64').some((b) => b !== 0)),
    'the saved velocity is not zero',
  );
  const r = runCli(['mnist', '--resume', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /resuming bn seed 0 from step [1-9]\d*/);
  for (const f of ['accuracy.csv', 'activations.csv']) {
    assert.ok(timelessRows(reference, f).length >= 4, f);
    assert.deepEqual(timelessRows(out, f), timelessRows(reference, f), `${f} differs from the uninterrupted run`);
  }
});
