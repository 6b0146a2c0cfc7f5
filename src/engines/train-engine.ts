/**
 * What the train loop (src/training/train.ts) needs of an engine: one SGD step on the sampler's next
 * mini-batch, the summed training loss, an evaluation, and the current parameters written into
 * the tfjs net (for checkpoints and the landscape measurements). The tfjs engine trains that net
 * in place; the ONNX Runtime engine trains its own copy as ORT tensors, one graph call per step.
 */
import type { BatchSampler } from '../model/batches.js';
import type { ResolvedConfig } from '../config/config.js';
import type { Dataset } from '../data/dataset.js';
import type { Evaluation } from '../model/evaluate.js';
import { isConvNet, type Model } from '../model/model.js';
import type { Net } from '../model/net.js';
import type { Velocity } from '../model/momentum.js';
import type { MovingStats } from '../model/sgd.js';
import { activeOrtProvider } from './ort/runtime.js';

export interface EngineContext<N extends Model = Net> {
  config: ResolvedConfig;
  data: Dataset;
  seed: number;
  /** The run's net, at its initial or resumed parameters. */
  net: N;
  moving?: MovingStats;
  /** Momentum SGD's velocity (train.momentum > 0), at zero or resumed; trained in place or synced back by syncNet. */
  velocity?: Velocity;
  learningRate: number;
  sampler: BatchSampler;
  /** The loss summed since the last evaluation (non-zero on resume). */
  lossSum: number;
}

export interface TrainEngine {
  step(): Promise<void>;
  /** The float32 sum of mini-batch losses since the last reset, read to the host. */
  lossSum(): Promise<number>;
  resetLossSum(): void;
  evaluate(): Promise<Evaluation>;
  /** Makes ctx.net (and ctx.moving, ctx.velocity) hold the engine's current values. */
  syncNet(): void;
  dispose(): Promise<void>;
}

/** The engine of the backend initBackend chose for this thread. */
export async function createTrainEngine(ctx: EngineContext<Model>): Promise<TrainEngine> {
  const { net } = ctx;
  // The CNN trains on tfjs only (docs/cnn.md); the config check refuses an explicit ort-* backend for it.
  if (isConvNet(net)) return new (await import('./cnn-engine.js')).CnnEngine({ ...ctx, net });
  const mlp = { ...ctx, net };
  const provider = activeOrtProvider();
  if (provider) return (await import('./ort-engine.js')).OrtEngine.create(mlp, provider);
  return new (await import('./tfjs-engine.js')).TfjsEngine(mlp);
}
