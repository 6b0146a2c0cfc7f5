/**
 * The batched stack (layout.ts, batchedStackModel): K runs of one arm on a leading axis, one kernel
 * per op for all K. On the provider BN_REPRO_ORT_BACKEND names (default ort-cpu) it must step as K
 * separate engine graphs (stepModel), each run with its own init, batches and learning rate, moving
 * statistics included; and its kernel count per call must not grow with K (ORT's profiler, CPU).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { profiledKernels } from '../scripts/bench-count.js';
import { paramSlots } from '../src/engines/ort/net-graph.js';
import { layoutDims } from '../src/engines/ort/layout.js';
import { LOG_SOFTMAX, ORT_BACKENDS, sessionOptions } from '../src/engines/ort/runtime.js';
import { LOSS_SUM, NEXT, batchedStackModel, movingNames, stepModel, type StepSpec } from '../src/engines/ort/step-graph.js';
import { Rng } from '../src/core/random.js';

const PROVIDER = ORT_BACKENDS[(process.env.BN_REPRO_ORT_BACKEND ?? 'ort-cpu') as keyof typeof ORT_BACKENDS];
const size = (dims: number[]) => dims.reduce((a, b) => a * b, 1);
const base = { inputSize: 6, hiddenUnits: [5, 4], classes: 3, epsilon: 1e-3, batchSize: 7 };

/** K runs' tensors of one name concatenated on a new leading axis, shaped `dims`. */
function stackOf(tensors: ort.Tensor[], dims: number[]): ort.Tensor {
  const out = new Float32Array(size(dims));
  let at = 0;
  for (const t of tensors) {
    out.set(t.data as Float32Array, at);
    at += t.data.length;
  }
  assert.equal(at, out.length);
  return new ort.Tensor('float32', out, dims);
}

async function compare(bn: boolean, learningRates: number[], steps: number) {
  const spec: StepSpec = { ...base, bn, learningRate: 0, momentum: bn ? 0.9 : undefined, logSoftmax: LOG_SOFTMAX[PROVIDER] };
  const k = learningRates.length;
  const layout = { kind: 'batched', runs: k } as const;
  const batched = await ort.InferenceSession.create(batchedStackModel([{ spec, learningRates, prefix: 'g/' }]), sessionOptions(PROVIDER));
  const single = await Promise.all(learningRates.map((lr) => ort.InferenceSession.create(stepModel({ ...spec, learningRate: lr }), sessionOptions(PROVIDER))));
  const rng = Rng.stream(9, 'batched-check');
  const f32 = (dims: number[], f: () => number) => new ort.Tensor('float32', Float32Array.from({ length: size(dims) }, f), dims);
  const slots = [...paramSlots(spec), { name: LOSS_SUM, dims: [] }];
  if (bn) {
    const names = movingNames(spec.hiddenUnits);
    spec.hiddenUnits.forEach((u, i) => slots.push({ name: names.mean[i], dims: [u] }, { name: names.variance[i], dims: [u] }));
  }
  const states: Record<string, ort.Tensor>[] = learningRates.map(() =>
    Object.fromEntries(slots.map((s) => [s.name, f32(s.dims, () => (s.name === LOSS_SUM ? 0 : 0.3 * rng.normal() + (s.name.includes('variance') ? 1 : 0)))])),
  );
  const dimsOf = (s: { name: string; dims: number[] }) => (s.name === LOSS_SUM ? [k] : layoutDims(layout, s.dims));
  let stacked = Object.fromEntries(
    slots.map((s) => [
      `g/${s.name}`,
      stackOf(
        states.map((st) => st[s.name]),
        dimsOf(s),
      ),
    ]),
  );
  for (let step = 0; step < steps; step++) {
    const batches = learningRates.map((_, r) => {
      const y = f32([7, 3], () => 0);
      for (let i = 0; i < 7; i++) (y.data as Float32Array)[i * 3 + ((i + step + r) % 3)] = 1;
      return { x: f32([7, 6], () => rng.uniform()), y };
    });
    const out = await batched.run({
      ...stacked,
      'g/x': stackOf(
        batches.map((b) => b.x),
        [k, 7, 6],
      ),
      'g/y': stackOf(
        batches.map((b) => b.y),
        [k, 7, 3],
      ),
    });
    stacked = Object.fromEntries(slots.map((s) => [`g/${s.name}`, out[`g/${NEXT}${s.name}`]]));
    for (let r = 0; r < k; r++) {
      const o = await single[r].run({ ...states[r], ...batches[r] });
      for (const s of slots) states[r][s.name] = o[NEXT + s.name];
    }
  }
  let maxDiff = 0;
  for (const s of slots) {
    const want = stackOf(
      states.map((st) => st[s.name]),
      dimsOf(s),
    ).data as Float32Array;
    const got = stacked[`g/${s.name}`];
    assert.deepEqual(got.dims, dimsOf(s), s.name);
    (got.data as Float32Array).forEach((v, i) => {
      maxDiff = Math.max(maxDiff, Math.abs(v - want[i]));
      assert.ok(Math.abs(v - want[i]) <= 1e-5 * Math.max(1, Math.abs(want[i])), `${s.name}[${i}]: batched ${v}, separate ${want[i]}`);
    });
  }
  const losses = Array.from(stacked[`g/${LOSS_SUM}`].data as Float32Array);
  assert.ok(losses.every((v) => v > steps * 0.3) && new Set(losses).size === k, `each run's own loss sum: ${losses}`);
  await batched.release();
  await Promise.all(single.map((s) => s.release()));
  return maxDiff;
}

test('3 BN runs batched (learning rates 0.5, 0.1, 1, moving statistics) step as 3 separate engine graphs to float32 rounding', async () => {
  const maxDiff = await compare(true, [0.5, 0.1, 1], 8);
  assert.ok(maxDiff < 1e-5);
});

test('2 baseline runs batched step as 2 separate engine graphs to float32 rounding', async () => {
  await compare(false, [0.5, 0.25], 8);
});

test('the batched BN stack is as many kernels per call at K = 8 as at K = 1 (CPU provider)', async () => {
  const spec: StepSpec = { ...base, bn: true, learningRate: 0 };
  const count = async (k: number) => {
    const layout = { kind: 'batched', runs: k } as const;
    const feeds: Record<string, ort.Tensor> = {
      [`b/${LOSS_SUM}`]: new ort.Tensor('float32', new Float32Array(k), [k]),
      'b/x': new ort.Tensor('float32', new Float32Array(k * 42).fill(0.5), [k, 7, 6]),
      'b/y': new ort.Tensor('float32', new Float32Array(k * 21).fill(1 / 3), [k, 7, 3]),
    };
    for (const s of paramSlots(spec))
      feeds[`b/${s.name}`] = new ort.Tensor('float32', new Float32Array(size(layoutDims(layout, s.dims))).fill(0.1), layoutDims(layout, s.dims));
    const lrs = Array.from({ length: k }, () => 0.1);
    const trace = await profiledKernels(async (extra) => {
      const session = await ort.InferenceSession.create(batchedStackModel([{ spec, learningRates: lrs, prefix: 'b/' }]), {
        ...sessionOptions('cpu'),
        ...extra,
      });
      return { session: () => session, step: () => session.run(feeds), dispose: () => session.release() };
    }, 1);
    return trace.runs[0].nodes;
  };
  const [one, eight] = [await count(1), await count(8)];
  assert.ok(one > 20, `a BN step is more than 20 kernels, got ${one}`);
  assert.equal(eight, one);
});
