/**
 * The CNN's ONNX graphs (src/engines/ort/conv-*.ts) against the maths: the graph's gradients
 * against central finite differences (float64 graph, ort-cpu) and the tfjs CNN's hand-written
 * backward (src/model/conv-backward.ts, on wasm), for BN and baseline, ReLU and sigmoid, with a
 * max-pool and a second conv stage (col2im) between; and the max-pool's tie rule against tfjs
 * wasm's MaxPoolGrad kernel. BN_REPRO_ORT_BACKEND names the engine (ort-webgpu in test:webgpu).
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Activation } from '../src/config/config.js';
import { silentLogger } from '../src/core/logger.js';
import { Rng } from '../src/core/random.js';
import { loadDataset } from '../src/data/load.js';
import { initBackend } from '../src/engines/backend.js';
import { convGradModel } from '../src/engines/ort/conv-step-graph.js';
import { convParamSlots, type ConvNetSpec } from '../src/engines/ort/conv-graph.js';
import { maxPool, maxPoolBackward } from '../src/engines/ort/conv-ops.js';
import { GraphBuilder } from '../src/engines/ort/graph.js';
import { LOG_SOFTMAX, loadOrt, sessionOptions } from '../src/engines/ort/runtime.js';
import { convBackward, convGradTensors } from '../src/model/conv-backward.js';
import { convForwardTrain } from '../src/model/conv-forward.js';
import { poolBackward, poolForward } from '../src/model/conv-kernels.js';
import { convNetVariables, createConvNet, disposeConvNet } from '../src/model/conv-net.js';
import { softmaxCrossEntropy } from '../src/model/forward.js';
import { ENGINE, HIDDEN, PLAN, PROVIDER, cnnConfig, cpuOnly } from './ort-cnn-fixture.js';

const M = 8;
const data = await loadDataset(cnnConfig(3), { logger: silentLogger });
const ort = await loadOrt();

/** M embedded images and their one-hot labels. */
const batchX = data.train.images.slice(0, M * 784);
const batchY = new Float32Array(M * 10);
for (let i = 0; i < M; i++) batchY[i * 10 + data.train.labels[i]] = 1;

function netOf(bn: boolean, activation: Activation) {
  return createConvNet(PLAN, HIDDEN, 10, { bn, initStd: 0.3, epsilon: 1e-3, activation }, Rng.stream(7, 'init'));
}

const specOf = (bn: boolean, activation: Activation): ConvNetSpec => ({
  plan: PLAN,
  hiddenUnits: HIDDEN,
  classes: 10,
  bn,
  epsilon: 1e-3,
  activation,
  logSoftmax: LOG_SOFTMAX[PROVIDER],
});

const ARMS = [false, true].flatMap((bn) => (['relu', 'sigmoid'] as const).map((activation) => ({ bn, activation })));

