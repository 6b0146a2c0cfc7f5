/**
 * `npm run bench -- --count`: the kernels dispatched per training step on every backend that
 * loads. tfjs backends: `tf.profile` of one sgdStep after warm-up (the batch's upload is not a
 * kernel). ORT backends: ORT's profiler over one warm-up call and one counted call of the K-run
 * step graph, K = 1 being the engine's own one-graph step: the lockstep engine (bench-stacked.ts)
 * in both its layouts for K > 1, copies and batched (stack-layout.ts); the trace is read by
 * bench-count-trace.ts. Every member of a
 * counted stack has the same arm (seeds 0..K-1).
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { BatchSampler } from '../src/model/batches.js';
import { initBackend } from '../src/engines/backend.js';
import type { Arm, BackendName, ResolvedConfig } from '../src/config/config.js';
import { CLASSES, IMAGE_PIXELS, type Dataset } from '../src/data/dataset.js';
import { ORT_BACKENDS } from '../src/engines/ort/runtime.js';
import { silentLogger, type Logger } from '../src/core/logger.js';
import { createNet, disposeNet, variable } from '../src/model/net.js';
import { sgdStep } from '../src/model/sgd.js';
import { Rng } from '../src/core/random.js';
import { armsOf } from '../src/config/runs.js';
import { countTrace, dispatchRow, parseOrtTrace, type DispatchRow, type TraceCount } from './bench-count-trace.js';
import { openStack } from './bench-stacked.js';

/** Steps before the counted one: the first calls compile shaders and size buffers, not the step's kernels. */
const WARMUP_STEPS = 3;
/** ORT: calls profiled, the last one counted. One: every call runs the same kernels (checked here on ort-cpu and ort-webgpu, 1 vs 2 calls), and on SwiftShader a K = 30 call takes seconds. */
const PROFILED_CALLS = 1;

/** The kernels tfjs runs for `body` on the active backend. */
export async function tfjsKernels(body: () => void): Promise<number> {
  const info = await tf.profile(body);
  return info.kernels.length;
}

/**
 * Opens a session with ORT's profiler on (through `open`, given the extra session options), runs
 * `step` `calls` times, and counts its trace; the trace file is read from, and removed with, a
 * temporary folder of its own.
 */
export async function profiledKernels(
  open: (extra: InferenceSession.SessionOptions) => Promise<{ session: () => InferenceSession; step: () => Promise<unknown>; dispose: () => Promise<void> }>,
  calls: number,
): Promise<TraceCount> {
  const dir = mkdtempSync(join(tmpdir(), 'bn-repro-ort-profile-'));
  try {
    const { session, step, dispose } = await open({ enableProfiling: true, profileFilePrefix: join(dir, 'step') });
    for (let i = 0; i < calls; i++) await step();
    session().endProfiling();
    await dispose();
    const files = readdirSync(dir).filter((f) => f.startsWith('step') && f.endsWith('.json'));
    if (files.length !== 1) throw new Error(`ORT's profiler wrote ${files.length} trace files in ${dir}, expected 1`);
    return countTrace(parseOrtTrace(readFileSync(join(dir, files[0]), 'utf8')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Kernels of one sgdStep of `arm` on the active tfjs backend, after warm-up. */
async function tfjsStepKernels(config: ResolvedConfig, data: Dataset, arm: Arm): Promise<number> {
  const shape = { inputSize: IMAGE_PIXELS, hiddenUnits: config.model.hiddenUnits, classes: CLASSES };
  const net = createNet(shape, { bn: arm === 'bn', initStd: config.model.initStd, epsilon: config.batchNorm.epsilon }, Rng.stream(0, 'init'));
  const sampler = new BatchSampler(data.train, config.train.batchSize, Rng.stream(0, 'shuffle'));
  const lossSum = variable(tf.scalar(0));
  const step = async (count: boolean) => {
    const batch = sampler.next();
    const run = () => sgdStep(net, batch, config.train.learningRate, lossSum);
    let kernels = 0;
    if (count) kernels = await tfjsKernels(run);
    else run();
    tf.dispose([batch.x, batch.xT, batch.y]);
    return kernels;
  };
  for (let i = 0; i < WARMUP_STEPS; i++) await step(false);
  const kernels = await step(true);
  disposeNet(net);
  lossSum.dispose();
  return kernels;
}

/** The rows of one backend: tfjs at K = 1, ORT at every K of `ks`; [] when it does not load. */
async function countBackend(name: string, config: ResolvedConfig, data: Dataset, ks: number[], logger: Logger): Promise<DispatchRow[]> {
  try {
    const info = await initBackend(name as BackendName, silentLogger);
    if (info.name !== name) return [];
  } catch {
    logger.info(`backend ${name}: not available here, skipped`);
    return [];
  }
  const rows: DispatchRow[] = [];
  const provider = ORT_BACKENDS[name as keyof typeof ORT_BACKENDS];
  for (const arm of armsOf('both')) {
    if (!provider) {
      rows.push(dispatchRow(name, arm, 1, await tfjsStepKernels(config, data, arm)));
      continue;
    }
    for (const k of ks) {
      const members = Array.from({ length: k }, (_, seed) => ({ bn: arm === 'bn', seed }));
      const layouts = k > 1 ? (['copies', 'batched'] as const) : (['copies'] as const);
      for (const layout of layouts) {
        const trace = await profiledKernels((extra) => openStack(config, data, provider, members, extra, layout), PROFILED_CALLS);
        const last = trace.runs.at(-1);
        if (!last || trace.runs.length !== PROFILED_CALLS) throw new Error(`ORT's trace holds ${trace.runs.length} runs, expected ${PROFILED_CALLS}`);
        rows.push(dispatchRow(name, arm, k, last.nodes, { byProvider: last.byProvider, gpuPrograms: trace.gpuProgramsPerRun, layout }));
      }
    }
  }
  for (const r of rows)
    logger.info(`${r.backend} ${r.arm}${r.layout ? ` ${r.layout}` : ''} K=${r.k}: ${r.perStep} kernels per call, ${r.perRunStep.toFixed(2)} per run-step`);
  return rows;
}

/** The dispatch table of every backend in `backends` that loads here. */
export async function countDispatches(config: ResolvedConfig, data: Dataset, backends: string[], ks: number[], logger: Logger): Promise<DispatchRow[]> {
  const rows: DispatchRow[] = [];
  for (const name of backends) rows.push(...(await countBackend(name, config, data, ks, logger)));
  return rows;
}
