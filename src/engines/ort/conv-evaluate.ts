/**
 * One evaluation of the CNN on ONNX Runtime, as src/engines/cnn-evaluator.ts does it on tfjs:
 * Algorithm 2's population statistics per map and unit (K training mini-batches through
 * convBatchStatsModel, averaged here in float32 as averageBatchStats does) or the moving averages,
 * then the held-out set in chunks of CNN_EVAL_CHUNK examples (convEvalModel, one session per
 * distinct chunk size), the probe taken from the chunks' inference pass over its first rows.
 * Sessions, test chunks and population batches come from an EvalShare (ort-eval-share.ts), so the
 * CNN members of a lockstep stack hold one of each, as the MLP's members do.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { CNN_EVAL_CHUNK, type ResolvedConfig } from '../../config/config.js';
import type { Split } from '../../data/dataset.js';
import { unitSummaries, type Evaluation } from '../../model/evaluate.js';
import type { EvalShare, TestChunk } from '../ort-eval-share.js';
import { batchMeanName, batchVarianceName, convBatchStatsModel, convEvalModel, statNames } from './conv-eval-graph.js';
import type { ConvNetSpec } from './conv-graph.js';
import type { Ort } from './runtime.js';

/**
 * The CNN's evaluation sessions run without ORT's CPU arena: the arena keeps each session's peak
 * (a chunk's im2col patches and maps, ~100-200 MB per graph at 1,000 images) for the process's
 * life, though a session runs only at evaluations. Measured on a 6-arm cnn-fig3 stack, full
 * MNIST, ort-cpu (2026-12-01): 1,103 MB RSS after one evaluation per member with the arena, 413 MB
 * without, the same test losses, and no slower evaluations (9.4 and 8.7 s, at a load average of 14).
 */
const EVAL_SESSION_OPTIONS = { enableCpuMemArena: false };

interface Chunk extends TestChunk {
  session: InferenceSession;
}

export class OrtConvEvaluator {
  private constructor(
    private readonly config: ResolvedConfig,
    private readonly spec: ConvNetSpec,
    private readonly testCount: number,
    private readonly chunks: Chunk[],
    /** Population statistics: the batch-moments session, its K batches and each layer's m'. */
    private readonly population?: { session: InferenceSession; batches: Tensor[]; rows: number[] },
  ) {}

  /**
   * `share` holds the sessions and feeds (a stack's, or the member's own): one session per
   * distinct graph (spec and chunk size), one copy of the test chunks and of a seed's population
   * batches, however many members use them; whoever created the share releases it.
   */
  static async create(share: EvalShare, config: ResolvedConfig, spec: ConvNetSpec, train: Split, test: Split, seed: number) {
    const chunks: Chunk[] = [];
    for (const chunk of share.testChunks(test, CNN_EVAL_CHUNK)) {
      const key = `cnn-eval ${JSON.stringify([spec, chunk.count, config.eval.units])}`;
      const session = await share.sessionOf(key, () => convEvalModel(spec, chunk.count, config.eval.units), EVAL_SESSION_OPTIONS);
      chunks.push({ ...chunk, session });
    }
    let population: OrtConvEvaluator['population'];
    if (spec.bn && config.batchNorm.inference === 'population') {
      const m = config.train.batchSize;
      // The graph is small to build (its weights are inputs); its session, the costly part, is shared.
      const { model, rows } = convBatchStatsModel(spec, m);
      const session = await share.sessionOf(`cnn-batch-stats ${JSON.stringify([spec, m])}`, () => model, EVAL_SESSION_OPTIONS);
      population = { session, batches: share.populationBatches(train, seed, config.batchNorm.populationBatches, m), rows };
    }
    return new OrtConvEvaluator(config, spec, test.count, chunks, population);
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
}
