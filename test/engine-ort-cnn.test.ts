/**
 * The CNN on the ONNX Runtime engines (src/engines/ort/conv-*.ts): the graph's gradients against
 * central finite differences (float64 graph) and the tfjs CNN's hand-written backward
 * (src/model/conv-backward.ts), for BN and baseline, ReLU and sigmoid, with a max-pool and a
 * second conv stage (col2im) between; the max-pool's tie rule against tfjs's MaxPoolGrad kernel;
 * the engine's rows against the tfjs wasm CNN's; bit-identical reruns; every session released.
 * `npm run test:webgpu` runs it on ort-webgpu (SwiftShader): BN_REPRO_ORT_BACKEND names the
 * engine, BN_REPRO_ORT_STEPS the steps of the row comparison (default 60).
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { InferenceSession } from 'onnxruntime-node';
import type { Activation, Variant } from '../src/config/config.js';
import { planCnn, type CnnPlan } from '../src/config/conv-shapes.js';
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
import { MemoryRecorder } from '../src/training/records.js';
import { trainRun } from '../src/training/train.js';
import type { RunCheckpoint } from '../src/training/checkpoint-state.js';
import { readCsv, runCli, tempDir, testConfig } from './helpers.js';

const ENGINE = (process.env.BN_REPRO_ORT_BACKEND ?? 'ort-cpu') as 'ort-cpu' | 'ort-webgpu' | 'ort-cuda';
const PROVIDER = ENGINE.slice(4) as 'cpu' | 'webgpu' | 'cuda';
const STEPS = Number(process.env.BN_REPRO_ORT_STEPS ?? 60);
/** The float64 finite-difference check runs on the CPU provider only (the GPU providers have no float64 kernels). */
const cpuOnly = { skip: ENGINE !== 'ort-cpu' && `${ENGINE}: the CPU provider's test` };

/** conv 5x5x3, pool 2, conv 3x3x4, pool 2 on 28x28: 24x24x3 -> 12x12x3 -> 10x10x4 -> 5x5x4 = 100 values, then 12 hidden units. */
const LAYERS = [
  { type: 'conv' as const, kernel: 5, maps: 3 },
  { type: 'pool' as const, size: 2 },
  { type: 'conv' as const, kernel: 3, maps: 4 },
  { type: 'pool' as const, size: 2 },
];
const HIDDEN = [12];
const plan = planCnn(LAYERS, [28, 28, 1]) as CnnPlan;
const M = 8;

/** Evaluations after step 0 in a run: three on the CPU; one on SwiftShader, where each takes seconds. */
const EVALS = ENGINE === 'ort-cpu' ? 3 : 1;
const config = (steps: number, batchNorm: Record<string, unknown> = {}) =>
  testConfig({
    model: { kind: 'cnn', activation: 'relu', hiddenUnits: HIDDEN, convLayers: LAYERS },
    train: { steps, batchSize: 20, learningRate: 0.1, checkpointEvery: 0 },
    eval: { every: Math.max(1, Math.floor(steps / EVALS)), units: [0, 5], probeSize: 150 },
    batchNorm: { populationBatches: 3, ...batchNorm },
    data: { source: 'embedded', trainSubset: 600, testSubset: 300 },
  });
const data = await loadDataset(config(EVALS), { logger: silentLogger });
const ort = await loadOrt();

/** M embedded images and their one-hot labels. */
const batchX = data.train.images.slice(0, M * 784);
const batchY = new Float32Array(M * 10);
for (let i = 0; i < M; i++) batchY[i * 10 + data.train.labels[i]] = 1;

function netOf(bn: boolean, activation: Activation) {
  return createConvNet(plan, HIDDEN, 10, { bn, initStd: 0.3, epsilon: 1e-3, activation }, Rng.stream(7, 'init'));
}

