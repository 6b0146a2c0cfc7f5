/**
 * The tfjs engine: one SGD step on the run's tf.Variables (the model's own step: sgdStep for the
 * MLP, with the velocity of momentum SGD; convSgdStep for the CNN) and the model's evaluator, on
 * whichever tfjs backend runs (wasm, cpu, tensorflow, webgpu). The loss is summed on the device.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Batch } from '../model/sgd.js';
import type { Evaluation } from '../model/evaluate.js';
import type { BnStats, Net } from '../model/net.js';
import type { Model } from '../model/model.js';
import { variable } from '../model/net.js';
import type { EngineContext, TrainEngine } from './train-engine.js';

/** What the engine needs of a model: its SGD step on one batch, and its evaluator. */
export interface TfjsModelOps<N extends Model> {
  step(ctx: EngineContext<N>, batch: Batch, lossSum: tf.Variable): void;
  evaluator: { evaluate(net: N, moving?: BnStats): Promise<Evaluation>; dispose(): void };
}

export class TfjsEngine<N extends Model = Net> implements TrainEngine {
  private readonly sum: tf.Variable;

  constructor(
    private readonly ctx: EngineContext<N>,
    private readonly ops: TfjsModelOps<N>,
  ) {
    this.sum = variable(tf.scalar(ctx.lossSum));
  }

  async step(): Promise<void> {
    const batch = this.ctx.sampler.next();
    this.ops.step(this.ctx, batch, this.sum);
    tf.dispose([batch.x, batch.xT, batch.y]);
  }

  async lossSum(): Promise<number> {
    return (await this.sum.data())[0];
  }

  resetLossSum(): void {
    tf.tidy(() => this.sum.assign(tf.zerosLike(this.sum)));
  }

  evaluate(): Promise<Evaluation> {
    return this.ops.evaluator.evaluate(this.ctx.net, this.ctx.moving?.stats);
  }

  /** The variables are trained in place: nothing to copy back. */
  syncNet(): void {}

  async dispose(): Promise<void> {
    this.ops.evaluator.dispose();
    this.sum.dispose();
  }
}
