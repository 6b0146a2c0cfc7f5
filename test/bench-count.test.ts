/**
 * `npm run bench -- --count`: the kernel counts it reports, on graphs whose count is known by
 * construction (a hand-built ONNX graph on ORT's CPU provider, two tfjs ops), the trace arithmetic
 * on hand-written traces, and the bench file that never overwrites an earlier one.
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../src/engines/ort/graph.js';
import { sessionOptions } from '../src/engines/ort/runtime.js';
import { countDispatches, profiledKernels, tfjsKernels } from '../scripts/bench-count.js';
import { countTrace, dispatchRow, dispatchTable, parseOrtTrace, stackSizes, type TraceEvent } from '../scripts/bench-count-trace.js';
import { writeBenchJson } from '../scripts/bench-output.js';
import { silentLogger } from '../src/core/logger.js';
import { syntheticDataset, tempDir, testConfig, useTestBackend } from './helpers.js';

/** sigmoid(a), + a, * sigmoid(a), then the output's Identity: 4 nodes. */
function fourNodeGraph(): Uint8Array {
  const g = new GraphBuilder('float32');
  const a = g.input('a', [3]);
  const s = g.sigmoid(a);
  g.output('b', g.mul(g.add(s, a), s), [3]);
  return g.encode();
}

async function countFourNodes(level: ort.InferenceSession.SessionOptions['graphOptimizationLevel'], calls: number) {
  const feeds = { a: new ort.Tensor('float32', new Float32Array([0, 1, 2]), [3]) };
  return profiledKernels(async (extra) => {
    const session = await ort.InferenceSession.create(fourNodeGraph(), { ...sessionOptions('cpu'), graphOptimizationLevel: level, ...extra });
    return { session: () => session, step: () => session.run(feeds), dispose: () => session.release() };
  }, calls);
}

test('ORT profiler: a 4-node graph run unoptimised counts 4 kernels in each of its runs, all on the CPU provider', async () => {
  const trace = await countFourNodes('disabled', 3);
  assert.deepEqual(
    trace.runs,
    Array.from({ length: 3 }, () => ({ nodes: 4, byProvider: { CPUExecutionProvider: 4 } })),
  );
  assert.equal(trace.gpuProgramsPerRun, undefined);
});

test("ORT profiler: with the engine's optimisation level the output Identity is removed, so 3 kernels are counted", async () => {
  const trace = await countFourNodes(sessionOptions('cpu').graphOptimizationLevel, 1);
  assert.deepEqual(trace.runs, [{ nodes: 3, byProvider: { CPUExecutionProvider: 3 } }]);
});

test('tfjs: tf.profile counts tf.add then tf.mul as 2 kernels (tensor creation outside is none)', async () => {
  await useTestBackend();
  const a = tf.tensor1d([1, 2]);
  const b = tf.tensor1d([3, 4]);
  let out: tf.Tensor | undefined;
  assert.equal(
    await tfjsKernels(() => {
      out = tf.mul(tf.add(a, b), b);
    }),
    2,
  );
  assert.deepEqual(Array.from(out!.dataSync()), [12, 24]);
  tf.dispose([a, b, out!]);
});

test('countTrace: node kernels per model_run span, by provider; WebGPU programs (Api, GPU clock) averaged over runs', () => {
  const node = (ts: number, provider: string): TraceEvent => ({ cat: 'Node', name: `v${ts}_kernel_time`, ts, dur: 1, args: { provider } });
  const events: TraceEvent[] = [
    { cat: 'Session', name: 'session_initialization', ts: 0, dur: 90 },
    node(50, 'CPUExecutionProvider'), // during initialisation: no run's
    { cat: 'Session', name: 'model_run', ts: 300, dur: 100 },
    { cat: 'Session', name: 'model_run', ts: 100, dur: 100 },
    node(110, 'WebGpuExecutionProvider'),
    node(120, 'WebGpuExecutionProvider'),
    node(200, 'CPUExecutionProvider'), // at the span's end: still inside
    { cat: 'Node', name: 'v1_fence_before', ts: 130, dur: 0 }, // not a kernel
    node(350, 'WebGpuExecutionProvider'),
    ...Array.from({ length: 6 }, (_, i): TraceEvent => ({ cat: 'Api', name: `v${i}&Add&Add`, ts: i, dur: 1 })),
  ];
  assert.deepEqual(countTrace(events), {
    runs: [
      { nodes: 3, byProvider: { WebGpuExecutionProvider: 2, CPUExecutionProvider: 1 } },
      { nodes: 1, byProvider: { WebGpuExecutionProvider: 1 } },
    ],
    gpuProgramsPerRun: 3,
  });
});

