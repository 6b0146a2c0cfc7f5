/**
 * Device residency (config key `deviceResident`, src/engines/ort/device-*.ts), the parts every
 * provider runs (npm test: ort-cpu; `npm run test:webgpu` again on ort-webgpu through
 * BN_REPRO_ORT_BACKEND): a step fed batch indices, gathered from the uploaded training set, steps
 * bit for bit as the step fed the sampler's batch; the key's decision table and its refusals.
 * The device-resident runs themselves are engine-ort-device-runs.test.ts's (ort-webgpu only).
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { DEVICE_RESIDENT_AUTO, deviceResidentFor } from '../src/config/device-resident-rule.js';
import { silentLogger } from '../src/core/logger.js';
import { Rng } from '../src/core/random.js';
import { loadDataset } from '../src/data/load.js';
import { DEVICE_BATCH, oneHotLabels } from '../src/engines/ort/device-batch.js';
import { GraphBuilder } from '../src/engines/ort/graph.js';
import { paramSlots } from '../src/engines/ort/net-graph.js';
import { LOG_SOFTMAX, ORT_BACKENDS, sessionOptions } from '../src/engines/ort/runtime.js';
import { LOSS_SUM, NEXT, addStep, movingNames, stepModel, velocityName, type StepSpec } from '../src/engines/ort/step-graph.js';
import { BatchSampler } from '../src/model/batches.js';
import { assertRefused, runCli, tempDir, testConfig } from './helpers.js';

const ENGINE = (process.env.BN_REPRO_ORT_BACKEND ?? 'ort-cpu') as keyof typeof ORT_BACKENDS;
const PROVIDER = ORT_BACKENDS[ENGINE];
const onCpu = { skip: ENGINE !== 'ort-cpu' && `${ENGINE}: the CPU run has the refusal cases` };

const size = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
/** Bit-level equality of two float32 arrays (NaN and -0 included). */
const sameBits = (a: Float32Array, b: Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
/** 300 embedded digits, on a SharedArrayBuffer as every run's split. */
const data = await loadDataset(testConfig({ data: { source: 'embedded', trainSubset: 300, testSubset: 100 } }), { logger: silentLogger });

test(`${ENGINE}: a step fed batch indices (Gather from the uploaded set) equals the step fed the sampler's batch, bit for bit`, async () => {
  const spec: StepSpec = {
    ...{ inputSize: 784, hiddenUnits: [6, 5], classes: 10, bn: true, epsilon: 1e-3, logSoftmax: LOG_SOFTMAX[PROVIDER] },
    ...{ batchSize: 8, learningRate: 0.3, momentum: 0.9, sgdMomentum: 0.5 },
  };
  const train = data.train;
  const g = new GraphBuilder('float32');
  addStep(g, spec, '', undefined, { rows: train.count });
  const gathered = await ort.InferenceSession.create(g.encode(), sessionOptions(PROVIDER));
  const fed = await ort.InferenceSession.create(stepModel(spec), sessionOptions(PROVIDER));
  const rng = Rng.stream(4, 'device-check');
  const names = movingNames(spec.hiddenUnits);
  const slots = paramSlots(spec).flatMap((s) => [s, { name: velocityName(s.name), dims: s.dims }]);
  spec.hiddenUnits.forEach((u, i) => slots.push({ name: names.mean[i], dims: [u] }, { name: names.variance[i], dims: [u] }));
  const init = Object.fromEntries(
    slots.map((s) => [
      s.name,
      new ort.Tensor(
        'float32',
        Float32Array.from({ length: size(s.dims) }, () => 0.2 * rng.normal() + (s.name.includes('variance') ? 1 : 0)),
        s.dims,
      ),
    ]),
  );
  let a: Record<string, ort.Tensor> = { ...init, [LOSS_SUM]: new ort.Tensor('float32', new Float32Array([0]), []) };
  let b = { ...a };
  const byIndex = new BatchSampler(train, spec.batchSize, Rng.stream(7, 'shuffle'));
  const byBatch = new BatchSampler(train, spec.batchSize, Rng.stream(7, 'shuffle'));
  const images = new ort.Tensor('float32', train.images.slice(0, train.count * 784), [train.count, 784]);
  const labels = new ort.Tensor('float32', oneHotLabels(train), [train.count, 10]);
  let moved = 0;
  for (let step = 0; step < 4; step++) {
    const rows = BigInt64Array.from(Array.from(byIndex.nextIndices(), BigInt));
    const batch = byBatch.nextHost(false);
    const outA = await gathered.run({
      ...a,
      [DEVICE_BATCH.images]: images,
      [DEVICE_BATCH.labels]: labels,
      [DEVICE_BATCH.rows]: new ort.Tensor('int64', rows, [rows.length]),
    });
    const outB = await fed.run({ ...b, x: new ort.Tensor('float32', batch.x, [8, 784]), y: new ort.Tensor('float32', batch.y, [8, 10]) });
    a = Object.fromEntries(Object.keys(a).map((n) => [n, outA[NEXT + n]]));
    b = Object.fromEntries(Object.keys(b).map((n) => [n, outB[NEXT + n]]));
    for (const n of Object.keys(a)) assert.ok(sameBits(a[n].data as Float32Array, b[n].data as Float32Array), `step ${step}: ${n} differs`);
    if (!sameBits(a['h0.w'].data as Float32Array, init['h0.w'].data as Float32Array)) moved++;
  }
  assert.equal(moved, 4, 'the weights moved at every step (the comparison is not of untouched inputs)');
  assert.ok((a[LOSS_SUM].data as Float32Array)[0] > 4, 'four losses of ~2.3 summed');
  await Promise.all([gathered.release(), fed.release()]);
});

test('deviceResident: auto is off everywhere for now; on is built for the MLP on ort-webgpu, elsewhere or for the CNN one usage sentence', () => {
  const mlp = (mode: string) => testConfig({ deviceResident: mode });
  // Built for ort-webgpu alone, and opt-in there for now (device-resident-rule.ts says why).
  assert.deepEqual(DEVICE_RESIDENT_AUTO, { 'ort-webgpu': false });
  for (const backend of ['ort-webgpu', 'ort-cpu', 'ort-cuda', 'wasm', 'tensorflow']) assert.equal(deviceResidentFor(mlp('auto'), backend), false, backend);
  assert.equal(deviceResidentFor(mlp('off'), 'ort-webgpu'), false);
  assert.equal(deviceResidentFor(mlp('on'), 'ort-webgpu'), true);
  assert.equal(deviceResidentFor(testConfig({ model: { kind: 'cnn' } }), 'ort-webgpu'), false, 'auto leaves the CNN on the host');
  const sentence = (what: string) =>
    `config key "deviceResident" is "on", but device-resident training is built for the MLP on ort-webgpu only, not for ${what}; use --backend ort-webgpu or set "deviceResident" to "auto" or "off".`;
  assert.throws(() => deviceResidentFor(mlp('on'), 'ort-cuda'), { name: 'UsageError', message: sentence('the ort-cuda backend') });
  assert.throws(() => deviceResidentFor(testConfig({ deviceResident: 'on', model: { kind: 'cnn' } }), 'ort-webgpu'), { message: sentence('the CNN') });
  // A run.json written before the key existed resumes with the default (auto), and is never refused.
  const older = { ...mlp('auto'), deviceResident: undefined } as unknown as ReturnType<typeof mlp>;
  assert.equal(deviceResidentFor(older, 'ort-webgpu'), false);
  assert.equal(deviceResidentFor(older, 'ort-cpu'), false);
  assert.throws(() => testConfig({ deviceResident: 'yes' }), { message: /config key "deviceResident" must be one of "on", "off", "auto" \(got "yes"\)/ });
});

test('bn-repro mnist refuses deviceResident "on" on ort-cpu, named or chosen by auto, with one sentence, exit 2, no folder', onCpu, () => {
  const dir = tempDir();
  const cfg = join(dir, 'on.json');
  writeFileSync(cfg, JSON.stringify({ deviceResident: 'on', train: { steps: 2 }, data: { source: 'embedded' } }));
  for (const backend of ['ort-cpu', 'auto']) {
    const r = runCli(['mnist', '--config', cfg, '--backend', backend, '--out', join(dir, backend)]);
    assertRefused(
      r,
      2,
      /^error: (--backend: )?config key "deviceResident" is "on", but device-resident training is built for the MLP on ort-webgpu only, not for the (ort-cpu|wasm) backend;/,
    );
    assert.equal(existsSync(join(dir, backend)), false, `${backend}: no run folder`);
  }
});
