/**
 * Forward passes. Training mode normalizes each hidden pre-activation with its own mini-batch
 * statistics (Algorithm 1: batch mean, biased batch variance, epsilon, then gamma * xhat + beta);
 * inference mode uses fixed statistics instead (Algorithm 2, step 10). Callers run these inside
 * tf.tidy.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { AnyNet, BnStats } from './net.js';

/** What backward() needs from one hidden layer. */
export interface LayerCache {
  /** The layer's input u (the mini-batch itself for the first layer). */
  input: tf.Tensor2D;
  /** Input to the sigmoid: BN(Wu) for the BN net, Wu + b for the baseline (Fig. 1b,c). */
  pre?: tf.Tensor2D;
  /** Sigmoid output. */
  act: tf.Tensor2D;
  /** BN only: normalized pre-activation, 1/sqrt(var + eps), and the batch moments. */
  xhat?: tf.Tensor2D;
  invStd?: tf.Tensor1D;
  mean?: tf.Tensor1D;
  variance?: tf.Tensor1D;
}

export interface TrainForward {
  layers: LayerCache[];
  logits: tf.Tensor2D;
}

/**
 * Algorithm 1 on a mini-batch of pre-activations z = Wu, written out op by op (tf.moments adds
 * casts and reshapes that cost more than the arithmetic at this size).
 */
export function batchNormTrain(z: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number) {
  const mean = tf.mean(z, 0) as tf.Tensor1D;
  const centered = tf.sub(z, mean) as tf.Tensor2D;
  const variance = tf.mean(tf.square(centered), 0) as tf.Tensor1D; // biased: divides by m
  const invStd = tf.rsqrt(tf.add(variance, epsilon)) as tf.Tensor1D;
  const xhat = tf.mul(centered, invStd) as tf.Tensor2D;
  const pre = tf.add(tf.mul(xhat, gamma), beta) as tf.Tensor2D;
  return { mean, variance, invStd, xhat, pre };
}

export interface TrainForwardOptions {
  /** Keep the sigmoid inputs `pre` of every layer (the evaluator's activation probe needs them). */
  keepPre?: boolean;
  /** x W1, when the caller already has it (the evaluator shares it between its two passes). */
  firstProduct?: tf.Tensor2D;
  /** The mini-batch transposed (inputs x m), which the SGD step has for free from the host. */
  inputT?: tf.Tensor2D;
}

/**
 * x W1 for a mini-batch. W1 changes every step, and XNNPACK (wasm) repacks the right-hand
 * matrix of a product for every new tensor: packing W1 (784 x 100) costs as much as the product.
 * (W1^T x^T)^T packs x^T instead and measured 339 vs 529 us a step here.
 */
function firstLayerProduct(w: tf.Tensor2D, x: tf.Tensor2D, opts: TrainForwardOptions): tf.Tensor2D {
  if (opts.firstProduct) return opts.firstProduct;
  if (opts.inputT) return tf.transpose(tf.matMul(tf.transpose(w), opts.inputT)) as tf.Tensor2D;
  return tf.matMul(x, w);
}

/**
 * Training-mode forward pass (N_BN^tr for the BN net), keeping what backward() needs.
 * `pre` (the sigmoid input) is kept only when asked for: the baseline's training steps use one
 * fused matMul + bias + sigmoid kernel for the hidden layers after the first.
 */
export function forwardTrain(net: AnyNet, x: tf.Tensor2D, opts: TrainForwardOptions = {}): TrainForward {
  const layers: LayerCache[] = [];
  let h = x;
  net.hidden.forEach((layer, i) => {
    let cache: LayerCache;
    const w = layer.w as tf.Tensor2D;
    const product = () => (i === 0 ? firstLayerProduct(w, x, opts) : (tf.matMul(h, w) as tf.Tensor2D));
    if (net.bn) {
      const bn = batchNormTrain(product(), layer.gamma as tf.Tensor1D, layer.beta as tf.Tensor1D, net.epsilon);
      cache = { input: h, ...bn, act: tf.sigmoid(bn.pre) };
    } else if (opts.keepPre || i === 0) {
      const pre = tf.add(product(), layer.b as tf.Tensor1D) as tf.Tensor2D;
      cache = { input: h, pre, act: tf.sigmoid(pre) };
    } else {
      cache = { input: h, act: tf.fused.matMul({ a: h, b: w, bias: layer.b, activation: 'sigmoid' }) as tf.Tensor2D };
    }
    layers.push(cache);
    h = cache.act;
  });
  const logits = tf.add(tf.matMul(h, net.out.w), net.out.b) as tf.Tensor2D;
  return { layers, logits };
}

/** Inference-mode logits (N_BN^inf for the BN net, with `stats`; the baseline ignores them). */
export function forwardInference(net: AnyNet, x: tf.Tensor2D, stats?: BnStats, firstProduct?: tf.Tensor2D): tf.Tensor2D {
  let h = x;
  net.hidden.forEach((layer, i) => {
    const z = i === 0 && firstProduct ? firstProduct : tf.matMul(h, layer.w);
    let pre: tf.Tensor;
    if (net.bn) {
      if (!stats) throw new Error('forwardInference: the BN net needs inference statistics');
      const scale = tf.mul(layer.gamma as tf.Tensor1D, tf.rsqrt(tf.add(stats.variance[i], net.epsilon)));
      pre = tf.add(tf.mul(tf.sub(z, stats.mean[i]), scale), layer.beta as tf.Tensor1D);
    } else {
      pre = tf.add(z, layer.b as tf.Tensor1D);
    }
    h = tf.sigmoid(pre) as tf.Tensor2D;
  });
  return tf.add(tf.matMul(h, net.out.w), net.out.b) as tf.Tensor2D;
}

/**
 * Mean softmax cross-entropy of `logits` against one-hot `targets`, and its gradient multiplied
 * by `gradScale`. Everything backward() computes is linear in dLogits, so the SGD step passes the
 * learning rate here and gets lr-scaled updates without one multiply per parameter.
 */
export function softmaxCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor2D, gradScale = 1): { loss: tf.Scalar; dLogits: tf.Tensor2D } {
  const m = logits.shape[0];
  const logProbs = tf.logSoftmax(logits);
  const loss = tf.div(tf.neg(tf.sum(tf.mul(targets, logProbs))), m) as tf.Scalar;
  const dLogits = tf.mul(tf.sub(tf.exp(logProbs), targets), gradScale / m) as tf.Tensor2D;
  return { loss, dLogits };
}
