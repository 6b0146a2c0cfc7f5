/**
 * One evaluation of a network (Fig. 1): test loss and accuracy on the whole held-out set with
 * inference statistics, and the distribution of the sigmoid inputs of chosen last-hidden-layer
 * units over a probe of held-out examples, computed with the training network N_BN^tr (the
 * probe's own batch statistics), as the paper plots them.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ResolvedConfig } from '../config/config.js';
import type { Split } from '../data/dataset.js';
import { imagesTensor } from './batches.js';
import { lossAndAccuracy, meanAndPopulationStd, percentiles } from './metrics.js';
import { forwardInference, forwardTrain } from './forward.js';
import { disposeStats, type BnStats, type Net } from './net.js';
import { populationStats } from './population.js';
import { Rng } from '../core/random.js';

export interface Evaluation {
  testLoss: number;
  testAccuracy: number;
  /** Per configured unit: percentiles (config order), mean and std of its sigmoid input. */
  units: { unit: number; percentiles: number[]; mean: number; std: number }[];
}

/** The K population mini-batches are fixed per seed, drawn from their own stream. */
export function populationOrder(train: Split, seed: number): Uint32Array {
  return Rng.stream(seed, 'population-batches').permutation(train.count);
}

/** The training rows of population mini-batch k (m of them, wrapping around the order). */
export function populationRows(order: Uint32Array, k: number, m: number): Uint32Array {
  const idx = new Uint32Array(m);
  for (let j = 0; j < m; j++) idx[j] = order[(k * m + j) % order.length];
  return idx;
}

/** Per unit, the percentiles, mean and std of its row of `values` (units x probe, row-major). */
export function unitSummaries(values: Float32Array, units: number[], ps: number[]): Evaluation['units'] {
  const n = values.length / units.length;
  return units.map((unit, i) => {
    const row = values.subarray(i * n, (i + 1) * n);
    return { unit, percentiles: percentiles(row, ps), ...meanAndPopulationStd(row) };
  });
}

export class Evaluator {
  private readonly testX: tf.Tensor2D;
  private readonly testLabels: tf.Tensor1D;
  private readonly probeX: tf.Tensor2D;
  private readonly popOrder: Uint32Array;

  constructor(
    private readonly config: ResolvedConfig,
    private readonly train: Split,
    test: Split,
    seed: number,
  ) {
    this.testX = tf.tensor2d(test.images, [test.count, test.images.length / test.count]);
    this.testLabels = tf.tensor1d(test.labels, 'int32');
    const probe = config.eval.probeSize;
    this.probeX = probe > 0 && probe < test.count ? tf.slice(this.testX, [0, 0], [probe, -1]) : this.testX;
    this.popOrder = populationOrder(train, seed);
  }

  /** Algorithm 2 statistics over K fixed training mini-batches. */
  private population(net: Net): BnStats {
    const m = this.config.train.batchSize;
    return populationStats(net, this.config.batchNorm.populationBatches, (k) => imagesTensor(this.train, populationRows(this.popOrder, k, m)));
  }

  /** Evaluates `net`; `moving` holds the moving averages when batchNorm.inference = "moving". */
  async evaluate(net: Net, moving?: BnStats): Promise<Evaluation> {
    const usePopulation = net.bn && this.config.batchNorm.inference === 'population';
    const stats = usePopulation ? this.population(net) : moving;
    const units = this.config.eval.units;
    const probeCount = this.probeX.shape[0];
    const [logits, pre] = tf.tidy(() => {
      // x W1 is most of the work and the same in both passes: compute it once.
      const first = tf.matMul(this.testX, net.hidden[0].w) as tf.Tensor2D;
      const probeFirst = probeCount === first.shape[0] ? first : tf.slice(first, [0, 0], [probeCount, -1]);
      const train = forwardTrain(net, this.probeX, { keepPre: true, firstProduct: probeFirst });
      // The baseline has no batch statistics: when the probe is the whole test set, the
      // training-mode pass already gave the inference logits.
      const out = !net.bn && probeFirst === first ? train.logits : forwardInference(net, this.testX, stats, first);
      const last = train.layers.at(-1)!.pre as tf.Tensor2D;
      return [out, tf.transpose(tf.gather(last, units, 1))]; // units x probe: a contiguous row per unit
    });
    if (usePopulation) disposeStats(stats);
    const { loss, accuracy } = await lossAndAccuracy(logits, this.testLabels);
    const values = await pre.data();
    tf.dispose([logits, pre]);
    return { testLoss: loss, testAccuracy: accuracy, units: unitSummaries(values as Float32Array, units, this.config.eval.percentiles) };
  }

  dispose(): void {
    if (this.probeX !== this.testX) this.probeX.dispose();
    this.testX.dispose();
    this.testLabels.dispose();
  }
}
