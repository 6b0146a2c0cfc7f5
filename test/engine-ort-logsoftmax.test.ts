/**
 * The loss's log-softmax in its two forms (net-graph.ts LogSoftmaxForm): `op` (ONNX LogSoftmax)
 * and `reduce` (x - max - log(sum(exp(x - max))), what ort-webgpu builds because ORT's WebGPU
 * provider has no LogSoftmax kernel). Checked against hand-computed values, against each other over
 * a few SGD steps, and, on the provider BN_REPRO_ORT_BACKEND names (default ort-cpu), that the
 * form runtime.ts picks puts no node on the CPU provider (ORT's profiler).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { countTrace, parseOrtTrace } from '../scripts/bench-count-trace.js';
import { GraphBuilder } from '../src/engines/ort/graph.js';
import { crossEntropy, paramSlots, type LogSoftmaxForm } from '../src/engines/ort/net-graph.js';
import { LOG_SOFTMAX, ORT_BACKENDS, sessionOptions } from '../src/engines/ort/runtime.js';
import { LOSS_SUM, NEXT, stepModel, type StepSpec } from '../src/engines/ort/step-graph.js';
import { Rng } from '../src/core/random.js';

const ENGINE = (process.env.BN_REPRO_ORT_BACKEND ?? 'ort-cpu') as keyof typeof ORT_BACKENDS;
const PROVIDER = ORT_BACKENDS[ENGINE];
const size = (dims: number[]) => dims.reduce((a, b) => a * b, 1);

/** logProbs and loss of 3 rows x 3 classes, targets classes 2, 0, 1. */
async function logProbsOf(form: LogSoftmaxForm, logits: number[]): Promise<{ logProbs: number[]; loss: number }> {
  const g = new GraphBuilder('float32');
  const x = g.input('x', [3, 3]);
  const y = g.input('y', [3, 3]);
  const { loss, logProbs } = crossEntropy(g, x, y, 3, form);
  g.output('logProbs', logProbs, [3, 3]);
  g.output('loss', loss, []);
  const session = await ort.InferenceSession.create(g.encode(), sessionOptions('cpu'));
  const out = await session.run({
    x: new ort.Tensor('float32', Float32Array.from(logits), [3, 3]),
    y: new ort.Tensor('float32', Float32Array.from([0, 0, 1, 1, 0, 0, 0, 1, 0]), [3, 3]),
  });
  await session.release();
  return { logProbs: Array.from(out.logProbs.data as Float32Array), loss: (out.loss.data as Float32Array)[0] };
}

test('both log-softmax forms give the hand-computed values, also for logits whose exp overflows float32', async () => {
  // log(e + e^2 + e^3) = 3 + log(1 + 1/e + 1/e^2) = 3.4076059644; [0, 0, 0] -> -log 3 each.
  const l = 3.4076059644;
  const expected = [1 - l, 2 - l, 3 - l, -Math.log(3), -Math.log(3), -Math.log(3), 1001 - 1000 - l, 1002 - 1000 - l, 1003 - 1000 - l];
  // Targets 2, 0, 1: loss = -(logp[0][2] + logp[1][0] + logp[2][1]) / 3.
  const loss = -(3 - l - Math.log(3) + (2 - l)) / 3;
  for (const form of ['op', 'reduce'] as const) {
    const got = await logProbsOf(form, [1, 2, 3, 0, 0, 0, 1001, 1002, 1003]);
    got.logProbs.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-5, `${form} logProbs[${i}] = ${v}, expected ${expected[i]}`));
    assert.ok(Math.abs(got.loss - loss) < 1e-6, `${form} loss ${got.loss}, expected ${loss}`);
  }
});

