/**
 * The Santurkar et al. (2018) measurements on the CNN (issue 20), against values computed apart
 * from the code under test: the batch's gradient and the gradients at hand-shifted parameters come
 * from tfjs autodiff through the gather-based reference forward (conv-forward.ts `reference`), the
 * shifts are done on the host, and the losses at theta - eta g are plain forward passes of a net
 * whose variables hold the shifted values. On wasm and cpu; BN and baseline.
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Activation, ConvLayerSpec } from '../src/config/config.js';
import { planCnn } from '../src/config/conv-shapes.js';
import { Rng } from '../src/core/random.js';
import { registerReferenceGradients } from '../src/model/autodiff-gradients.js';
import { convForwardTrain } from '../src/model/conv-forward.js';
import { convNetVariables, createConvNet, disposeConvNet, type ConvNet } from '../src/model/conv-net.js';
import { softmaxCrossEntropy } from '../src/model/forward.js';
import { gradTensors, lossAndGrads, shiftedNet, weightGrad, weightLayerCount } from '../src/model/gradients.js';
import { measureIcs } from '../src/training/measure/ics.js';
import { measureLandscape } from '../src/training/measure/landscape.js';
import { cosine, distance, norm } from '../src/training/measure/vectors.js';
import { assertClose, useTestBackend, valuesOf } from './helpers.js';

before(useTestBackend);
after(() => tf.setBackend(process.env.BN_REPRO_TEST_BACKEND ?? 'wasm'));

/** 8x8 image, conv 3x3 of 2 maps, pool 2, conv 2x2 of 3 maps, 4 hidden units, 3 classes: weight layers conv 1, conv 2, hidden 1, output. */
const LAYERS: ConvLayerSpec[] = [
  { type: 'conv', kernel: 3, maps: 2 },
  { type: 'pool', size: 2 },
  { type: 'conv', kernel: 2, maps: 3 },
];

function tinyNet(bn: boolean, activation: Activation): ConvNet {
  const plan = planCnn(LAYERS, [8, 8, 1]);
  if (typeof plan === 'string') throw new Error(plan);
  return createConvNet(plan, [4], 3, { bn, initStd: 0.5, epsilon: 1e-3, activation }, Rng.stream(7, 'init'));
}

/** The net with non-trivial gamma, beta and biases (every BN term exercised) and a batch of 6. */
function tinyProblem(bn: boolean, activation: Activation) {
  const net = tinyNet(bn, activation);
  const r = Rng.stream(8, 'data');
  for (const v of convNetVariables(net)) {
    if (v.shape.length === 1) tf.tidy(() => v.assign(tf.add(v, tf.tensor1d(Array.from({ length: v.size }, () => 0.3 * r.normal())))));
  }
  const x = tf.tensor2d(
    Float32Array.from({ length: 6 * 64 }, () => r.uniform()),
    [6, 64],
  );
  const y = tf.cast(tf.oneHot(tf.tensor1d([0, 1, 2, 1, 0, 2], 'int32'), 3), 'float32') as tf.Tensor2D;
  return { net, x, y };
}

/** Index of each weight layer's w in convNetVariables' order, and which variables belong to weight layer k. */
function layerOfVariable(net: ConvNet): number[] {
  const perLayer = [...net.stages.flatMap((s) => (s.type === 'conv' ? [s] : [])), ...net.hidden, net.out];
  return perLayer.flatMap((l, k) =>
    [l.w, 'b' in l ? l.b : undefined, 'gamma' in l ? l.gamma : undefined, 'beta' in l ? l.beta : undefined].filter((v) => v !== undefined).map(() => k),
  );
}

/** Reference gradients of every variable at the net's current values: tfjs autodiff through the gather-based forward. */
function autodiffGrads(net: ConvNet, x: tf.Tensor2D, y: tf.Tensor2D): Float32Array[] {
  const vars = convNetVariables(net);
  return tf.tidy(() => {
    const g = tf.variableGrads(() => softmaxCrossEntropy(convForwardTrain(net, x, { reference: true }).logits, y).loss, vars).grads;
    return vars.map((v) => Float32Array.from(g[v.name].dataSync()));
  });
}

/** Assigns theta - eta * g (host arithmetic) to the variables `moves` picks; returns a function that restores theta. */
function shiftByHand(net: ConvNet, g: Float32Array[], eta: number, moves: (layer: number) => boolean): () => void {
  const vars = convNetVariables(net);
  const theta = vars.map((v) => Float32Array.from(v.dataSync()));
  const layerOf = layerOfVariable(net);
  vars.forEach((v, i) => {
    if (moves(layerOf[i]))
      tf.tidy(() =>
        v.assign(
          tf.tensor(
            theta[i].map((t, j) => t - eta * g[i][j]),
            v.shape,
          ),
        ),
      );
  });
  return () => vars.forEach((v, i) => tf.tidy(() => v.assign(tf.tensor(theta[i], v.shape))));
}

const weightIndex = (net: ConvNet, layer: number) => layerOfVariable(net).indexOf(layer);

