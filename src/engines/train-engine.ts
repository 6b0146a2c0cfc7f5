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
import type { ConvNet } from '../model/conv-net.js';
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
  /** Makes ctx.net (and ctx.moving, ctx.velocity) hold the engine's current values (async where they are read from a device). */
  syncNet(): void | Promise<void>;
  dispose(): Promise<void>;
}

/** The engine of the backend initBackend chose for this thread. */
export async function createTrainEngine(ctx: EngineContext<Model>): Promise<TrainEngine> {
  const { net } = ctx;
  const provider = activeOrtProvider();
  if (isConvNet(net) && provider) {
    const [{ OrtEngine }, { OrtConvMember }] = await Promise.all([import('./ort-engine.js'), import('./ort/conv-member.js')]);
    return OrtEngine.create(await OrtConvMember.create({ ...ctx, net }, provider), provider);
  }
  const { TfjsEngine } = await import('./tfjs-engine.js');
  const { config, data, seed } = ctx;
  if (isConvNet(net)) {
    const [{ convSgdStep }, { CnnEvaluator }] = await Promise.all([import('../model/conv-train.js'), import('./cnn-evaluator.js')]);
    return new TfjsEngine<ConvNet>(
      { ...ctx, net },
      {
        step: (c, batch, sum) => convSgdStep(c.net, batch, c.learningRate, sum, c.moving, c.velocity),
        evaluator: new CnnEvaluator(config, data.train, data.test, seed),
      },
    );
  }
  const mlp = { ...ctx, net };
  if (provider) {
    const [{ OrtEngine }, { OrtMember }] = await Promise.all([import('./ort-engine.js'), import('./ort-member.js')]);
    return OrtEngine.create(await OrtMember.create(mlp, provider), provider);
  }
  const [{ sgdStep }, { Evaluator }] = await Promise.all([import('../model/sgd.js'), import('../model/evaluate.js')]);
  return new TfjsEngine(mlp, {
    step: (c, batch, sum) => sgdStep(c.net, batch, c.learningRate, sum, c.moving, c.velocity),
    evaluator: new Evaluator(config, data.train, data.test, seed),
  });
}
