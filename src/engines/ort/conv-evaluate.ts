/**
 * One evaluation of the CNN on ONNX Runtime, as src/engines/cnn-evaluator.ts does it on tfjs:
 * Algorithm 2's population statistics per map and unit (K training mini-batches through
 * convBatchStatsModel, averaged here in float32 as averageBatchStats does) or the moving averages,
 * then the held-out set in chunks of CNN_EVAL_CHUNK examples (convEvalModel, one session per
 * distinct chunk size), the probe taken from the chunks' inference pass over its first rows.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { CNN_EVAL_CHUNK, type ResolvedConfig } from '../../config/config.js';
import { CLASSES, IMAGE_PIXELS, type Split } from '../../data/dataset.js';
import { populationOrder, populationRows, unitSummaries, type Evaluation } from '../../model/evaluate.js';
import { batchMeanName, batchVarianceName, convBatchStatsModel, convEvalModel, statNames } from './conv-eval-graph.js';
import type { ConvNetSpec } from './conv-graph.js';
import { sessionOptions, type Ort, type OrtProvider } from './runtime.js';

/** Copies of `split`'s rows (the data set lies on SharedArrayBuffers, which ORT refuses). */
function images(split: Split, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * IMAGE_PIXELS);
  for (let i = 0; i < rows.length; i++) out.set(split.images.subarray(rows[i] * IMAGE_PIXELS, (rows[i] + 1) * IMAGE_PIXELS), i * IMAGE_PIXELS);
  return out;
}

interface Chunk {
  session: InferenceSession;
  feeds: Record<string, Tensor>;
  start: number;
  count: number;
}

export class OrtConvEvaluator {
  private constructor(
    private readonly config: ResolvedConfig,
    private readonly spec: ConvNetSpec,
    private readonly testCount: number,
    private readonly chunks: Chunk[],
    private readonly sessions: InferenceSession[],
    /** Population statistics: the batch-moments session, its K batches and each layer's m'. */
    private readonly population?: { session: InferenceSession; batches: Tensor[]; rows: number[] },
  ) {}

  static async create(ort: Ort, provider: OrtProvider, config: ResolvedConfig, spec: ConvNetSpec, train: Split, test: Split, seed: number) {
    const sessions: InferenceSession[] = [];
    const open = async (model: Uint8Array) => {
      const session = await ort.InferenceSession.create(model, sessionOptions(provider));
      sessions.push(session);
      return session;
    };
    try {
      return await OrtConvEvaluator.build(ort, open, config, spec, train, test, seed, sessions);
    } catch (err) {
      for (const s of sessions) await s.release(); // a session that failed to build releases those before it
      throw err;
    }
  }

  private static async build(
    ort: Ort,
    open: (model: Uint8Array) => Promise<InferenceSession>,
    config: ResolvedConfig,
    spec: ConvNetSpec,
    train: Split,
    test: Split,
    seed: number,
    sessions: InferenceSession[],
  ) {
    const f32 = (values: Float32Array, dims: number[]) => new ort.Tensor('float32', values, dims);
    const bySize = new Map<number, InferenceSession>();
    const chunks: Chunk[] = [];
    for (let start = 0; start < test.count; start += CNN_EVAL_CHUNK) {
      const count = Math.min(CNN_EVAL_CHUNK, test.count - start);
      let session = bySize.get(count);
      if (!session) {
        session = await open(convEvalModel(spec, count, config.eval.units));
        bySize.set(count, session);
      }
      const labels = test.labels.subarray(start, start + count);
      const y = new Float32Array(count * CLASSES);
      labels.forEach((l, i) => (y[i * CLASSES + l] = 1));
      const feeds = {
        testX: f32(
          images(
            test,
            Array.from({ length: count }, (_, i) => start + i),
          ),
          [count, IMAGE_PIXELS],
        ),
        testY: f32(y, [count, CLASSES]),
        testLabels: new ort.Tensor(
          'int64',
          BigInt64Array.from(labels, (l) => BigInt(l)),
          [count],
        ),
      };
      chunks.push({ session, feeds, start, count });
    }
    let population: OrtConvEvaluator['population'];
    if (spec.bn && config.batchNorm.inference === 'population') {
      const m = config.train.batchSize;
      const { model, rows } = convBatchStatsModel(spec, m);
      const order = populationOrder(train, seed);
      const batches = Array.from({ length: config.batchNorm.populationBatches }, (_, k) => f32(images(train, populationRows(order, k, m)), [m, IMAGE_PIXELS]));
      population = { session: await open(model), batches, rows };
    }
    return new OrtConvEvaluator(config, spec, test.count, chunks, sessions, population);
  }

