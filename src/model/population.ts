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

/**
 * Population statistics over the mini-batches that `nextBatch(k)` returns for k = 0..K-1
 * (each batch tensor is disposed here after use).
 */
export function populationStats(net: Net, batchCount: number, nextBatch: (k: number) => tf.Tensor2D): BnStats {
  let meanSum: tf.Tensor1D[] = [];
  let varSum: tf.Tensor1D[] = [];
  let m = 0;
  for (let k = 0; k < batchCount; k++) {
    const x = nextBatch(k);
    m = x.shape[0];
    const next = tf.tidy(() => {
      const fwd = forwardTrain(net, x);
      return {
        mean: fwd.layers.map((c, i) => (k === 0 ? c.mean : tf.add(meanSum[i], c.mean as tf.Tensor1D)) as tf.Tensor1D),
        variance: fwd.layers.map((c, i) => (k === 0 ? c.variance : tf.add(varSum[i], c.variance as tf.Tensor1D)) as tf.Tensor1D),
      };
    });
    x.dispose();
    tf.dispose([...meanSum, ...varSum]);
    meanSum = next.mean;
    varSum = next.variance;
  }
  const stats = tf.tidy(() => ({
    mean: meanSum.map((s) => tf.div(s, batchCount) as tf.Tensor1D),
    variance: varSum.map((s) => tf.mul(s, m / (m - 1) / batchCount) as tf.Tensor1D),
  }));
  tf.dispose([...meanSum, ...varSum]);
  return stats;
}