test('a BN step graph with the reduce form trains as the op form to float32 rounding (CPU provider, 20 steps)', async () => {
  const spec: StepSpec = { inputSize: 6, hiddenUnits: [5, 4], classes: 3, bn: true, epsilon: 1e-3, batchSize: 7, learningRate: 0.5 };
  const rng = Rng.stream(3, 'logsoftmax-check');
  const f32 = (dims: number[], f: () => number) => new ort.Tensor('float32', Float32Array.from({ length: size(dims) }, f), dims);
  const init: Record<string, ort.Tensor> = { [LOSS_SUM]: f32([], () => 0) };
  for (const s of paramSlots(spec)) init[s.name] = f32(s.dims, () => (s.name.endsWith('gamma') ? 1 : 0) + 0.3 * rng.normal());
  const batches = Array.from({ length: 20 }, (_, t) => {
    const y = f32([7, 3], () => 0);
    for (let i = 0; i < 7; i++) (y.data as Float32Array)[i * 3 + ((i + t) % 3)] = 1;
    return { x: f32([7, 6], () => rng.uniform()), y };
  });
  const train = async (form: LogSoftmaxForm) => {
    const session = await ort.InferenceSession.create(stepModel({ ...spec, logSoftmax: form }), sessionOptions('cpu'));
    let state = { ...init };
    for (const b of batches) {
      const out = await session.run({ ...state, ...b });
      state = Object.fromEntries(Object.keys(state).map((k) => [k, out[NEXT + k]]));
    }
    await session.release();
    return state;
  };
  const [op, reduce] = [await train('op'), await train('reduce')];
  const lossSum = (op[LOSS_SUM].data as Float32Array)[0];
  assert.ok(lossSum > 20 * 0.5 && Number.isFinite(lossSum), `20 losses of a 3-class net sum to ${lossSum}`);
  for (const k of Object.keys(op)) {
    const a = op[k].data as Float32Array;
    const b = reduce[k].data as Float32Array;
    a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= 1e-5 * Math.max(1, Math.abs(v)), `${k}[${i}]: op ${v}, reduce ${b[i]}`));
  }
});

test(`on ${ENGINE}, the step graph of the form runtime.ts picks runs every node on that provider`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bn-repro-logsoftmax-'));
  try {
    const spec: StepSpec = { inputSize: 6, hiddenUnits: [5], classes: 3, bn: true, epsilon: 1e-3, batchSize: 4, learningRate: 0.1 };
    const options = { ...sessionOptions(PROVIDER), enableProfiling: true, profileFilePrefix: join(dir, 'step') };
    const session = await ort.InferenceSession.create(stepModel({ ...spec, logSoftmax: LOG_SOFTMAX[PROVIDER] }), options);
    const feeds: Record<string, ort.Tensor> = {
      [LOSS_SUM]: new ort.Tensor('float32', new Float32Array(1), []),
      x: new ort.Tensor('float32', new Float32Array(24).fill(0.5), [4, 6]),
      y: new ort.Tensor(
        'float32',
        Float32Array.from({ length: 12 }, (_, i) => (i % 4 === 0 ? 1 : 0)),
        [4, 3],
      ),
    };
    for (const s of paramSlots(spec)) feeds[s.name] = new ort.Tensor('float32', new Float32Array(size(s.dims)).fill(0.1), s.dims);
    await session.run(feeds);
    session.endProfiling();
    await session.release();
    const file = readdirSync(dir).find((f) => f.startsWith('step') && f.endsWith('.json'));
    assert.ok(file, 'the profiler wrote a trace');
    const [run] = countTrace(parseOrtTrace(readFileSync(join(dir, file), 'utf8'))).runs;
    const own = { cpu: 'CPUExecutionProvider', webgpu: 'WebGpuExecutionProvider', cuda: 'CUDAExecutionProvider' }[PROVIDER];
    assert.deepEqual(Object.keys(run.byProvider), [own], `kernels by provider: ${JSON.stringify(run.byProvider)}`);
    assert.ok(run.nodes > 20, `a BN step is more than 20 kernels, got ${run.nodes}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