  /** Algorithm 2: E[x] = mean of the K batch means, Var[x] = m'/(m'-1) * mean of the batch variances, per BN layer. */
  private async populationStats(params: Record<string, Tensor>): Promise<{ mean: Float32Array[]; variance: Float32Array[] }> {
    const { session, batches, rows } = this.population!;
    let mean: Float32Array[] = [];
    let variance: Float32Array[] = [];
    for (const [k, x] of batches.entries()) {
      const out = await session.run({ ...params, x });
      const add = (sums: Float32Array[], name: (i: number) => string) =>
        rows.map((_, i) => {
          const batch = out[name(i)].data as Float32Array;
          return k === 0 ? Float32Array.from(batch) : sums[i].map((s, j) => s + batch[j]);
        });
      mean = add(mean, batchMeanName);
      variance = add(variance, batchVarianceName);
    }
    // Float32Array arithmetic rounds each result to float32, as tfjs's averageBatchStats computes it.
    const K = batches.length;
    return {
      mean: mean.map((s) => s.map((v) => v / K)),
      variance: variance.map((s, i) => s.map((v) => v * Math.fround(rows[i] / (rows[i] - 1) / K))),
    };
  }

  /** `params`: the net's parameters by name; `moving`: the moving averages' values (batchNorm.inference "moving"). */
  async evaluate(ort: Ort, params: Record<string, Tensor>, moving?: { mean: Tensor[]; variance: Tensor[] }): Promise<Evaluation> {
    const feeds: Record<string, Tensor> = { ...params };
    if (this.spec.bn) {
      const names = statNames(this.spec);
      const stats = this.population ? await this.populationStats(params) : undefined;
      names.mean.forEach((name, i) => {
        feeds[name] = stats ? new ort.Tensor('float32', stats.mean[i], [stats.mean[i].length]) : moving!.mean[i];
        feeds[names.variance[i]] = stats ? new ort.Tensor('float32', stats.variance[i], [stats.variance[i].length]) : moving!.variance[i];
      });
    }
    const units = this.config.eval.units;
    const probeSize = this.config.eval.probeSize;
    const probeCount = probeSize > 0 && probeSize < this.testCount ? probeSize : this.testCount;
    const probe = new Float32Array(units.length * probeCount); // units x probe: a contiguous row per unit
    let lossSum = 0;
    let correct = 0;
    for (const chunk of this.chunks) {
      const out = await chunk.session.run({ ...feeds, ...chunk.feeds });
      lossSum += (out.lossSum.data as Float32Array)[0];
      correct += (out.correct.data as Float32Array)[0];
      const pre = out.probePre.data as Float32Array;
      for (let r = 0; r < Math.min(chunk.count, probeCount - chunk.start); r++) {
        for (let u = 0; u < units.length; u++) probe[u * probeCount + chunk.start + r] = pre[r * units.length + u];
      }
    }
    return {
      testLoss: Math.fround(lossSum / this.testCount),
      testAccuracy: correct / this.testCount,
      units: unitSummaries(probe, units, this.config.eval.percentiles),
    };
  }

  async dispose(): Promise<void> {
    for (const s of this.sessions) await s.release();
  }
}
