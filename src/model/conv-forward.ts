/**
 * Forward passes of the CNN (conv-net.ts). Training mode normalizes every conv map and hidden
 * unit with its own mini-batch statistics (Algorithm 1; per map over batch and locations,
 * Sec. 3.2: conv-bn.ts); inference mode uses fixed per-map statistics (Algorithm 2). Activations
 * flow as flat NHWC matrices (m x H*W*C); a conv stage's output is (m*P*Q) x F. Callers run these
 * inside tf.tidy.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BnStats, HiddenLayer } from './net.js';
import type { ConvNet } from './conv-net.js';
import { batchNormInference, batchNormTrain, type BnCache } from './conv-bn.js';
import { activate, im2col, maxPool, type PoolCache } from './conv-ops.js';
import { convForward, poolForward, type PoolKernelCache } from './conv-kernels.js';

/** What the backward pass needs of one conv stage or hidden layer: z = input W, then BN or bias, then the nonlinearity. */
export interface AffineCache {
  /** The layer's input: flat NHWC maps (conv) or the previous layer's output (fully connected). */
  input: tf.Tensor2D;
  /** Input to the nonlinearity (activations.csv records the last hidden layer's). */
  pre: tf.Tensor2D;
  act: tf.Tensor2D;
  bn?: BnCache;
}

/** A pool's cache: the kernels' (training) or the reshape + max reference's (ConvForwardOptions.reference). */
export type StageCache = { type: 'conv'; layer: AffineCache } | { type: 'pool'; pool?: PoolCache; kernel?: PoolKernelCache };

export interface ConvForward {
  stages: StageCache[];
  hidden: AffineCache[];
  logits: tf.Tensor2D;
}

type Layer = HiddenLayer<tf.Tensor>;

export interface ConvForwardOptions {
  /** Convolve by the gather-based im2col and a matMul, pool by reshape + max (conv-ops.ts): the tests' second formulation. */
  reference?: boolean;
}

function affineTrain(input: tf.Tensor2D, z: tf.Tensor2D, layer: Layer, net: ConvNet<tf.Tensor>): AffineCache {
  if (net.bn) {
    const { pre, ...bn } = batchNormTrain(z, layer.gamma as tf.Tensor1D, layer.beta as tf.Tensor1D, net.epsilon);
    return { input, pre, act: activate(pre, net.activation), bn };
  }
  const pre = tf.add(z, layer.b as tf.Tensor1D) as tf.Tensor2D;
  return { input, pre, act: activate(pre, net.activation) };
}

/** Training-mode forward pass of a mini-batch x (m x 784), keeping what convBackward needs. */
export function convForwardTrain(net: ConvNet<tf.Tensor>, x: tf.Tensor2D, opts: ConvForwardOptions = {}): ConvForward {
  const m = x.shape[0];
  let h = x;
  const stages = net.stages.map((stage): StageCache => {
    if (stage.type === 'pool') {
      if (!opts.reference) {
        const { out, cache } = poolForward(h, stage);
        h = out;
        return { type: 'pool', kernel: cache };
      }
      const { out, cache } = maxPool(h, stage);
      h = out;
      return { type: 'pool', pool: cache };
    }
    const z = opts.reference ? (tf.matMul(im2col(h, stage), stage.w as tf.Tensor2D) as tf.Tensor2D) : convForward(h, stage);
    const layer = affineTrain(h, z, stage, net);
    h = tf.reshape(layer.act, [m, layer.act.size / m]);
    return { type: 'conv', layer };
  });
  const hidden = net.hidden.map((l) => {
    const layer = affineTrain(h, tf.matMul(h, l.w as tf.Tensor2D) as tf.Tensor2D, l, net);
    h = layer.act;
    return layer;
  });
  return { stages, hidden, logits: tf.add(tf.matMul(h, net.out.w), net.out.b) as tf.Tensor2D };
}

/**
 * Inference-mode logits, and the last hidden layer's inputs to the nonlinearity. `stats` holds one
 * mean and variance per BN layer in bnWidths order (conv stages, then hidden layers).
 */
export function convForwardInference(net: ConvNet<tf.Tensor>, x: tf.Tensor2D, stats?: BnStats): { logits: tf.Tensor2D; lastPre: tf.Tensor2D } {
  if (net.bn && !stats) throw new Error('convForwardInference: the BN net needs inference statistics');
  const m = x.shape[0];
  let h = x;
  let k = 0;
  let lastPre = x;
  const affine = (z: tf.Tensor2D, layer: Layer): tf.Tensor2D => {
    const pre =
      net.bn && stats
        ? batchNormInference(z, layer.gamma as tf.Tensor1D, layer.beta as tf.Tensor1D, stats.mean[k], stats.variance[k], net.epsilon)
        : (tf.add(z, layer.b as tf.Tensor1D) as tf.Tensor2D);
    k++;
    lastPre = pre;
    return activate(pre, net.activation);
  };
  for (const stage of net.stages) {
    if (stage.type === 'pool') h = poolForward(h, stage).out;
    else h = tf.reshape(affine(convForward(h, stage), stage), [m, -1]);
  }
  for (const layer of net.hidden) h = affine(tf.matMul(h, layer.w as tf.Tensor2D) as tf.Tensor2D, layer);
  return { logits: tf.add(tf.matMul(h, net.out.w), net.out.b) as tf.Tensor2D, lastPre };
}
