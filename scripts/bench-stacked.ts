/**
 * The stacked ORT step for `npm run bench`: K runs (each its own arm, init, batch order and
 * learning rate) stepped by one graph call, timed in run-steps per second. It times the engine
 * lockstep training uses (OrtStackedEngine, src/training/lockstep.ts: `--lockstep on`), in the
 * provider's layout (src/engines/stack-layout.ts) unless told, so these figures are what lockstep
 * gains or costs; src/config/lockstep-rule.ts's `auto` table cites them. The same
 * stack is what `--count` profiles (bench-count.ts).
 */
import type { InferenceSession } from 'onnxruntime-node';
import { BatchSampler } from '../src/model/batches.js';
import type { ResolvedConfig } from '../src/config/config.js';
import { CLASSES, IMAGE_PIXELS, type Dataset } from '../src/data/dataset.js';
import { OrtStackedEngine } from '../src/engines/ort-stacked-engine.js';
import type { OrtProvider } from '../src/engines/ort/runtime.js';
import { STACK_LAYOUT, type StackLayout } from '../src/engines/stack-layout.js';
import type { EngineContext } from '../src/engines/train-engine.js';
import { createNet, disposeNet } from '../src/model/net.js';
import { Rng } from '../src/core/random.js';
import { median, type Budget } from './bench-measure.js';

/** One member of a stack: its arm and the seed of its init and batch order. */
export interface StackMember {
  bn: boolean;
  seed: number;
}

/** Arms alternating baseline / BN, seeds 0, 0, 1, 1, ...: the timed stack. */
export const mixedStack = (k: number): StackMember[] => Array.from({ length: k }, (_, r) => ({ bn: r % 2 === 1, seed: Math.floor(r / 2) }));

export interface Stack {
  /** One call: every member's SGD step, state carried to the next call. */
  step: () => Promise<void>;
  /** The step graph's session (there after the first step). */
  session: () => InferenceSession;
  dispose: () => Promise<void>;
}

/** The lockstep engine over `members`, at their initial state; `extra` adds options to the step session; `layout` defaults to the provider's. */
export async function openStack(
  config: ResolvedConfig,
  data: Dataset,
  provider: OrtProvider,
  members: StackMember[],
  extra: InferenceSession.SessionOptions = {},
  layout: StackLayout = STACK_LAYOUT[provider],
): Promise<Stack> {
  const m = config.train.batchSize;
  const shape = { inputSize: IMAGE_PIXELS, hiddenUnits: config.model.hiddenUnits, classes: CLASSES };
  const ctxs: EngineContext[] = members.map(({ bn, seed }) => ({
    config,
    data,
    seed,
    net: createNet(shape, { bn, initStd: config.model.initStd, epsilon: config.batchNorm.epsilon }, Rng.stream(seed, 'init')),
    learningRate: config.train.learningRate,
    sampler: new BatchSampler(data.train, m, Rng.stream(seed, 'shuffle')),
    lossSum: 0,
  }));
  const engine = await OrtStackedEngine.create(ctxs, provider, extra, layout);
  const all = members.map((_, r) => r);
  return {
    step: () => engine.step(all),
    session: () => engine.stepSession(),
    dispose: async () => {
      await engine.dispose();
      for (const ctx of ctxs) disposeNet(ctx.net);
    },
  };
}

export async function stackedMsPerCall(
  config: ResolvedConfig,
  data: Dataset,
  provider: OrtProvider,
  k: number,
  budget: Budget,
  layout: StackLayout = STACK_LAYOUT[provider],
): Promise<number> {
  const { step, dispose } = await openStack(config, data, provider, mixedStack(k), {}, layout);
  try {
    for (let i = 0; i < budget.warmup; i++) await step();
    const perCall: number[] = [];
    for (let c = 0; c < budget.chunks; c++) {
      const t0 = performance.now();
      for (let i = 0; i < budget.stepsPerChunk; i++) await step();
      perCall.push((performance.now() - t0) / budget.stepsPerChunk);
    }
    return median(perCall);
  } finally {
    await dispose();
  }
}
