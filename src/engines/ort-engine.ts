/**
 * The ONNX Runtime engine: the run's parameters, loss sum and moving statistics live as ORT
 * tensors that each step's graph takes as inputs and returns updated (with momentum SGD, the
 * velocity too); the test set, its labels,
 * the probe and the K population mini-batches are fixed per run and built into tensors once.
 * Initial values come from the tfjs net (the same seeded streams as the tfjs engine).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { CLASSES, IMAGE_PIXELS, type Split } from '../data/dataset.js';
import { populationOrder, populationRows, unitSummaries, type Evaluation } from '../evaluate.js';
import { netVariables } from '../model/net.js';
import { paramSlots, type NetSpec } from './ort/net-graph.js';
import { loadOrt, sessionOptions, type Ort, type OrtProvider } from './ort/runtime.js';
import { LOSS_SUM, NEXT, evalModel, movingNames, stepModel, velocityName } from './ort/step-graph.js';
import type { EngineContext, TrainEngine } from './train-engine.js';

/** Rows `rows` of `split`'s images, one after another. */
function gatherImages(split: Split, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * IMAGE_PIXELS);
  for (let i = 0; i < rows.length; i++) out.set(split.images.subarray(rows[i] * IMAGE_PIXELS, (rows[i] + 1) * IMAGE_PIXELS), i * IMAGE_PIXELS);
  return out;
}

function oneHot(labels: Uint8Array): Float32Array {
  const y = new Float32Array(labels.length * CLASSES);
  labels.forEach((label, i) => (y[i * CLASSES + label] = 1));
  return y;
}

export class OrtEngine implements TrainEngine {
  /** Parameters, loss sum and moving statistics by graph input name. */
  private state: Record<string, Tensor> = {};
  private readonly stateNames: string[];
  private readonly paramNames: string[];
  private readonly moving: { mean: string[]; variance: string[] };
  /** velocity.<param> per parameter, in paramNames' order; [] for plain SGD. */
  private readonly velocityNames: string[];

  private constructor(
    private readonly ctx: EngineContext,
    private readonly ort: Ort,
    private readonly stepSession: InferenceSession,
    private readonly evalSession: InferenceSession,
    private readonly evalFeeds: Record<string, Tensor>,
  ) {
    const { net, moving } = ctx;
    this.paramNames = paramSlots(OrtEngine.spec(ctx)).map((s) => s.name);
    this.moving = moving ? movingNames(OrtEngine.spec(ctx).hiddenUnits) : { mean: [], variance: [] };
    this.velocityNames = ctx.velocity ? this.paramNames.map(velocityName) : [];
    this.stateNames = [...this.paramNames, LOSS_SUM, ...this.moving.mean, ...this.moving.variance, ...this.velocityNames];
    const vars = netVariables(net);
    this.paramNames.forEach((name, i) => (this.state[name] = this.tensor(vars[i])));
    this.state[LOSS_SUM] = new ort.Tensor('float32', new Float32Array([ctx.lossSum]), []);
    moving?.stats.mean.forEach((t, i) => (this.state[this.moving.mean[i]] = this.tensor(t)));
    moving?.stats.variance.forEach((t, i) => (this.state[this.moving.variance[i]] = this.tensor(t)));
    ctx.velocity?.values.forEach((t, i) => (this.state[this.velocityNames[i]] = this.tensor(t)));
  }

  private static spec(ctx: EngineContext): NetSpec {
    const { net } = ctx;
    // The run's own widths (a depth sweep's variant may set them), read off its net.
    const hiddenUnits = net.hidden.map((layer) => layer.w.shape[1] as number);
    return { inputSize: IMAGE_PIXELS, hiddenUnits, classes: CLASSES, bn: net.bn, epsilon: net.epsilon };
  }

