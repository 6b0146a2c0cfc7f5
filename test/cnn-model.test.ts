/**
 * The CNN's model math (src/model/conv-*.ts): a hand-computed conv / BN-per-map / ReLU / pool case
 * (Sec. 3.2, Algorithms 1 and 2), im2col and its adjoint by hand, and the hand-written backward
 * pass against central finite differences and tfjs autodiff, with and without BN, for ReLU and
 * sigmoid, on the wasm and cpu backends.
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Activation, ConvLayerSpec } from '../src/config/config.js';
import { registerReferenceGradients } from '../src/model/autodiff-gradients.js';
import { convBackward, convGradTensors } from '../src/model/conv-backward.js';
import { convForwardInference, convForwardTrain } from '../src/model/conv-forward.js';
import { convNetVariables, createConvNet, disposeConvNet, type ConvNet, type ConvStage } from '../src/model/conv-net.js';
import { col2im, im2col } from '../src/model/conv-ops.js';
import { planCnn, type CnnPlan, type MapShape } from '../src/config/conv-shapes.js';
import { convPopulationStats } from '../src/model/conv-train.js';
import { softmaxCrossEntropy } from '../src/model/forward.js';
import { Rng } from '../src/core/random.js';
import { assertClose, useTestBackend, valuesOf } from './helpers.js';

before(useTestBackend);
after(() => tf.setBackend(process.env.BN_REPRO_TEST_BACKEND ?? 'wasm'));

function plan(layers: ConvLayerSpec[], input: MapShape): CnnPlan {
  const p = planCnn(layers, input);
  if (typeof p === 'string') throw new Error(p);
  return p;
}

/** The hand-computed net: a 3x3 image, one 2x2 conv map (w = identity diagonal), pool 2, one hidden unit, 2 classes. */
function handNet(bn: boolean): ConvNet {
  const net = createConvNet(
    plan(
      [
        { type: 'conv', kernel: 2, maps: 1 },
        { type: 'pool', size: 2 },
      ],
      [3, 3, 1],
    ),
    [1],
    2,
    { bn, initStd: 1, epsilon: 4, activation: 'relu' },
    Rng.stream(0, 'hand'),
  );
  const conv = net.stages[0] as ConvStage;
  conv.w.assign(tf.tensor2d([[1], [0], [0], [1]])); // rows (dy, dx) = (0,0), (0,1), (1,0), (1,1)
  conv.beta?.assign(tf.tensor1d([0.5]));
  return net;
}
const images = () =>
  tf.tensor2d([
    [1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 1, 1, 1, 1, 1, 1, 1, 1],
  ]);

test('im2col and col2im of a 3x3 image and a 2x2 kernel, by hand', () => {
  const net = handNet(false);
  const stage = net.stages[0] as ConvStage;
  tf.tidy(() => {
    // Patches in (dy, dx) order, one per output location (0,0), (0,1), (1,0), (1,1).
    assert.deepEqual(valuesOf(im2col(tf.slice(images(), [0, 0], [1, 9]), stage)), [1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9]);
    // The adjoint of all-ones patch gradients counts the patches each pixel is in.
    assert.deepEqual(valuesOf(col2im(tf.ones([8, 4]), stage, 2)), [1, 2, 1, 2, 4, 2, 1, 2, 1, 1, 2, 1, 2, 4, 2, 1, 2, 1]);
  });
  disposeConvNet(net);
});

test('BN per feature map over batch and locations (Alg. 1), then ReLU and max-pool, by hand', () => {
  const net = handNet(true);
  tf.tidy(() => {
    const fwd = convForwardTrain(net, images(), { reference: true });
    const cache = fwd.stages[0];
    const pool = fwd.stages[1];
    assert.ok(cache.type === 'conv' && pool.type === 'pool');
    // Conv outputs: image 1 gives 1+5, 2+6, 4+8, 5+9 = 6, 8, 12, 14; image 2 gives 2 four times.
    // m' = 2 * 4 = 8 values: mean 48/8 = 6; centered 0, 2, 6, 8, -4 x4; biased var (0+4+36+64+4*16)/8 = 21.
    assertClose(valuesOf(cache.layer.bn!.mean)[0], 6, 1e-5, 'map mean');
    assertClose(valuesOf(cache.layer.bn!.variance)[0], 21, 1e-4, 'map variance');
    // eps = 4: 1/sqrt(25) = 0.2; gamma 1, beta 0.5: y = 0.2 * centered + 0.5.
    const want = [0.5, 0.9, 1.7, 2.1, -0.3, -0.3, -0.3, -0.3];
    valuesOf(cache.layer.pre).forEach((v, i) => assertClose(v, want[i], 1e-5, `y[${i}]`));
    valuesOf(cache.layer.act).forEach((v, i) => assertClose(v, Math.max(0, want[i]), 1e-5, `relu[${i}]`));
    // The 2x2 pool takes each image's maximum: 2.1 and 0.
    valuesOf(pool.pool!.maxima).forEach((v, i) => assertClose(v, [2.1, 0][i], 1e-5, `pool[${i}]`));
  });
  // Algorithm 2 over this one batch: mean 6, variance unbiased by m'/(m'-1) = 8/7: 21 * 8/7 = 24.
  const stats = convPopulationStats(net, 1, images);
  assertClose(valuesOf(stats.mean[0])[0], 6, 1e-5, 'population mean');
  assertClose(valuesOf(stats.variance[0])[0], 24, 1e-4, 'population variance');
  // Inference with those statistics on image 1 is the affine map with 1/sqrt(24 + 4).
  tf.tidy(() => {
    const { lastPre } = convForwardInference(net, tf.slice(images(), [0, 0], [1, 9]), stats);
    const pooled = Math.max(...[6, 8, 12, 14].map((z) => Math.max(0, (z - 6) / Math.sqrt(28) + 0.5)));
    const hidden = net.hidden[0];
    const z = pooled * valuesOf(hidden.w)[0];
    const fcWant = ((z - valuesOf(stats.mean[1])[0]) / Math.sqrt(valuesOf(stats.variance[1])[0] + 4)) * 1 + 0;
    assertClose(valuesOf(lastPre)[0], fcWant, 1e-5, 'inference hidden pre-activation');
  });
  tf.dispose([...stats.mean, ...stats.variance]);
  disposeConvNet(net);
});