for (const { bn, activation } of ARMS) {
  const arm = `${bn ? 'BN' : 'baseline'} ${activation}`;

  test(`${arm}: the float64 graph's gradients equal central finite differences of its loss`, cpuOnly, async () => {
    const spec = specOf(bn, activation);
    const session = await ort.InferenceSession.create(convGradModel({ ...spec, batchSize: M }, 'float64'), sessionOptions('cpu'));
    await initBackend('wasm', silentLogger);
    const net = netOf(bn, activation);
    const slots = convParamSlots(spec);
    // Biases off zero: a zero bias puts the baseline's blank-background rows at ReLU's kink, where differences see 1/2.
    const params = convNetVariables(net).map((v, i) => Float64Array.from(v.dataSync(), (p) => (slots[i].name.endsWith('.b') ? p + 0.05 : p)));
    disposeConvNet(net);
    const run = async () => {
      const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {
        x: new ort.Tensor('float64', Float64Array.from(batchX), [M, 784]),
        y: new ort.Tensor('float64', Float64Array.from(batchY), [M, 10]),
      };
      slots.forEach((s, i) => (feeds[s.name] = new ort.Tensor('float64', params[i], s.dims)));
      return session.run(feeds);
    };
    const base = await run();
    let checked = 0;
    for (const [i, s] of slots.entries()) {
      const grad = base[`grad.${s.name}`].data as Float64Array;
      // Four entries per tensor, spread over it (first, last and two between).
      const picks = [...new Set([0, Math.floor(params[i].length / 3), Math.floor((2 * params[i].length) / 3), params[i].length - 1])];
      for (const j of picks) {
        const h = 1e-5;
        const keep = params[i][j];
        params[i][j] = keep + h;
        const up = ((await run()).loss.data as Float64Array)[0];
        params[i][j] = keep - h;
        const down = ((await run()).loss.data as Float64Array)[0];
        params[i][j] = keep;
        const numeric = (up - down) / (2 * h);
        assert.ok(Math.abs(numeric - grad[j]) <= 1e-6 + 1e-4 * Math.abs(numeric), `${s.name}[${j}]: graph ${grad[j]} vs finite differences ${numeric}`);
        checked++;
      }
    }
    assert.ok(checked >= 4 * slots.length - 4, `${checked} entries checked`);
    // The check is not vacuous: the gradient of the first conv stage's weights is not zero.
    assert.ok((base['grad.c0.w'].data as Float64Array).some((v) => Math.abs(v) > 1e-6));
    await session.release();
  });

  test(`${arm}: ${ENGINE}'s float32 gradients equal the tfjs CNN's hand-written backward (wasm)`, async () => {
    await initBackend('wasm', silentLogger);
    const net = netOf(bn, activation);
    const expected = tf.tidy(() => {
      const fwd = convForwardTrain(net, tf.tensor2d(batchX, [M, 784]));
      const { dLogits } = softmaxCrossEntropy(fwd.logits, tf.tensor2d(batchY, [M, 10]), 1);
      return convGradTensors(convBackward(net, fwd, dLogits)).map((t) => Float32Array.from(t.dataSync()));
    });
    const params = convNetVariables(net).map((v) => Float32Array.from(v.dataSync()));
    disposeConvNet(net);
    const spec = specOf(bn, activation);
    const session = await ort.InferenceSession.create(convGradModel({ ...spec, batchSize: M }, 'float32'), sessionOptions(PROVIDER));
    const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {
      x: new ort.Tensor('float32', batchX.slice(), [M, 784]),
      y: new ort.Tensor('float32', batchY, [M, 10]),
    };
    const slots = convParamSlots(spec);
    slots.forEach((s, i) => (feeds[s.name] = new ort.Tensor('float32', params[i], s.dims)));
    const out = await session.run(feeds);
    await session.release();
    assert.equal(expected.length, slots.length);
    slots.forEach((s, i) => {
      const got = out[`grad.${s.name}`].data as Float32Array;
      const scale = Math.max(...expected[i].map(Math.abs));
      assert.ok(scale > 0, `${s.name}: the tfjs gradient is not all zero`);
      expected[i].forEach((e, j) => assert.ok(Math.abs(got[j] - e) <= 1e-4 * scale + 1e-7, `${s.name}[${j}]: ${got[j]} vs tfjs ${e}`));
    });
  });
}

test(`max-pool tie rule: ${ENGINE} routes a window's gradient to its last maximum, as tfjs wasm's MaxPoolGrad kernel`, async () => {
  // One 4x4 map, pool 2: window (0,0) ties 5 at (0,1) and (1,0); window (0,1) ties 2 everywhere;
  // window (1,0) has its max 9 at (1,1); window (1,1) ties 7 at (0,0) and (1,1).
  const image = [1, 5, 2, 2, 5, 3, 2, 2, 0, 1, 7, 1, 4, 9, 1, 7];
  const dOut = [10, 20, 30, 40];
  const shape = { type: 'pool' as const, size: 2, inShape: [4, 4, 1] as [number, number, number], outShape: [2, 2, 1] as [number, number, number] };
  const g = new GraphBuilder('float32');
  const h = g.input('h', [1, 16]);
  const d = g.input('d', [1, 4]);
  const { out, mask } = maxPool(g, h, shape, 1, true);
  g.output('out', out, [1, 4]);
  g.output('dh', maxPoolBackward(g, d, mask!, shape, 1), [1, 16]);
  const session = await ort.InferenceSession.create(g.encode(), sessionOptions(PROVIDER));
  const res = await session.run({
    h: new ort.Tensor('float32', Float32Array.from(image), [1, 16]),
    d: new ort.Tensor('float32', Float32Array.from(dOut), [1, 4]),
  });
  await session.release();
  assert.deepEqual(Array.from(res.out.data as Float32Array), [5, 2, 9, 7]);
  // The last maximum of each window in row-major order: indices 4, 7, 13 and 15.
  const byHand = [0, 0, 0, 0, 10, 0, 0, 20, 0, 0, 0, 0, 0, 30, 0, 40];
  assert.deepEqual(Array.from(res.dh.data as Float32Array), byHand);
  await initBackend('wasm', silentLogger);
  const kernel = tf.tidy(() => {
    const { cache } = poolForward(tf.tensor2d(image, [1, 16]), shape);
    return Array.from(poolBackward(tf.tensor2d(dOut, [1, 4]), cache, shape).dataSync());
  });
  assert.deepEqual(kernel, byHand, "tfjs wasm's MaxPoolGrad");
});