test('parseOrtTrace takes the array ORT writes and rejects any other shape', () => {
  assert.deepEqual(parseOrtTrace('[{"cat":"Session","name":"model_run","ts":5,"dur":2,"ph":"X"}]'), [{ cat: 'Session', name: 'model_run', ts: 5, dur: 2 }]);
  assert.throws(() => parseOrtTrace('{"traceEvents":[]}'));
  assert.throws(() => parseOrtTrace('[{"cat":"Node","name":"v0_kernel_time"}]'));
});

test('dispatchRow: per run-step is the call count over K (3030 kernels for 30 runs: 101)', () => {
  assert.deepEqual(dispatchRow('ort-cpu', 'bn', 30, 3030), { backend: 'ort-cpu', arm: 'bn', k: 30, perStep: 3030, perRunStep: 101 });
  assert.equal(dispatchRow('ort-webgpu', 'bn', 2, 220, { gpuPrograms: 240 }).gpuPrograms, 240);
});

test('stackSizes: positive integers separated by commas; anything else is one sentence naming the bad entry', () => {
  assert.deepEqual(stackSizes('1,2,6,30'), [1, 2, 6, 30]);
  assert.deepEqual(stackSizes(''), []);
  for (const [text, bad] of [
    ['1,abc', 'abc'],
    ['0', '0'],
    ['2,-1', '-1'],
    ['1.5', '1.5'],
  ])
    assert.throws(() => stackSizes(text), { message: `--stacked takes positive integers separated by commas, e.g. 1,2,6,30 (got "${bad}").` });
});

test('writeBenchJson: a second file of the same second gets -2, the first stays as it was', () => {
  const dir = tempDir('bn-repro-bench-count-');
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const now = new Date('2026-12-01T12:00:00.123Z');
    const first = writeBenchJson({ dispatches: [dispatchRow('cpu', 'bn', 1, 116)] }, now);
    const firstText = readFileSync(first, 'utf8');
    const second = writeBenchJson({ dispatches: [] }, now);
    assert.equal(first, join('results', 'bench-20261201T120000Z.json'));
    assert.equal(second, join('results', 'bench-20261201T120000Z-2.json'));
    assert.deepEqual(readdirSync('results').sort(), ['bench-20261201T120000Z-2.json', 'bench-20261201T120000Z.json']);
    assert.equal(readFileSync(first, 'utf8'), firstText);
    const parsed = JSON.parse(firstText);
    assert.equal(parsed.date, '2026-12-01T12:00:00.123Z');
    assert.deepEqual(parsed.dispatches, [{ backend: 'cpu', arm: 'bn', k: 1, perStep: 116, perRunStep: 116 }]);
    assert.deepEqual(JSON.parse(readFileSync(second, 'utf8')).dispatches, []);
  } finally {
    process.chdir(cwd);
  }
});

test('countDispatches on ort-cpu: K copies cost K times the single step; the batched stack of K = 4 costs about one step per call, per arm', async () => {
  const config = testConfig({ model: { hiddenUnits: [8, 8] }, train: { batchSize: 6 } });
  const rows = await countDispatches(config, syntheticDataset(60, 20), ['ort-cpu'], [1, 4], silentLogger);
  assert.deepEqual(
    rows.map((r) => `${r.arm} ${r.layout} ${r.k}`),
    ['baseline copies 1', 'baseline copies 4', 'baseline batched 4', 'bn copies 1', 'bn copies 4', 'bn batched 4'],
  );
  for (const arm of ['baseline', 'bn']) {
    const [one, copies, batched] = rows.filter((r) => r.arm === arm);
    assert.equal(copies.perStep, 4 * one.perStep, `${arm}: 4 copies`);
    assert.equal(copies.perRunStep, one.perStep);
    // Batched ops are 3-D, so ORT fuses less (MatMul + Add into Gemm): a few kernels more than one step, never K times.
    assert.ok(batched.perStep >= one.perStep && batched.perStep <= one.perStep + 10, `${arm}: batched ${batched.perStep} vs one ${one.perStep}`);
    assert.equal(batched.perRunStep, batched.perStep / 4);
  }
  assert.match(dispatchTable(rows).split('\n')[3], /^ort-cpu +baseline +batched +4 /);
});