for (const backend of ['wasm', 'cpu']) {
  for (const bn of [false, true]) {
    const name = `${backend} ${bn ? 'BN' : 'baseline'}`;

    test(`${name}: the CNN's G' (weight layers 1-3, after the earlier layers' SGD step) matches autodiff at hand-shifted weights`, async () => {
      await tf.setBackend(backend);
      registerReferenceGradients();
      const { net, x, y } = tinyProblem(bn, 'sigmoid');
      const lr = 0.5;
      assert.equal(weightLayerCount(net), 4);
      const g = autodiffGrads(net, x, y);
      const ics = await measureIcs(net, x, y, lr);
      assert.deepEqual(
        ics.map((r) => r.layer),
        [0, 1, 2, 3],
      );
      assert.deepEqual([ics[0].l2, ics[0].cosine], [0, 1], 'conv 1 has no earlier layer');
      for (const layer of [1, 2, 3]) {
        const ours = tf.tidy(() =>
          valuesOf(
            weightGrad(
              lossAndGrads(
                shiftedNet(net, lossAndGrads(net, x, y).grads, lr, (j) => j < layer),
                x,
                y,
              ).grads,
              layer,
            ),
          ),
        );
        const restore = shiftByHand(net, g, lr, (j) => j < layer);
        const shifted = autodiffGrads(net, x, y)[weightIndex(net, layer)];
        restore();
        ours.forEach((v, j) => assertClose(v, shifted[j], 1e-5 + 1e-4 * Math.abs(shifted[j]), `${name} layer ${layer} G'[${j}]`));
        const before = [g[weightIndex(net, layer)]];
        const expectedL2 = distance(before, [shifted]);
        assert.ok(expectedL2 > 1e-3 * norm(before), `layer ${layer}: the shift moves G (${expectedL2})`);
        assertClose(ics[layer].l2, expectedL2, 1e-3 * expectedL2, `${name} layer ${layer} ||G - G'||`);
        assertClose(ics[layer].cosine, cosine(before, [shifted]), 1e-4, `${name} layer ${layer} cos`);
      }
      disposeConvNet(net);
      tf.dispose([x, y]);
    });

    test(`${name}: with learning rate 0 every layer's ICS is exactly 0 (cosine 1); the net is left untouched`, async () => {
      await tf.setBackend(backend);
      const { net, x, y } = tinyProblem(bn, 'relu');
      const theta = convNetVariables(net).map(valuesOf);
      const ics = await measureIcs(net, x, y, 0);
      assert.deepEqual(
        ics.map((r) => [r.layer, r.l2, r.cosine]),
        [0, 1, 2, 3].map((l) => [l, 0, 1]),
      );
      // With a real step: some layer's G' moves, and still no variable is assigned.
      const moved = await measureIcs(net, x, y, 0.5);
      assert.ok(
        moved.slice(1).every((r) => r.l2 > 0 && r.cosine < 1),
        JSON.stringify(moved),
      );
      assert.deepEqual(convNetVariables(net).map(valuesOf), theta);
      disposeConvNet(net);
      tf.dispose([x, y]);
    });

    test(`${name}: the landscape's loss range, gradient change and beta-smoothness match direct computations at theta - eta g`, async () => {
      await tf.setBackend(backend);
      registerReferenceGradients();
      const { net, x, y } = tinyProblem(bn, 'sigmoid');
      const etas = [0.05, 0.5, 2];
      const g = autodiffGrads(net, x, y);
      const losses: number[] = [];
      let change = 0;
      let beta = 0;
      for (const eta of etas) {
        const restore = shiftByHand(net, g, eta, () => true);
        losses.push(tf.tidy(() => softmaxCrossEntropy(convForwardTrain(net, x, { reference: true }).logits, y).loss.dataSync()[0]));
        const d = distance(g, autodiffGrads(net, x, y));
        restore();
        change = Math.max(change, d);
        beta = Math.max(beta, d / (eta * norm(g)));
      }
      // The losses differ across step sizes, so min and max are two different points.
      assert.ok(Math.max(...losses) - Math.min(...losses) > 1e-2, JSON.stringify(losses));
      const p = await measureLandscape(net, x, y, etas);
      assertClose(p.lossMin, Math.min(...losses), 1e-5, `${name} lossMin`);
      assertClose(p.lossMax, Math.max(...losses), 1e-5, `${name} lossMax`);
      assertClose(p.gradChangeMax, change, 1e-3 * change, `${name} gradChangeMax`);
      assertClose(p.betaSmoothness, beta, 1e-3 * beta, `${name} betaSmoothness`);
      // Over every parameter: conv and hidden w and b (or gamma and beta), the output layer.
      const counts = tf.tidy(() => gradTensors(lossAndGrads(net, x, y).grads).map((t) => t.size));
      assert.deepEqual(
        counts,
        convNetVariables(net).map((v) => v.size),
      );
      disposeConvNet(net);
      tf.dispose([x, y]);
    });
  }
}

test('the CNN measurements release every tensor they made, measurement after measurement', async () => {
  await tf.setBackend('wasm');
  const { net, x, y } = tinyProblem(true, 'relu');
  const measure = async () => {
    await measureIcs(net, x, y, 0.3);
    await measureLandscape(net, x, y, [0.15, 0.3, 0.6]);
  };
  // The first measurement may cache im2col indices on the net's stages (kept until disposeConvNet).
  await measure();
  const count = tf.memory().numTensors;
  await measure();
  await measure();
  assert.equal(tf.memory().numTensors, count);
  disposeConvNet(net);
  tf.dispose([x, y]);
});
