/**
 * The model against hand-computed numbers (Algorithm 1), finite differences and tfjs autodiff
 * (backward pass), and a direct host computation of Algorithm 2's population statistics.
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { registerReferenceGradients } from '../src/model/autodiff-gradients.js';
import { backward } from '../src/model/backward.js';
import { forwardInference, forwardTrain, softmaxCrossEntropy } from '../src/model/forward.js';
import { createNet, disposeNet, netVariables, type Net } from '../src/model/net.js';
import { populationStats } from '../src/model/population.js';
import { Rng } from '../src/core/random.js';
import { assertClose, assertMatchesFiniteDifferences, useTestBackend, valuesOf } from './helpers.js';
import { smallProblem as sharedProblem } from './net-fixtures.js';

before(useTestBackend);

test('BN forward matches hand-computed Algorithm 1 values', () => {
  // One input, one BN unit with w = 1, so z = x = [1, 2, 3, 4]: mean 2.5, biased variance 1.25.
  // With eps = 0.75, 1/sqrt(var + eps) = 1/sqrt(2); gamma = 2, beta = 0.5 give
  // y = 2 * (x - 2.5) / sqrt(2) + 0.5 = [-1.62132, -0.20711, 1.20711, 2.62132].
  const net = createNet({ inputSize: 1, hiddenUnits: [1], classes: 2 }, { bn: true, initStd: 1, epsilon: 0.75 }, Rng.stream(0, 't'));
  net.hidden[0].w.assign(tf.tensor2d([[1]]));
  net.hidden[0].gamma!.assign(tf.tensor1d([2]));
  net.hidden[0].beta!.assign(tf.tensor1d([0.5]));
  tf.tidy(() => {
    const layer = forwardTrain(net, tf.tensor2d([[1], [2], [3], [4]]), { keepPre: true }).layers[0];
    const want = [-1.6213203, -0.2071068, 1.2071068, 2.6213203];
    valuesOf(layer.pre!).forEach((v, i) => assertClose(v, want[i], 1e-5, `y[${i}]`));
    valuesOf(layer.act).forEach((v, i) => assertClose(v, 1 / (1 + Math.exp(-want[i])), 1e-6, `sigmoid(y[${i}])`));
    assertClose(valuesOf(layer.mean!)[0], 2.5, 1e-6, 'batch mean');
    assertClose(valuesOf(layer.variance!)[0], 1.25, 1e-6, 'biased batch variance');
    // Inference with fixed statistics (mean 2, variance 1.25) is the same affine map per example.
    const logitsStats = { mean: [tf.tensor1d([2])], variance: [tf.tensor1d([1.25])] };
    const inf = forwardInference(net, tf.tensor2d([[3]]), logitsStats);
    const h = 1 / (1 + Math.exp(-((2 * (3 - 2)) / Math.sqrt(2) + 0.5)));
    const w = valuesOf(net.out.w);
    assertClose(valuesOf(inf)[0], h * w[0], 1e-5, 'inference logit 0');
  });
  disposeNet(net);
});

test("the transposed first-layer product (the SGD step's path) equals the plain one", () => {
  for (const bn of [false, true]) {
    const net = createNet({ inputSize: 6, hiddenUnits: [5, 4], classes: 3 }, { bn, initStd: 0.8, epsilon: 1e-3 }, Rng.stream(4, 'init'));
    tf.tidy(() => {
      const x = tf.randomNormal([8, 6], 0, 1, 'float32', 9) as tf.Tensor2D;
      const plain = valuesOf(forwardTrain(net, x).logits);
      const viaT = valuesOf(forwardTrain(net, x, { inputT: tf.transpose(x) }).logits);
      plain.forEach((v, i) => assertClose(viaT[i], v, 1e-5, `${bn ? 'BN' : 'baseline'} logit ${i}`));
    });
    disposeNet(net);
  }
});

function lossOf(net: Net, x: tf.Tensor2D, y: tf.Tensor2D): number {
  return tf.tidy(() => softmaxCrossEntropy(forwardTrain(net, x).logits, y).loss.dataSync()[0]);
}

function smallProblem(bn: boolean) {
  const { net, x, y } = sharedProblem(bn, { init: 11, data: 12 });
  // Give gamma and beta non-trivial values so their gradients are exercised away from 1 and 0.
  for (const layer of net.hidden) {
    layer.gamma?.assign(tf.add(1, tf.mul(0.3, tf.randomNormal(layer.gamma.shape, 0, 1, 'float32', 5))));
    layer.beta?.assign(tf.mul(0.3, tf.randomNormal(layer.beta.shape, 0, 1, 'float32', 6)));
  }
  return { net, x, y };
}

for (const bn of [false, true]) {
  const name = bn ? 'BN' : 'baseline';

  test(`${name} backward matches central finite differences for every parameter`, () => {
    const { net, x, y } = smallProblem(bn);
    const grads = tf.tidy(() => {
      const fwd = forwardTrain(net, x);
      const g = backward(net, fwd, softmaxCrossEntropy(fwd.logits, y).dLogits, tf.transpose(x));
      const flat = g.hidden.flatMap((l) => [l.w, l.b, l.gamma, l.beta].filter((t) => t !== undefined));
      return [...flat, g.out.w, g.out.b].map((t) => valuesOf(t as tf.Tensor));
    });
    const vars = netVariables(net);
    assert.equal(grads.length, vars.length);
    let checked = 0;
    vars.forEach((v, vi) => {
      checked += assertMatchesFiniteDifferences(v, grads[vi], () => lossOf(net, x, y), `${name} ${v.name}`);
    });
    // 6x5 + 5x4 + 4x3 weights, plus b (baseline) or gamma and beta (BN) per hidden layer, plus 3 output biases.
    assert.equal(checked, bn ? 62 + 2 * 9 + 3 : 62 + 9 + 3);
    disposeNet(net);
    tf.dispose([x, y]);
  });

  test(`${name} backward matches tfjs autodiff to float precision`, () => {
    registerReferenceGradients();
    const { net, x, y } = smallProblem(bn);
    const vars = netVariables(net);
    tf.tidy(() => {
      const fwd = forwardTrain(net, x);
      const g = backward(net, fwd, softmaxCrossEntropy(fwd.logits, y).dLogits);
      const ours = [...g.hidden.flatMap((l) => [l.w, l.b, l.gamma, l.beta].filter((t) => t !== undefined)), g.out.w, g.out.b];
      const auto = tf.variableGrads(() => softmaxCrossEntropy(forwardTrain(net, x).logits, y).loss, vars).grads;
      vars.forEach((v, i) => {
        const a = valuesOf(auto[v.name]);
        valuesOf(ours[i] as tf.Tensor).forEach((gv, j) => assertClose(gv, a[j], 1e-5 + 1e-4 * Math.abs(a[j]), `${v.name}[${j}]`));
      });
    });
    disposeNet(net);
    tf.dispose([x, y]);
  });
}

test('Algorithm 2 population statistics equal a direct computation over the mini-batches', () => {
  const net = createNet({ inputSize: 3, hiddenUnits: [2, 2], classes: 2 }, { bn: true, initStd: 1, epsilon: 1e-3 }, Rng.stream(2, 'init'));
  const r = Rng.stream(3, 'batches');
  const K = 3;
  const m = 4;
  const batches = Array.from({ length: K }, () => Array.from({ length: m }, () => [r.normal(), r.normal(), r.normal()]));
  const W1 = tf.tidy(() => net.hidden[0].w.arraySync() as number[][]);
  const W2 = tf.tidy(() => net.hidden[1].w.arraySync() as number[][]);
  const eps = 1e-3;
  // Direct computation in float64: layer-1 stats of xW1; layer-2 stats of sigmoid(BN(xW1)) W2.
  const matmul = (a: number[][], b: number[][]) => a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
  const moments = (z: number[][]) => {
    const mean = z[0].map((_, j) => z.reduce((s, row) => s + row[j], 0) / z.length);
    const variance = z[0].map((_, j) => z.reduce((s, row) => s + (row[j] - mean[j]) ** 2, 0) / z.length);
    return { mean, variance };
  };
  const sums = [0, 1].map(() => ({ mean: [0, 0], variance: [0, 0] }));
  for (const b of batches) {
    const z1 = matmul(b, W1);
    const m1 = moments(z1);
    const a1 = z1.map((row) => row.map((v, j) => 1 / (1 + Math.exp(-(v - m1.mean[j]) / Math.sqrt(m1.variance[j] + eps)))));
    const m2 = moments(matmul(a1, W2));
    [m1, m2].forEach((mo, l) =>
      mo.mean.forEach((_, j) => {
        sums[l].mean[j] += mo.mean[j];
        sums[l].variance[j] += mo.variance[j];
      }),
    );
  }
  const stats = populationStats(net, K, (k) => tf.tensor2d(batches[k]));
  for (let l = 0; l < 2; l++) {
    valuesOf(stats.mean[l]).forEach((v, j) => assertClose(v, sums[l].mean[j] / K, 1e-5, `E[x] layer ${l} unit ${j}`));
    valuesOf(stats.variance[l]).forEach((v, j) => assertClose(v, ((m / (m - 1)) * sums[l].variance[j]) / K, 1e-5, `Var[x] layer ${l} unit ${j}`));
  }
  tf.dispose([...stats.mean, ...stats.variance]);
  disposeNet(net);
});
