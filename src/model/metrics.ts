/**
 * Metrics. Percentiles use linear interpolation between order statistics (NumPy's default,
 * "type 7"): for p in [0, 100] over n sorted values, position h = (n - 1) * p / 100 and the
 * result is v[floor h] + (h - floor h) * (v[floor h + 1] - v[floor h]).
 */
import * as tf from '@tensorflow/tfjs-core';

/** Percentiles of `values` (not modified), one per entry of `ps`. */
export function percentiles(values: ArrayLike<number>, ps: number[]): number[] {
  if (values.length === 0) throw new Error('percentiles of an empty set');
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  return ps.map((p) => {
    const h = ((n - 1) * p) / 100;
    const lo = Math.floor(h);
    const hi = Math.min(lo + 1, n - 1);
    return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
  });
}

/** Mean and population standard deviation (divide by n). */
export function meanAndPopulationStd(values: ArrayLike<number>): { mean: number; std: number } {
  const n = values.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  let sq = 0;
  for (let i = 0; i < n; i++) sq += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(sq / n) };
}

/** Mean cross-entropy and accuracy of `logits` against integer `labels`, read to the host. */
export async function lossAndAccuracy(logits: tf.Tensor2D, labels: tf.Tensor1D): Promise<{ loss: number; accuracy: number }> {
  const packed = tf.tidy(() => {
    const n = logits.shape[0];
    const classes = logits.shape[1];
    const logProbs = tf.logSoftmax(logits);
    const loss = tf.div(tf.neg(tf.sum(tf.mul(tf.oneHot(labels, classes), logProbs))), n);
    const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32'));
    return tf.stack([loss, correct]);
  });
  const [loss, correct] = await packed.data();
  packed.dispose();
  // The count is an exact integer in float32 (n < 2^24); divide on the host for an exact ratio.
  return { loss, accuracy: correct / logits.shape[0] };
}
