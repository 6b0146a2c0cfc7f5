/**
 * The CNN's engine (issue 20): convSgdStep on the run's tf.Variables on whichever tfjs backend
 * runs (wasm, cpu, tensorflow, webgpu), and the CnnEvaluator. There is no ONNX Runtime graph of
 * the CNN yet, so `auto` skips ort-cpu for model.kind "cnn" (backend.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Evaluation } from '../model/evaluate.js';
import type { ConvNet } from '../model/conv-net.js';
import { convSgdStep } from '../model/conv-train.js';
import { variable } from '../model/net.js';
import { CnnEvaluator } from './cnn-evaluator.js';
import type { EngineContext, TrainEngine } from './train-engine.js';

export class CnnEngine implements TrainEngine {
  private readonly evaluator: CnnEvaluator;
  private readonly sum: tf.Variable;

  constructor(private readonly ctx: EngineContext<ConvNet>) {
    this.evaluator = new CnnEvaluator(ctx.config, ctx.data.train, ctx.data.test, ctx.seed);
    this.sum = variable(tf.scalar(ctx.lossSum));
  }

  async step(): Promise<void> {
    const batch = this.ctx.sampler.next();
    convSgdStep(this.ctx.net, batch, this.ctx.learningRate, this.sum, this.ctx.moving);
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
