/**
 * Algorithm 2, steps 8-11: population statistics for inference. Run the training network
 * N_BN^tr on K training mini-batches of size m and, per hidden unit, take
 *   E[x] = average of the mini-batch means,  Var[x] = m/(m-1) * average of the mini-batch variances.
 * Each layer's statistics are those of its inputs in N_BN^tr, i.e. with the earlier layers
 * normalized by their own mini-batch statistics.
 */
import * as tf from '@tensorflow/tfjs-core';
import { forwardTrain } from './forward.js';
import type { BnStats, Net } from './net.js';

/** One mini-batch's statistics of each BN layer: mean, variance, and the values each was taken over (m, or m' = m·p·q per map). */
export interface BatchLayerStats {
  mean: tf.Tensor1D[];
  variance: tf.Tensor1D[];
  rows: number[];
}

/**
 * Algorithm 2's averages over the K mini-batches that `nextBatch(k)` returns for k = 0..K-1 (each
 * disposed here after use), given each batch's layer statistics in N_BN^tr (`statsOf`, called in
 * a tidy scope): E[x] = the mean of the batch means, Var[x] = rows/(rows-1) * the mean of the batch
 * variances. The MLP and the CNN (per feature map, conv-train.ts) share it.
 */
export function averageBatchStats(batchCount: number, nextBatch: (k: number) => tf.Tensor2D, statsOf: (x: tf.Tensor2D) => BatchLayerStats): BnStats {
  let meanSum: tf.Tensor1D[] = [];
  let varSum: tf.Tensor1D[] = [];
  let rows: number[] = [];
  for (let k = 0; k < batchCount; k++) {
    const x = nextBatch(k);
    const next = tf.tidy(() => {
      const batch = statsOf(x);
      rows = batch.rows;
      return {
        mean: batch.mean.map((mean, i) => (k === 0 ? mean : tf.add(meanSum[i], mean)) as tf.Tensor1D),
        variance: batch.variance.map((variance, i) => (k === 0 ? variance : tf.add(varSum[i], variance)) as tf.Tensor1D),
      };
    });
    x.dispose();
    tf.dispose([...meanSum, ...varSum]);
    meanSum = next.mean;
    varSum = next.variance;
  }
  const stats = tf.tidy(() => ({
    mean: meanSum.map((s) => tf.div(s, batchCount) as tf.Tensor1D),
    variance: varSum.map((s, i) => tf.mul(s, rows[i] / (rows[i] - 1) / batchCount) as tf.Tensor1D),
  }));
  tf.dispose([...meanSum, ...varSum]);
  return stats;
}

/**
 * Population statistics over the mini-batches that `nextBatch(k)` returns for k = 0..K-1
 * (each batch tensor is disposed here after use).
 */
export function populationStats(net: Net, batchCount: number, nextBatch: (k: number) => tf.Tensor2D): BnStats {
  return averageBatchStats(batchCount, nextBatch, (x) => {
    const layers = forwardTrain(net, x).layers;
    return { mean: layers.map((c) => c.mean as tf.Tensor1D), variance: layers.map((c) => c.variance as tf.Tensor1D), rows: layers.map(() => x.shape[0]) };
  });
}