  static async create(ctx: EngineContext, provider: OrtProvider): Promise<OrtEngine> {
    const ort = await loadOrt();
    const { config, data, net, moving } = ctx;
    const spec = OrtEngine.spec(ctx);
    const m = config.train.batchSize;
    const test = data.test;
    const probeCount = config.eval.probeSize > 0 && config.eval.probeSize < test.count ? config.eval.probeSize : test.count;
    const population = net.bn && config.batchNorm.inference === 'population' ? { batches: config.batchNorm.populationBatches, batchSize: m } : undefined;
    const options = sessionOptions(provider);
    const stepSession = await ort.InferenceSession.create(
      stepModel({ ...spec, batchSize: m, learningRate: ctx.learningRate, momentum: moving?.momentum, sgdMomentum: ctx.velocity?.momentum }),
      options,
    );
    const evalSession = await ort.InferenceSession.create(
      evalModel({ ...spec, testCount: test.count, probeCount, units: config.eval.units, population, moving: moving !== undefined }),
      options,
    );
    const f32 = (values: Float32Array, dims: number[]) => new ort.Tensor('float32', values, dims);
    // Copies: the data set lies on SharedArrayBuffers (for worker threads), which ORT refuses.
    const feeds: Record<string, Tensor> = {
      testX: f32(test.images.slice(), [test.count, IMAGE_PIXELS]),
      testY: f32(oneHot(test.labels), [test.count, CLASSES]),
      testLabels: new ort.Tensor(
        'int64',
        BigInt64Array.from(test.labels, (l) => BigInt(l)),
        [test.count],
      ),
    };
    if (probeCount < test.count) feeds.probeX = f32(test.images.slice(0, probeCount * IMAGE_PIXELS), [probeCount, IMAGE_PIXELS]);
    if (population) {
      const order = populationOrder(data.train, ctx.seed);
      const rows = Array.from({ length: population.batches }, (_, k) => Array.from(populationRows(order, k, m))).flat();
      feeds.popX = f32(gatherImages(data.train, rows), [rows.length, IMAGE_PIXELS]);
    }
    return new OrtEngine(ctx, ort, stepSession, evalSession, feeds);
  }

  private tensor(t: tf.Tensor): Tensor {
    return new this.ort.Tensor('float32', Float32Array.from(t.dataSync() as Float32Array), t.shape);
  }

  async step(): Promise<void> {
    const m = this.ctx.config.train.batchSize;
    const { x, y } = this.ctx.sampler.nextHost(false);
    const feeds = { ...this.state, x: new this.ort.Tensor('float32', x, [m, IMAGE_PIXELS]), y: new this.ort.Tensor('float32', y, [m, CLASSES]) };
    const out = await this.stepSession.run(feeds);
    for (const name of this.stateNames) this.state[name] = out[NEXT + name];
  }

  async lossSum(): Promise<number> {
    return (this.state[LOSS_SUM].data as Float32Array)[0];
  }

  resetLossSum(): void {
    this.state[LOSS_SUM] = new this.ort.Tensor('float32', new Float32Array([0]), []);
  }

  async evaluate(): Promise<Evaluation> {
    const feeds: Record<string, Tensor> = { ...this.evalFeeds };
    for (const name of [...this.paramNames, ...this.moving.mean, ...this.moving.variance]) feeds[name] = this.state[name];
    const out = await this.evalSession.run(feeds);
    const { config, data } = this.ctx;
    return {
      testLoss: (out.loss.data as Float32Array)[0],
      testAccuracy: (out.correct.data as Float32Array)[0] / data.test.count,
      units: unitSummaries(out.probePre.data as Float32Array, config.eval.units, config.eval.percentiles),
    };
  }

  syncNet(): void {
    const assign = (v: tf.Tensor, name: string) => tf.tidy(() => (v as tf.Variable).assign(tf.tensor(this.state[name].data as Float32Array, v.shape)));
    netVariables(this.ctx.net).forEach((v, i) => assign(v, this.paramNames[i]));
    this.ctx.moving?.stats.mean.forEach((t, i) => assign(t, this.moving.mean[i]));
    this.ctx.moving?.stats.variance.forEach((t, i) => assign(t, this.moving.variance[i]));
    this.ctx.velocity?.values.forEach((t, i) => assign(t, this.velocityNames[i]));
  }

  async dispose(): Promise<void> {
    await this.stepSession.release();
    await this.evalSession.release();
  }
}
