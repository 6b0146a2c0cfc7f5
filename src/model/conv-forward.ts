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

/** What the backward pass needs of one conv stage or hidden layer: z = input W, then BN or bias, then the nonlinearity. */
export interface AffineCache {
  /** The im2col patches (conv) or the layer's input (fully connected). */
  input: tf.Tensor2D;
  /** Input to the nonlinearity (activations.csv records the last hidden layer's). */
  pre: tf.Tensor2D;
  act: tf.Tensor2D;
  bn?: BnCache;
}

export type StageCache = { type: 'conv'; layer: AffineCache } | { type: 'pool'; pool: PoolCache };

export interface ConvForward {
  stages: StageCache[];
  hidden: AffineCache[];
  logits: tf.Tensor2D;
}

type Layer = HiddenLayer<tf.Tensor>;

function affineTrain(input: tf.Tensor2D, layer: Layer, net: ConvNet<tf.Tensor>): AffineCache {
  const z = tf.matMul(input, layer.w as tf.Tensor2D) as tf.Tensor2D;
  if (net.bn) {
    const { pre, ...bn } = batchNormTrain(z, layer.gamma as tf.Tensor1D, layer.beta as tf.Tensor1D, net.epsilon);
    return { input, pre, act: activate(pre, net.activation), bn };
  }
  const pre = tf.add(z, layer.b as tf.Tensor1D) as tf.Tensor2D;
  return { input, pre, act: activate(pre, net.activation) };
}

/** Training-mode forward pass of a mini-batch x (m x 784), keeping what convBackward needs. */
export function convForwardTrain(net: ConvNet<tf.Tensor>, x: tf.Tensor2D): ConvForward {
  const m = x.shape[0];
  let h = x;
  const stages = net.stages.map((stage): StageCache => {
    if (stage.type === 'pool') {
      const { out, cache } = maxPool(h, stage);
      h = out;
      return { type: 'pool', pool: cache };
    }
    const layer = affineTrain(im2col(h, stage), stage, net);
    h = tf.reshape(layer.act, [m, layer.act.size / m]);
    return { type: 'conv', layer };
  });
  const hidden = net.hidden.map((l) => {
    const layer = affineTrain(h, l, net);
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
  const affine = (input: tf.Tensor2D, layer: Layer): tf.Tensor2D => {
    const z = tf.matMul(input, layer.w as tf.Tensor2D) as tf.Tensor2D;
    const pre =
      net.bn && stats
        ? batchNormInference(z, layer.gamma as tf.Tensor1D, layer.beta as tf.Tensor1D, stats.mean[k], stats.variance[k], net.epsilon)
        : (tf.add(z, layer.b as tf.Tensor1D) as tf.Tensor2D);
    k++;
    lastPre = pre;
    return activate(pre, net.activation);
  };
  for (const stage of net.stages) {
    if (stage.type === 'pool') h = maxPool(h, stage).out;
    else h = tf.reshape(affine(im2col(h, stage), stage), [m, -1]);
  }
  for (const layer of net.hidden) h = affine(h, layer);
  return { logits: tf.add(tf.matMul(h, net.out.w), net.out.b) as tf.Tensor2D, lastPre };
}
