/**
 * One CNN run's part of the ONNX Runtime engines (issue 20 on ort-cpu, ort-webgpu, ort-cuda): its
 * parameters, loss sum, moving statistics and momentum SGD's velocity as ORT tensors, fed to its SGD step (conv-step-graph.ts)
 * and swapped for its outputs, and its evaluations through conv-evaluate.ts. OrtEngine
 * (ort-engine.ts) steps one member with a graph of its own; the lockstep engine
 * (ort-stacked-engine.ts) steps several, each member's step a subgraph under its prefix (addStep).
 * Initial values come from the tfjs net (drawn on the host from the seeded stream), so a seeded run
 * starts from the weights the tfjs CNN starts from. In a stack its evaluation sessions and fixed
 * feeds are the stack's (EvalShare); alone it holds a share of its own.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from 'onnxruntime-node';
import { CLASSES, IMAGE_PIXELS } from '../../data/dataset.js';
import type { Evaluation } from '../../model/evaluate.js';
import { convNetVariables, type ConvNet } from '../../model/conv-net.js';
import { cnnPlanOf } from '../../model/model.js';
import type { StackMember } from '../stack-member.js';
import type { EngineContext } from '../train-engine.js';
import { EvalShare } from '../ort-eval-share.js';
import { OrtConvEvaluator } from './conv-evaluate.js';
import { convParamSlots, type ConvNetSpec } from './conv-graph.js';
import { addConvStep, convMovingNames, type ConvStepSpec } from './conv-step-graph.js';
import type { GraphBuilder } from './graph.js';
import { LOG_SOFTMAX, loadOrt, type Ort, type OrtProvider } from './runtime.js';
import { LOSS_SUM, NEXT, velocityName } from './step-graph.js';

/** The run's graph spec on `provider`: its own widths and activation, read off its net. */
export function convSpecOf(ctx: EngineContext<ConvNet>, provider: OrtProvider): ConvNetSpec {
  const { net, config } = ctx;
  return {
    plan: cnnPlanOf(config),
    hiddenUnits: net.hidden.map((l) => l.w.shape[1] as number),
    classes: CLASSES,
    bn: net.bn,
    epsilon: net.epsilon,
    activation: net.activation,
    logSoftmax: LOG_SOFTMAX[provider],
  };
}

export class OrtConvMember implements StackMember {
  private state: Record<string, Tensor> = {};
  private readonly paramNames: string[];
  private readonly moving: { mean: string[]; variance: string[] };
  /** velocity.<param> per parameter, in paramNames' order; [] for plain SGD. */
  private readonly velocityNames: string[];
  private readonly stateNames: string[];

  private constructor(
    private readonly ctx: EngineContext<ConvNet>,
    private readonly ort: Ort,
    /** The step graph's spec of this run (its arm and learning rate). */
    readonly stepSpec: ConvStepSpec,
    private readonly evaluator: OrtConvEvaluator,
    /** The share this member created for itself and releases (none in a stack, whose share it is). */
    private readonly ownShare?: EvalShare,
  ) {
    this.paramNames = convParamSlots(stepSpec).map((s) => s.name);
    this.moving = ctx.moving ? convMovingNames(stepSpec) : { mean: [], variance: [] };
    this.velocityNames = ctx.velocity ? this.paramNames.map(velocityName) : [];
    this.stateNames = [...this.paramNames, LOSS_SUM, ...this.moving.mean, ...this.moving.variance, ...this.velocityNames];
    const vars = convNetVariables(ctx.net);
    this.paramNames.forEach((name, i) => (this.state[name] = this.tensor(vars[i])));
    this.state[LOSS_SUM] = new ort.Tensor('float32', new Float32Array([ctx.lossSum]), []);
    ctx.moving?.stats.mean.forEach((t, i) => (this.state[this.moving.mean[i]] = this.tensor(t)));
    ctx.moving?.stats.variance.forEach((t, i) => (this.state[this.moving.variance[i]] = this.tensor(t)));
    ctx.velocity?.values.forEach((t, i) => (this.state[this.velocityNames[i]] = this.tensor(t)));
  }

  /** `share`: the stack's evaluation sessions and feeds (ort-eval-share.ts); without one the member owns its own. */
  static async create(ctx: EngineContext<ConvNet>, provider: OrtProvider, share?: EvalShare): Promise<OrtConvMember> {
    const ort = await loadOrt();
    const spec = convSpecOf(ctx, provider);
    const { config, data, seed } = ctx;
    const stepSpec = {
      ...spec,
      batchSize: config.train.batchSize,
      learningRate: ctx.learningRate,
      momentum: ctx.moving?.momentum,
      sgdMomentum: ctx.velocity?.momentum,
    };
    const own = share ? undefined : new EvalShare(ort, provider);
    try {
      const evaluator = await OrtConvEvaluator.create(share ?? (own as EvalShare), config, spec, data.train, data.test, seed);
      return new OrtConvMember(ctx, ort, stepSpec, evaluator, own);
    } catch (err) {
      await own?.release(); // the sessions built before the one that failed
      throw err;
    }
  }

  private tensor(t: tf.Tensor): Tensor {
    return new this.ort.Tensor('float32', Float32Array.from(t.dataSync() as Float32Array), t.shape);
  }

  addStep(g: GraphBuilder, prefix: string): void {
    addConvStep(g, this.stepSpec, prefix);
  }

  stepFeeds(prefix: string): Record<string, Tensor> {
    const m = this.ctx.config.train.batchSize;
    const { x, y } = this.ctx.sampler.nextHost(false);
    const feeds: Record<string, Tensor> = {
      [`${prefix}x`]: new this.ort.Tensor('float32', x, [m, IMAGE_PIXELS]),
      [`${prefix}y`]: new this.ort.Tensor('float32', y, [m, CLASSES]),
    };
    for (const name of this.stateNames) feeds[prefix + name] = this.state[name];
    return feeds;
  }

  takeStep(out: Record<string, Tensor>, prefix: string): void {
    for (const name of this.stateNames) this.state[name] = out[prefix + NEXT + name];
  }

  async lossSum(): Promise<number> {
    return (this.state[LOSS_SUM].data as Float32Array)[0];
  }

  resetLossSum(): void {
    this.state[LOSS_SUM] = new this.ort.Tensor('float32', new Float32Array([0]), []);
  }

  evaluate(): Promise<Evaluation> {
    const params = Object.fromEntries(this.paramNames.map((n) => [n, this.state[n]]));
    const moving = this.ctx.moving ? { mean: this.moving.mean.map((n) => this.state[n]), variance: this.moving.variance.map((n) => this.state[n]) } : undefined;
    return this.evaluator.evaluate(this.ort, params, moving);
  }

  syncNet(): void {
    const assign = (v: tf.Tensor, name: string) => tf.tidy(() => (v as tf.Variable).assign(tf.tensor(this.state[name].data as Float32Array, v.shape)));
    convNetVariables(this.ctx.net).forEach((v, i) => assign(v, this.paramNames[i]));
    this.ctx.moving?.stats.mean.forEach((t, i) => assign(t, this.moving.mean[i]));
    this.ctx.moving?.stats.variance.forEach((t, i) => assign(t, this.moving.variance[i]));
    this.ctx.velocity?.values.forEach((t, i) => assign(t, this.velocityNames[i]));
  }

  async dispose(): Promise<void> {
    await this.ownShare?.release();
  }
}