const specOf = (bn: boolean, activation: Activation): ConvNetSpec => ({
  plan,
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

const rowsOf = (r: MemoryRecorder) => r.evals.map(({ elapsedS: _t, ...row }) => row);
const relClose = (a: number, b: number, tol: number) => Math.abs(a - b) <= tol * Math.max(Math.abs(a), Math.abs(b));
const ALL_VARIANTS: Variant[] = [
  { name: 'baseline', bn: false, lrMultiplier: 1 },
  { name: 'bn', bn: true, lrMultiplier: 1 },
  { name: 'bn-x5-sigmoid', bn: true, lrMultiplier: 5, activation: 'sigmoid' },
];
/** SwiftShader takes ~0.9 s a step and ~5 s an evaluation of this net: the GPU providers train the BN net only. */
const VARIANTS = ENGINE === 'ort-cpu' ? ALL_VARIANTS : ALL_VARIANTS.filter((v) => v.name === 'bn');

async function train(backend: 'wasm' | typeof ENGINE | undefined, cfg: ReturnType<typeof config>) {
  if (backend) await initBackend(backend, silentLogger);
  const recorder = new MemoryRecorder();
  for (const v of VARIANTS) await trainRun(v, 0, { config: cfg, data, recorder });
  return recorder;
}

for (const inference of ['population', 'moving']) {
  test(`${ENGINE} gives the tfjs wasm CNN's rows over ${STEPS} steps, ${inference} statistics (accuracy within 0.002, losses within 1e-3 relative)`, async () => {
    const cfg = config(STEPS, { inference, momentum: 0.9 });
    const wasm = await train('wasm', cfg);
    const onnx = await train(ENGINE, cfg);
    assert.equal(onnx.evals.length, VARIANTS.length * (1 + EVALS), 'step 0 and EVALS more evaluations per variant');
    onnx.evals.forEach((e, i) => {
      const w = wasm.evals[i];
      const where = `${e.arm} step ${e.step}`;
      assert.deepEqual([e.arm, e.step], [w.arm, w.step]);
      assert.ok(Math.abs(e.testAccuracy - w.testAccuracy) <= 0.002 + 1e-12, `${where}: accuracy ${e.testAccuracy} vs ${w.testAccuracy}`);
      assert.ok(relClose(e.testLoss, w.testLoss, 1e-3), `${where}: test loss ${e.testLoss} vs ${w.testLoss}`);
      if (w.trainLoss === null) assert.equal(e.trainLoss, null);
      else assert.ok(relClose(e.trainLoss!, w.trainLoss, 1e-3), `${where}: train loss ${e.trainLoss} vs ${w.trainLoss}`);
    });
    // Agreeing on a run that learns: the BN net's test loss falls, and by 60 steps it is well above chance (0.1).
    const bnRows = onnx.evals.filter((e) => e.arm === 'bn');
    assert.ok(bnRows.at(-1)!.testLoss < bnRows[0].testLoss, `test loss ${bnRows[0].testLoss} -> ${bnRows.at(-1)!.testLoss}`);
    if (STEPS >= 60) assert.ok(bnRows.at(-1)!.testAccuracy > 0.3, `accuracy ${bnRows.at(-1)!.testAccuracy}`);
    assert.equal(onnx.activations.length, wasm.activations.length);
    onnx.activations.forEach((a, i) => {
      const w = wasm.activations[i];
      for (const [x, y] of [[a.mean, w.mean], [a.std, w.std], ...a.percentiles.map((p, j) => [p, w.percentiles[j]])]) {
        assert.ok(Math.abs(x - y) <= 1e-3 * Math.max(1, Math.abs(y)), `${a.arm} step ${a.step} unit ${a.unit}: ${x} vs ${y}`);
      }
    });
  });
}

/** The determinism test's statistics: on SwiftShader the moving averages, which need no population graph. */
const INFERENCE = ENGINE === 'ort-cpu' ? 'population' : 'moving';

test(`${ENGINE} CNN runs are deterministic, and every ORT session they open is released`, async () => {
  await initBackend(ENGINE, silentLogger); // before the count: its provider probe opens (and releases) a session of its own
  const sessions: { released: boolean }[] = [];
  const create = ort.InferenceSession.create;
  // Counts the engine's sessions: each wrapped so its release is seen.
  ort.InferenceSession.create = (async (...args: Parameters<typeof create>) => {
    const s: InferenceSession = await (create as (...a: unknown[]) => Promise<InferenceSession>)(...args);
    const entry = { released: false };
    sessions.push(entry);
    const release = s.release.bind(s);
    s.release = () => {
      entry.released = true;
      return release();
    };
    return s;
  }) as typeof create;
  try {
    const cfg = config(Math.min(30, STEPS), { inference: INFERENCE });
    const a = await train(undefined, cfg);
    const b = await train(undefined, cfg);
    assert.equal(JSON.stringify(rowsOf(a)), JSON.stringify(rowsOf(b)));
    assert.equal(JSON.stringify(a.activations), JSON.stringify(b.activations));
  } finally {
    ort.InferenceSession.create = create;
  }
  // Per run: the step graph, one evaluation graph (300 test rows: one chunk) and, BN with population statistics, the batch-moments graph.
  assert.equal(sessions.length, 2 * VARIANTS.reduce((n, v) => n + (v.bn && INFERENCE === 'population' ? 3 : 2), 0));
  assert.deepEqual(
    sessions.filter((s) => !s.released),
    [],
  );
});

/** Keeps the last checkpoint too. */
class CheckpointRecorder extends MemoryRecorder {
  saved?: RunCheckpoint;
  checkpoint(state: RunCheckpoint): void {
    this.saved = state;
  }
}

test('ort-cpu CNN: a run stopped at a checkpoint and resumed gives the rows of one that never stopped (moving averages too)', cpuOnly, async () => {
  const base = config(150, { inference: 'moving', momentum: 0.9 });
  const cfg = { ...base, eval: { ...base.eval, every: 60 } };
  await initBackend('ort-cpu', silentLogger);
  const bn = ALL_VARIANTS[1];
  const whole = new MemoryRecorder();
  await trainRun(bn, 3, { config: cfg, data, recorder: whole });
  const first = new CheckpointRecorder();
  let polls = 0;
  // Polled every 50 steps: stop at step 100, between the evaluations at 60 and 120, with 40 steps' loss summed.
  await trainRun(bn, 3, { config: cfg, data, recorder: first, shouldStop: () => ++polls === 2 });
  assert.equal(first.saved?.step, 100);
  assert.ok(first.saved.moving, 'the moving averages are in the checkpoint');
  const rest = new MemoryRecorder();
  await trainRun(bn, 3, { config: cfg, data, recorder: rest, resume: first.saved });
  assert.equal(rest.evals.at(-1)?.step, 150);
  assert.equal(JSON.stringify(rowsOf(whole)), JSON.stringify([...rowsOf(first), ...rowsOf(rest)]));
});

test('bn-repro mnist --model cnn --bn both --backend ort-cpu writes the files the wasm run writes, with rows that agree', cpuOnly, () => {
  const dir = tempDir();
  const path = join(dir, 'cnn.json');
  const settings = {
    name: 'cnn',
    model: { kind: 'cnn', activation: 'relu', hiddenUnits: HIDDEN, convLayers: LAYERS },
    train: { steps: 40, batchSize: 20 },
    eval: { every: 20, probeSize: 100 },
    batchNorm: { populationBatches: 2 },
    data: { source: 'embedded', trainSubset: 400, testSubset: 200 },
  };
  writeFileSync(path, JSON.stringify(settings));
  const outs: Record<string, string> = {};
  for (const backend of ['ort-cpu', 'wasm']) {
    outs[backend] = join(dir, backend);
    const r = runCli(['mnist', '--config', path, '--bn', 'both', '--backend', backend, '--out', outs[backend], '--jobs', '1']);
    assert.equal(r.code, 0, r.stderr);
  }
  assert.deepEqual(readdirSync(outs['ort-cpu']).sort(), readdirSync(outs.wasm).sort());
  for (const file of ['accuracy.csv', 'activations.csv']) {
    const a = readCsv(join(outs['ort-cpu'], file));
    const b = readCsv(join(outs.wasm, file));
    assert.deepEqual(a.header, b.header);
    // Two arms, evaluations at 0, 20 and 40; activations: five units each.
    assert.equal(a.rows.length, file === 'accuracy.csv' ? 2 * 3 : 2 * 3 * 5);
    a.rows.forEach((row, i) => {
      assert.deepEqual([row.arm, row.step], [b.rows[i].arm, b.rows[i].step]);
      if (file === 'accuracy.csv') assert.ok(Math.abs(Number(row.test_accuracy) - Number(b.rows[i].test_accuracy)) <= 0.002 + 1e-9, `row ${i}`);
    });
  }
  const run = JSON.parse(readFileSync(join(outs['ort-cpu'], 'run.json'), 'utf8'));
  assert.deepEqual([run.backend.name, run.backend.provider, run.status], ['ort-cpu', 'cpu', 'finished']);
  assert.equal(run.config.model.kind, 'cnn');
});
