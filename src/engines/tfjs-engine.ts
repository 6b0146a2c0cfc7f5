/** The tfjs engine: sgdStep on the run's tf.Variables (and velocity) and the Evaluator, as the train loop always did. */
import * as tf from '@tensorflow/tfjs-core';
import { Evaluator, type Evaluation } from '../model/evaluate.js';
import { variable } from '../model/net.js';
import { sgdStep } from '../model/sgd.js';
import type { EngineContext, TrainEngine } from './train-engine.js';

export class TfjsEngine implements TrainEngine {
  private readonly evaluator: Evaluator;
  private readonly sum: tf.Variable;

  constructor(private readonly ctx: EngineContext) {
    this.evaluator = new Evaluator(ctx.config, ctx.data.train, ctx.data.test, ctx.seed);
    this.sum = variable(tf.scalar(ctx.lossSum));
  }

  async step(): Promise<void> {
    const batch = this.ctx.sampler.next();
    sgdStep(this.ctx.net, batch, this.ctx.learningRate, this.sum, this.ctx.moving, this.ctx.velocity);
    tf.dispose([batch.x, batch.xT, batch.y]);
  }

  async lossSum(): Promise<number> {
    return (await this.sum.data())[0];
  }

  resetLossSum(): void {
    tf.tidy(() => this.sum.assign(tf.zerosLike(this.sum)));
  }

  evaluate(): Promise<Evaluation> {
    return this.evaluator.evaluate(this.ctx.net, this.ctx.moving?.stats);
  }

  syncNet(): void {}

  async dispose(): Promise<void> {
    this.evaluator.dispose();
    this.sum.dispose();
  }
}
