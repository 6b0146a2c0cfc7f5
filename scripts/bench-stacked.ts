/**
 * The stacked ORT step for `npm run bench`: K runs (each its own arm, init, batch order and
 * learning rate) stepped by one graph call, timed in run-steps per second. A measurement of what
 * lockstep training would gain; the train loop itself still steps one run per call. The same
 * stack is what `--count` profiles (bench-count.ts).
 */
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { BatchSampler } from '../src/batches.js';
import type { ResolvedConfig } from '../src/config.js';
import { CLASSES, IMAGE_PIXELS, type Dataset } from '../src/data/dataset.js';
import { paramSlots } from '../src/engines/ort/net-graph.js';
import { LOG_SOFTMAX, loadOrt, sessionOptions, type OrtProvider } from '../src/engines/ort/runtime.js';
import { LOSS_SUM, NEXT, stackPrefix, stackedStepModel, type StepSpec } from '../src/engines/ort/step-graph.js';
import { createNet, disposeNet, netVariables } from '../src/model/net.js';
import { Rng } from '../src/random.js';
import { median, type Budget } from './bench-measure.js';

/** One member of a stack: its arm and the seed of its init and batch order. */
export interface StackMember {
  bn: boolean;
  seed: number;
}

/** Arms alternating baseline / BN, seeds 0, 0, 1, 1, ...: the timed stack. */
export const mixedStack = (k: number): StackMember[] => Array.from({ length: k }, (_, r) => ({ bn: r % 2 === 1, seed: Math.floor(r / 2) }));

export interface Stack {
  session: InferenceSession;
  /** One call: every member's SGD step, state carried to the next call. */
  step: () => Promise<void>;
}

/** A session of the K-run step graph with every member's initial state; `extra` adds session options. */
export async function openStack(
  config: ResolvedConfig,
  data: Dataset,
  provider: OrtProvider,
  members: StackMember[],
  extra: InferenceSession.SessionOptions = {},
): Promise<Stack> {
  const ort = await loadOrt();
  const m = config.train.batchSize;
  const shape = { inputSize: IMAGE_PIXELS, hiddenUnits: config.model.hiddenUnits, classes: CLASSES };
  const specs: StepSpec[] = members.map(({ bn }) => ({
    ...shape,
    bn,
    epsilon: config.batchNorm.epsilon,
    batchSize: m,
    learningRate: config.train.learningRate,
    logSoftmax: LOG_SOFTMAX[provider],
  }));
  const session = await ort.InferenceSession.create(stackedStepModel(specs), { ...sessionOptions(provider), ...extra });
  const state: Record<string, Tensor> = {};
  const names: string[] = [];
  const samplers = members.map(({ bn, seed }, r) => {
    const net = createNet(shape, { bn, initStd: config.model.initStd, epsilon: config.batchNorm.epsilon }, Rng.stream(seed, 'init'));
    const vars = netVariables(net);
    paramSlots(specs[r]).forEach((s, i) => {
      state[stackPrefix(r) + s.name] = new ort.Tensor('float32', Float32Array.from(vars[i].dataSync() as Float32Array), s.dims);
      names.push(stackPrefix(r) + s.name);
    });
    disposeNet(net);
    state[stackPrefix(r) + LOSS_SUM] = new ort.Tensor('float32', new Float32Array([0]), []);
    names.push(stackPrefix(r) + LOSS_SUM);
    return new BatchSampler(data.train, m, Rng.stream(seed, 'shuffle'));
  });
  const step = async () => {
    const feeds: Record<string, Tensor> = { ...state };
    samplers.forEach((sampler, r) => {
      const { x, y } = sampler.nextHost(false);
      feeds[`${stackPrefix(r)}x`] = new ort.Tensor('float32', x, [m, IMAGE_PIXELS]);
      feeds[`${stackPrefix(r)}y`] = new ort.Tensor('float32', y, [m, CLASSES]);
    });
    const out = await session.run(feeds);
    for (const name of names) state[name] = out[name.replace(/\/(?=[^/]*$)/, `/${NEXT}`)];
  };
  return { session, step };
}

export async function stackedMsPerCall(config: ResolvedConfig, data: Dataset, provider: OrtProvider, k: number, budget: Budget): Promise<number> {
  const { session, step } = await openStack(config, data, provider, mixedStack(k));
  for (let i = 0; i < budget.warmup; i++) await step();
  const perCall: number[] = [];
  for (let c = 0; c < budget.chunks; c++) {
    const t0 = performance.now();
    for (let i = 0; i < budget.stepsPerChunk; i++) await step();
    perCall.push((performance.now() - t0) / budget.stepsPerChunk);
  }
  await session.release();
  return median(perCall);
}
