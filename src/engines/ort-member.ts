/**
 * One run's part of the ONNX Runtime engine: its parameters, loss sum and moving statistics as
 * ORT tensors (fed to a step graph and swapped for its outputs), its evaluation session and the
 * fixed feeds of that session (test set, labels, probe, the K population mini-batches), and its
 * sampler's batches as step feeds. OrtEngine steps one member with its own step graph; the
 * stacked engine (ort-stacked-engine.ts) steps several with one graph whose inputs and outputs
 * carry a per-member prefix, or in batched groups (ort-batched-group.ts) that hold the state of
 * their members stacked and slice a member's values out when it reads them (stateOf).
 * Initial values come from the tfjs net (the seeded streams of tfjs). With `deviceResident` (ort/device-state.ts)
 * the state stays on the device between steps and the step is fed batch indices; batched groups keep host state.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { CLASSES, IMAGE_PIXELS } from '../data/dataset.js';
import { unitSummaries, type Evaluation } from '../model/evaluate.js';
import { hostBatchFeeds, mlpEvalSpec, populationFeed } from './ort/member-feeds.js';
import { netVariables } from '../model/net.js';
import { paramSlots, type NetSpec } from './ort/net-graph.js';
import { LOG_SOFTMAX, loadOrt, type Ort, type OrtProvider } from './ort/runtime.js';
import type { GraphBuilder } from './ort/graph.js';
import { LOSS_SUM, NEXT, addStep, movingNames, velocityName, type StepSpec } from './ort/step-graph.js';
import { DeviceTensors } from './ort/device-tensors.js';
import { ResidentState, backendOf } from './ort/device-state.js';
import { deviceResidentFor } from '../config/device-resident-rule.js';
import { EvalShare } from './ort-eval-share.js';
import type { StackMember } from './stack-member.js';
import type { EngineContext } from './train-engine.js';

export class OrtMember implements StackMember {
  /** Parameters, loss sum and moving statistics by graph input name (no prefix). */
  private state: Record<string, Tensor> = {};
  /** While a batched group holds this member's state: the group, its reader, and the names written since. */
  private holder?: { group: object; read: (name: string) => Tensor; written: Set<string> };
  /** Every state name of the step graph (no prefix): parameters, loss sum, moving statistics. */
  readonly stateNames: string[];
  private readonly paramNames: string[];
  /** velocity.<param> per parameter, in paramNames' order; [] for plain SGD. */
  private readonly velocityNames: string[];
  private readonly moving: { mean: string[]; variance: string[] };
  /** The step graph's spec of this run (its arm and learning rate). */
  readonly stepSpec: StepSpec;

  private constructor(
    private readonly ctx: EngineContext,
    private readonly ort: Ort,
    provider: OrtProvider,
    private readonly evalSession: InferenceSession,
    private readonly evalFeeds: Record<string, Tensor>,
    /** The share this member created for itself and releases. */
    private readonly ownShare?: EvalShare,
    /** Device residency (deviceResident), and whether its store is this member's own to dispose. */
    private readonly resident?: ResidentState,
    private readonly ownStore = false,
  ) {
    const { net, moving, config } = ctx;
    const spec = OrtMember.spec(ctx, provider);
    this.stepSpec = {
      ...spec,
      batchSize: config.train.batchSize,
      learningRate: ctx.learningRate,
      momentum: moving?.momentum,
      sgdMomentum: ctx.velocity?.momentum,
    };
    this.paramNames = paramSlots(spec).map((s) => s.name);
    this.moving = moving ? movingNames(spec.hiddenUnits) : { mean: [], variance: [] };
    this.velocityNames = ctx.velocity ? this.paramNames.map(velocityName) : [];
    this.stateNames = [...this.paramNames, LOSS_SUM, ...this.moving.mean, ...this.moving.variance, ...this.velocityNames];
    const vars = netVariables(net);
    this.paramNames.forEach((name, i) => (this.state[name] = this.tensor(vars[i])));
    this.state[LOSS_SUM] = new ort.Tensor('float32', new Float32Array([ctx.lossSum]), []);
    moving?.stats.mean.forEach((t, i) => (this.state[this.moving.mean[i]] = this.tensor(t)));
    moving?.stats.variance.forEach((t, i) => (this.state[this.moving.variance[i]] = this.tensor(t)));
    ctx.velocity?.values.forEach((t, i) => (this.state[this.velocityNames[i]] = this.tensor(t)));
  }

  /** The net's graph spec on `provider` (its log-softmax form: LOG_SOFTMAX in runtime.ts). */
  static spec(ctx: EngineContext, provider: OrtProvider): NetSpec {
    const { net } = ctx;
    return {
      inputSize: IMAGE_PIXELS,
      // The run's own widths (a depth sweep's variant may set them), read off its net.
      hiddenUnits: net.hidden.map((layer) => layer.w.shape[1] as number),
      classes: CLASSES,
      bn: net.bn,
      epsilon: net.epsilon,
      logSoftmax: LOG_SOFTMAX[provider],
    };
  }

  /**
   * `share`: the evaluation sessions and test-set feeds of a stack, one per distinct graph, which
   * members with the same arm use together (same graph, same inputs: the same numbers); without
   * one the member owns its own.
   */
  static async create(ctx: EngineContext, provider: OrtProvider, share?: EvalShare, device?: DeviceTensors): Promise<OrtMember> {
    const ort = await loadOrt();
    // `device`: a stack's store, whose training-set upload its members share; else the member's own.
    const store = deviceResidentFor(ctx.config, backendOf(provider)) ? (device ?? new DeviceTensors(ort, provider)) : undefined;
    const own = share ? undefined : new EvalShare(ort, provider);
    const shared = share ?? (own as EvalShare);
    // What this member made (its own store's upload, its own share) is released if a later part fails.
    try {
      const resident = store && (await ResidentState.create(ort, store, ctx.data.train));
      const evalSpec = mlpEvalSpec(ctx, OrtMember.spec(ctx, provider));
      const evalSession = await shared.session(evalSpec);
      const feeds = { ...shared.testFeeds(ctx.data.test, evalSpec.probeCount) };
      if (evalSpec.population) feeds.popX = populationFeed(ort, ctx.data.train, ctx.seed, evalSpec.population.batches, evalSpec.population.batchSize);
      return new OrtMember(ctx, ort, provider, evalSession, feeds, own, resident, store !== undefined && store !== device);
    } catch (err) {
      if (store && store !== device) await store.dispose();
      await own?.release();
      throw err;
    }
  }

  addStep(g: GraphBuilder, prefix: string): void {
    addStep(g, this.stepSpec, prefix, undefined, this.resident?.set);
  }

  /** Where the step session should put this member's outputs (device-resident: on the device); {} = the host. */
  outputLocations(prefix: string): Record<string, 'gpu-buffer' | 'cpu'> {
    return this.resident?.outputLocations(prefix, this.stateNames) ?? {};
  }

  /** How many device tensors this member's store holds (state and training set); 0 on the host. */
  get deviceTensors(): number {
    return this.resident?.store.liveCount ?? 0;
  }

  private tensor(t: tf.Tensor): Tensor {
    return new this.ort.Tensor('float32', Float32Array.from(t.dataSync() as Float32Array), t.shape);
  }

  /** The next step's feeds of this run, its state and the sampler's next mini-batch, named `prefix` + name. */
  stepFeeds(prefix: string): Record<string, Tensor> {
    const m = this.ctx.config.train.batchSize;
    const feeds = this.resident ? this.resident.batchFeeds(prefix, this.ctx.sampler.nextIndices()) : hostBatchFeeds(this.ort, prefix, this.nextBatch(), m);
    for (const name of this.stateNames) feeds[prefix + name] = this.stateOf(name);
    return feeds;
  }

  /** The sampler's next mini-batch (images, one-hot labels) on the host. */
  nextBatch(): { x: Float32Array; y: Float32Array } {
    return this.ctx.sampler.nextHost(false);
  }

  /** Takes this run's next state from a step graph's outputs (`prefix` + NEXT + name). */
  takeStep(out: Record<string, Tensor>, prefix: string): void {
    this.holder = undefined;
    for (const name of this.stateNames) {
      const next = out[prefix + NEXT + name];
      this.resident?.replace(this.state[name], next);
      this.state[name] = next;
    }
  }

  /** The current value of state `name`, sliced from the holding group on first read after a step. */
  stateOf(name: string): Tensor {
    let value = this.state[name] as Tensor | undefined;
    if (!value && this.holder) value = this.state[name] = this.holder.read(name);
    if (!value) throw new Error(`OrtMember: no state named ${name}`);
    return value;
  }

  /** A batched group now holds this member's state: its values are read through `read`. */
  hold(group: object, read: (name: string) => Tensor): void {
    this.state = {};
    this.holder = { group, read, written: new Set() };
  }

  /** Whether `group`'s stacked value of `name` is still this member's (nothing wrote it since). */
  heldBy(group: object, name: string): boolean {
    return this.holder?.group === group && !this.holder.written.has(name);
  }

  async lossSum(): Promise<number> {
    return (this.stateOf(LOSS_SUM).data as Float32Array)[0];
  }

  resetLossSum(): void {
    this.resident?.store.release(this.state[LOSS_SUM]);
    this.state[LOSS_SUM] = new this.ort.Tensor('float32', new Float32Array([0]), []);
    this.holder?.written.add(LOSS_SUM);
  }

  async evaluate(): Promise<Evaluation> {
    const feeds: Record<string, Tensor> = { ...this.evalFeeds };
    for (const name of [...this.paramNames, ...this.moving.mean, ...this.moving.variance]) feeds[name] = this.stateOf(name);
    const out = await this.evalSession.run(feeds);
    const { config, data } = this.ctx;
    return {
      testLoss: (out.loss.data as Float32Array)[0],
      testAccuracy: (out.correct.data as Float32Array)[0] / data.test.count,
      units: unitSummaries(out.probePre.data as Float32Array, config.eval.units, config.eval.percentiles),
    };
  }

  async syncNet(): Promise<void> {
    // Device-resident values are read back in one call (DeviceTensors.read); host ones as they are.
    const names = this.stateNames.filter((n) => n !== LOSS_SUM);
    const host = this.resident ? await this.resident.store.read(Object.fromEntries(names.map((n) => [n, this.stateOf(n)]))) : undefined;
    const hostValue = (name: string) => host?.[name] ?? (this.stateOf(name).data as Float32Array);
    const assign = (v: tf.Tensor, name: string) => tf.tidy(() => (v as tf.Variable).assign(tf.tensor(hostValue(name), v.shape)));
    netVariables(this.ctx.net).forEach((v, i) => assign(v, this.paramNames[i]));
    this.ctx.moving?.stats.mean.forEach((t, i) => assign(t, this.moving.mean[i]));
    this.ctx.moving?.stats.variance.forEach((t, i) => assign(t, this.moving.variance[i]));
    this.ctx.velocity?.values.forEach((t, i) => assign(t, this.velocityNames[i]));
  }

  async dispose(): Promise<void> {
    for (const t of Object.values(this.state)) this.resident?.store.release(t);
    if (this.ownStore) await this.resident?.store.dispose();
    await this.ownShare?.release();
  }
}
