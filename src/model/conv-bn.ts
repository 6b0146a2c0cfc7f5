/**
 * Batch normalization per feature map (Ioffe & Szegedy 2015, Sec. 3.2). A conv stage's output is
 * kept as an (m*p*q) x F matrix, one row per example and location, so Algorithm 1 over its rows
 * is exactly the paper's rule: mean and variance of each map over the mini-batch and all
 * locations, m' = m*p*q values, one gamma and beta per map. The same code normalizes the fully
 * connected layers (m' = m). At inference (Algorithm 2) each map uses fixed statistics; the
 * population variance is unbiased by m'/(m'-1) (conv-train.ts).
 *
 * Backward (the chain rule under Algorithm 1), g = dL/dy at y = gamma * xhat + beta:
 *   dgamma = sum(g * xhat), dbeta = sum(g), dL/dz = gamma / sqrt(var + eps) * (g - (dbeta + xhat * dgamma) / m').
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchNormTrain } from './forward.js';

export { batchNormTrain };

export interface BnCache {
  xhat: tf.Tensor2D;
  invStd: tf.Tensor1D;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

export function batchNormBackward(dPre: tf.Tensor2D, cache: BnCache, gamma: tf.Tensor1D): { dz: tf.Tensor2D; dGamma: tf.Tensor1D; dBeta: tf.Tensor1D } {
  const rows = dPre.shape[0];
  const dGamma = tf.sum(tf.mul(dPre, cache.xhat), 0) as tf.Tensor1D;
  const dBeta = tf.sum(dPre, 0) as tf.Tensor1D;
  const scale = tf.mul(gamma, cache.invStd);
  const dz = tf.mul(scale, tf.sub(dPre, tf.div(tf.add(tf.mul(cache.xhat, dGamma), dBeta), rows))) as tf.Tensor2D;
  return { dz, dGamma, dBeta };
}

/** Algorithm 2, step 10 with fixed statistics: gamma * (z - mean) / sqrt(var + eps) + beta. */
export function batchNormInference(
  z: tf.Tensor2D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  mean: tf.Tensor1D,
  variance: tf.Tensor1D,
  epsilon: number,
): tf.Tensor2D {
  const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, epsilon)));
  return tf.add(tf.mul(tf.sub(z, mean), scale), beta) as tf.Tensor2D;
}
