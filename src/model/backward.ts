/**
 * Hand-written backward pass of both networks, checked against finite differences and tfjs
 * autodiff in test/gradients.test.ts. Written with plain matrix products over explicit
 * transposes because transposed products are ~10x slower on the wasm backend.
 *
 * Batch normalization (Sec. 3, the chain rule under Algorithm 1), with m examples,
 * g = dL/dy at the BN output y = gamma * xhat + beta:
 *   dgamma = sum(g * xhat), dbeta = sum(g),
 *   dL/dz  = gamma / sqrt(var + eps) * (g - (dbeta + xhat * dgamma) / m).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TrainForward } from './forward.js';
import type { AnyNet } from './net.js';

export interface LayerGrads {
  w: tf.Tensor2D;
  b?: tf.Tensor1D;
  gamma?: tf.Tensor1D;
  beta?: tf.Tensor1D;
}

export interface Grads {
  hidden: LayerGrads[];
  out: { w: tf.Tensor2D; b: tf.Tensor1D };
}

/**
 * Gradients of the loss whose gradient w.r.t. the logits is `dLogits` (scaled as dLogits is). `inputT` may pass the
 * transposed mini-batch (built on the host for free) so the widest transpose is skipped.
 */
export function backward(net: AnyNet, fwd: TrainForward, dLogits: tf.Tensor2D, inputT?: tf.Tensor2D): Grads {
  const m = dLogits.shape[0];
  const L = fwd.layers.length;
  const out = {
    w: tf.matMul(tf.transpose(fwd.layers[L - 1].act), dLogits) as tf.Tensor2D,
    b: tf.sum(dLogits, 0) as tf.Tensor1D,
  };
  let dAct = tf.matMul(dLogits, tf.transpose(net.out.w)) as tf.Tensor2D;
  const hidden: LayerGrads[] = new Array(L);
  for (let i = L - 1; i >= 0; i--) {
    const cache = fwd.layers[i];
    const layer = net.hidden[i];
    // sigmoid'(y) = s(y) * (1 - s(y))
    const dPre = tf.mul(dAct, tf.mul(cache.act, tf.sub(1, cache.act))) as tf.Tensor2D;
    let dz: tf.Tensor2D;
    if (net.bn) {
      const xhat = cache.xhat as tf.Tensor2D;
      const dGamma = tf.sum(tf.mul(dPre, xhat), 0) as tf.Tensor1D;
      const dBeta = tf.sum(dPre, 0) as tf.Tensor1D;
      const scale = tf.mul(layer.gamma as tf.Tensor1D, cache.invStd as tf.Tensor1D);
      dz = tf.mul(scale, tf.sub(dPre, tf.div(tf.add(tf.mul(xhat, dGamma), dBeta), m)));
      hidden[i] = { w: tf.matMul(i === 0 && inputT ? inputT : tf.transpose(cache.input), dz), gamma: dGamma, beta: dBeta };
    } else {
      dz = dPre;
      hidden[i] = { w: tf.matMul(i === 0 && inputT ? inputT : tf.transpose(cache.input), dz), b: tf.sum(dPre, 0) as tf.Tensor1D };
    }
    // dz W^T, computed as (W dz^T)^T: W changes every step and wasm's XNNPACK repacks the
    // right-hand matrix of each new tensor, so the small dz^T is the cheaper one to pack (77 vs 100 us).
    if (i > 0) dAct = tf.transpose(tf.matMul(layer.w, tf.transpose(dz))) as tf.Tensor2D;
  }
  return { hidden, out };
}