/** A tiny CNN: 8x8 image, 3x3 conv of 2 maps, pool 2, 2x2 conv of 3 maps, 4 hidden units, 3 classes, batch 4. */
function tinyProblem(bn: boolean, activation: Activation) {
  const layers: ConvLayerSpec[] = [
    { type: 'conv', kernel: 3, maps: 2 },
    { type: 'pool', size: 2 },
    { type: 'conv', kernel: 2, maps: 3 },
  ];
  const net = createConvNet(plan(layers, [8, 8, 1]), [4], 3, { bn, initStd: 0.5, epsilon: 1e-3, activation }, Rng.stream(7, 'init'));
  const r = Rng.stream(8, 'data');
  const x = tf.tensor2d(
    Float32Array.from({ length: 4 * 64 }, () => r.uniform()),
    [4, 64],
  );
  const y = tf.cast(tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3), 'float32') as tf.Tensor2D;
  // Non-trivial gamma and beta and biases, so every term of the BN backward is exercised.
  for (const [i, v] of convNetVariables(net).entries()) {
    if (v.shape.length === 1) tf.tidy(() => v.assign(tf.add(v, tf.mul(0.3, tf.randomNormal(v.shape, 0, 1, 'float32', 11 + i)))));
  }
  return { net, x, y };
}

const lossOf = (net: ConvNet, x: tf.Tensor2D, y: tf.Tensor2D) => tf.tidy(() => softmaxCrossEntropy(convForwardTrain(net, x).logits, y).loss.dataSync()[0]);

function ourGradients(net: ConvNet, x: tf.Tensor2D, y: tf.Tensor2D): number[][] {
  return tf.tidy(() => {
    const fwd = convForwardTrain(net, x);
    return convGradTensors(convBackward(net, fwd, softmaxCrossEntropy(fwd.logits, y).dLogits)).map(valuesOf);
  });
}

// wasm and cpu always; BN_REPRO_TEST_BACKEND (helpers.ts) adds another (tensorflow, webgpu) where it runs.
const extra = process.env.BN_REPRO_TEST_BACKEND;
for (const backend of ['wasm', 'cpu', ...(extra && extra !== 'wasm' && extra !== 'cpu' ? [extra] : [])]) {
  for (const activation of ['relu', 'sigmoid'] as Activation[]) {
    for (const bn of [false, true]) {
      const name = `${backend} ${activation} ${bn ? 'BN' : 'baseline'}`;

      test(`${name}: backward matches central finite differences for every parameter`, async () => {
        await tf.setBackend(backend);
        const { net, x, y } = tinyProblem(bn, activation);
        const grads = ourGradients(net, x, y);
        const vars = convNetVariables(net);
        // A step of 1e-3 keeps ReLU and max-pool kinks out of most intervals; the float32 loss
        // (~1, rounding ~1e-7 per op over a few hundred ops) then carries ~1e-4 of noise into
        // (L+ - L-) / 2h, hence the absolute 1e-3; the relative 3e-2 is the O(h^2) truncation's room.
        const h = 1e-3;
        let checked = 0;
        let worst = 0;
        vars.forEach((v, vi) => {
          const base = Float32Array.from(v.dataSync());
          for (let j = 0; j < base.length; j++) {
            const at = (delta: number) => {
              const p = base.slice();
              p[j] += delta;
              tf.tidy(() => v.assign(tf.tensor(p, v.shape)));
              return lossOf(net, x, y);
            };
            const fd = (at(h) - at(-h)) / (2 * h);
            tf.tidy(() => v.assign(tf.tensor(base, v.shape)));
            assertClose(grads[vi][j], fd, 1e-3 + 3e-2 * Math.abs(fd), `${name} param ${vi}[${j}]`);
            worst = Math.max(worst, Math.abs(grads[vi][j]));
            checked++;
          }
        });
        // conv 9x2 + conv 2*2*2x3 + hidden 12x4 + out 4x3 weights = 102; per map or unit b, or gamma and beta; 3 output biases.
        assert.equal(checked, 102 + (bn ? 2 * 9 : 9) + 3);
        assert.ok(worst > 1e-3, 'the gradients are not all (near) zero');
        disposeConvNet(net);
        tf.dispose([x, y]);
      });

      test(`${name}: backward matches tfjs autodiff to float precision`, async () => {
        await tf.setBackend(backend);
        registerReferenceGradients();
        const { net, x, y } = tinyProblem(bn, activation);
        const ours = ourGradients(net, x, y);
        const vars = convNetVariables(net);
        const auto = tf.tidy(() => {
          const g = tf.variableGrads(() => softmaxCrossEntropy(convForwardTrain(net, x, { reference: true }).logits, y).loss, vars).grads;
          return vars.map((v) => valuesOf(g[v.name]));
        });
        vars.forEach((_, i) => ours[i].forEach((g, j) => assertClose(g, auto[i][j], 1e-5 + 1e-4 * Math.abs(auto[i][j]), `${name} param ${i}[${j}]`)));
        disposeConvNet(net);
        tf.dispose([x, y]);
      });
    }
  }
}
