/**
 * tfjs's `webgpu` backend against wasm (issue 18 item 5, issue 20's gradient checks): the MLP's
 * and the CNN's hand-written gradients, a few SGD steps, and a finite-difference check on webgpu
 * itself (the CLI run: webgpu-tfjs-cli.test.ts). Opt-in: the packages (webgpu,
 * @tensorflow/tfjs-backend-webgpu) and an adapter (SwiftShader in CI) come from
 * `npm run test:webgpu`, which sets BN_REPRO_TFJS_WEBGPU=1; otherwise every case is skipped.
 * tfjs-backend-webgpu in Node has no synchronous read, so every value here is read with data().
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { Activation, ConvLayerSpec } from '../src/config/config.js';
import { planCnn } from '../src/config/conv-shapes.js';
import { silentLogger } from '../src/core/logger.js';
import { Rng } from '../src/core/random.js';
import { initBackend } from '../src/engines/backend.js';
import { convBackward, convGradTensors } from '../src/model/conv-backward.js';
import { convForwardTrain } from '../src/model/conv-forward.js';
import { convNetVariables, createConvNet, disposeConvNet, type ConvNet } from '../src/model/conv-net.js';
import { softmaxCrossEntropy } from '../src/model/forward.js';
import { gradTensors, lossAndGrads } from '../src/model/gradients.js';
import { createNet, disposeNet, netVariables } from '../src/model/net.js';
import { createMovingStats, sgdStep } from '../src/model/sgd.js';
import { assertClose } from './helpers.js';
import { assertAllClose, hostData, perturbVectors, read, skip, type Backend } from './webgpu-helpers.js';

before(async () => {
  if (skip) return;
  await initBackend('wasm', silentLogger);
  await initBackend('webgpu', silentLogger);
});

const mlpShape = { inputSize: 12, hiddenUnits: [6, 5], classes: 3 };
const mlpData = hostData(8, 12, 3, 21);

for (const bn of [false, true]) {
  const name = bn ? 'BN' : 'baseline';
  const makeNet = async (backend: Backend) => {
    await tf.setBackend(backend);
    const net = createNet(mlpShape, { bn, initStd: 0.8, epsilon: 1e-3 }, Rng.stream(20, 'init'));
    perturbVectors(netVariables(net), 22);
    return net;
  };

  test(`MLP ${name}: the hand-written gradients on webgpu equal wasm's`, { skip }, async (t) => {
    const grads = async (backend: Backend) => {
      const net = await makeNet(backend);
      const out = await read(() => {
        const { x, y } = mlpData();
        const { loss, grads } = lossAndGrads(net, x, y);
        return [loss, ...gradTensors(grads)];
      });
      disposeNet(net);
      return out;
    };
    const want = await grads('wasm');
    // The loss; per hidden layer w and b (baseline) or w, gamma and beta (BN); the output's w and b.
    assert.equal(want.length, 1 + (bn ? 3 : 2) * 2 + 2);
    t.diagnostic(`largest difference ${assertAllClose(await grads('webgpu'), want, 1e-6, 1e-4, `${name} loss and gradients`)}`);
  });

  test(`MLP ${name}: five SGD steps on webgpu leave wasm's weights, moving statistics and loss sum`, { skip }, async (t) => {
    const train = async (backend: Backend) => {
      const net = await makeNet(backend);
      const moving = bn ? createMovingStats(mlpShape.hiddenUnits, 0.9) : undefined;
      const lossSum = tf.variable(tf.scalar(0));
      for (let s = 0; s < 5; s++) {
        tf.tidy(() => {
          const { x, y } = hostData(8, 12, 3, 30 + s)();
          sgdStep(net, { x, xT: tf.transpose(x), y }, 0.5, lossSum, moving);
        });
      }
      const vars = [...netVariables(net), ...(moving ? [...moving.stats.mean, ...moving.stats.variance] : []), lossSum];
      const out = await read(() => vars.map((v) => tf.clone(v)));
      disposeNet(net);
      tf.dispose([lossSum, ...(moving ? [...moving.stats.mean, ...moving.stats.variance] : [])]);
      return out;
    };
    const initial = await makeNet('wasm');
    const start = await read(() => netVariables(initial).map((v) => tf.clone(v)));
    disposeNet(initial);
    const want = await train('wasm');
    // The steps moved the weights (else equality would say nothing).
    assert.ok(Math.abs(want[0][0] - start[0][0]) > 1e-4, 'the first weight moved');
    t.diagnostic(`largest difference ${assertAllClose(await train('webgpu'), want, 1e-5, 1e-4, `${name} after 5 steps`)}`);
  });
}

/** A small CNN: 8x8 image, 3x3 conv of 2 maps, pool 2, 2x2 conv of 3 maps, 4 hidden units, 3 classes. */
function makeCnn(bn: boolean, activation: Activation, layers: ConvLayerSpec[], side: number): ConvNet {
  const plan = planCnn(layers, [side, side, 1]);
  if (typeof plan === 'string') throw new Error(plan);
  const net = createConvNet(plan, [4], 3, { bn, initStd: 0.5, epsilon: 1e-3, activation }, Rng.stream(7, 'init'));
  perturbVectors(convNetVariables(net), 11);
  return net;
}
const tinyLayers: ConvLayerSpec[] = [
  { type: 'conv', kernel: 3, maps: 2 },
  { type: 'pool', size: 2 },
  { type: 'conv', kernel: 2, maps: 3 },
];
const cnnData = hostData(4, 64, 3, 8);

for (const activation of ['relu', 'sigmoid'] as Activation[]) {
  for (const bn of [false, true]) {
    const name = `CNN ${activation} ${bn ? 'BN' : 'baseline'}`;
    test(`${name}: forward (logits, loss) and hand-written backward on webgpu equal wasm's`, { skip }, async (t) => {
      const run = async (backend: Backend) => {
        await tf.setBackend(backend);
        const net = makeCnn(bn, activation, tinyLayers, 8);
        const out = await read(() => {
          const { x, y } = cnnData();
          const fwd = convForwardTrain(net, x);
          const { loss, dLogits } = softmaxCrossEntropy(fwd.logits, y);
          return [fwd.logits, loss, ...convGradTensors(convBackward(net, fwd, dLogits))];
        });
        disposeConvNet(net);
        return out;
      };
      const want = await run('wasm');
      t.diagnostic(`largest difference ${assertAllClose(await run('webgpu'), want, 1e-6, 1e-4, name)}`);
    });
  }
}

test('CNN relu BN on webgpu: the hand-written backward matches central finite differences there', { skip }, async (t) => {
  await tf.setBackend('webgpu');
  // A 6x6 image, one 3x3 conv of 2 maps and a 2x2 pool (77 parameters in 8 tensors).
  const net = makeCnn(true, 'relu', tinyLayers.slice(0, 2), 6);
  const vars = convNetVariables(net);
  const data = hostData(4, 36, 3, 9);
  const lossAt = async () =>
    (
      await read(() => {
        const { x, y } = data();
        return [softmaxCrossEntropy(convForwardTrain(net, x).logits, y).loss];
      })
    )[0][0];
  const grads = await read(() => {
    const { x, y } = data();
    const fwd = convForwardTrain(net, x);
    return convGradTensors(convBackward(net, fwd, softmaxCrossEntropy(fwd.logits, y).dLogits));
  });
  assert.equal(grads.length, vars.length);
  // A forward pass through SwiftShader costs ~0.2 s, so not one difference per parameter: the
  // derivative along a random unit direction u, (L(p + h u) - L(p - h u)) / 2h = g . u, once per
  // parameter tensor (a wrong entry anywhere in it shows) and once along all of them together.
  const r = Rng.stream(10, 'directions');
  const bases = await Promise.all(vars.map(async (v) => Float32Array.from(await v.data())));
  const directions = [...vars.map((_, i) => [i]), vars.map((_, i) => i)];
  const h = 1e-3;
  let largest = 0;
  for (const tensors of directions) {
    const u = bases.map((b, i) => (tensors.includes(i) ? Float32Array.from(b, () => r.normal()) : new Float32Array(b.length)));
    const length = Math.sqrt(u.reduce((s, ui) => s + ui.reduce((a, v) => a + v * v, 0), 0));
    const analytic = u.reduce((s, ui, i) => s + ui.reduce((a, v, j) => a + (v / length) * grads[i][j], 0), 0);
    const at = async (delta: number) => {
      vars.forEach((v, i) =>
        tf.tidy(() =>
          v.assign(
            tf.tensor(
              Float32Array.from(bases[i], (b, j) => b + (delta * u[i][j]) / length),
              v.shape,
            ),
          ),
        ),
      );
      return lossAt();
    };
    const fd = ((await at(h)) - (await at(-h))) / (2 * h);
    // As in cnn-model.test.ts: float32 noise in the loss (~1e-7 a pass) needs the absolute 1e-3; the relative 3e-2 is h^2's room.
    assertClose(analytic, fd, 1e-3 + 3e-2 * Math.abs(fd), `the derivative along tensors ${tensors.join(',')}`);
    largest = Math.max(largest, Math.abs(fd));
  }
  assert.ok(largest > 1e-2, 'the directional derivatives are not all (near) zero');
  t.diagnostic(`${directions.length} directions, largest derivative ${largest.toFixed(4)}`);
  disposeConvNet(net);
});
