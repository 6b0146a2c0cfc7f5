/**
 * Hand-written backward pass of the CNN (conv-forward.ts), checked against central finite
 * differences and tfjs autodiff (through the gather-based im2col forward) in test/cnn-model.test.ts.
 * A conv stage is an affine layer on its im2col patches: dW = patches^T dz and the input gradient
 * is col2im(dz W^T), computed by tfjs's conv kernels (conv-kernels.ts). BN per map: conv-bn.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayerGrads } from './backward.js';
import { batchNormBackward } from './conv-bn.js';
import type { ConvNet } from './conv-net.js';
import type { AffineCache, ConvForward } from './conv-forward.js';
import { activationBackward, maxPoolBackward, type PoolCache } from './conv-ops.js';
import { convFilterGrad, convInputGrad, poolBackward } from './conv-kernels.js';
import type { HiddenLayer } from './net.js';

export interface ConvGrads {
  /** One entry per conv stage, in stage order (pools have no parameters). */
  conv: LayerGrads[];
  hidden: LayerGrads[];
  out: { w: tf.Tensor2D; b: tf.Tensor1D };
}

/** The layer's parameter gradients and dL/dz (z = input W, before BN or bias). */
function affineBackward(
  dAct: tf.Tensor2D,
  cache: AffineCache,
  layer: HiddenLayer<tf.Tensor>,
  net: ConvNet<tf.Tensor>,
  dW: (dz: tf.Tensor2D) => tf.Tensor2D,
): { grads: LayerGrads; dz: tf.Tensor2D } {
  const dPre = activationBackward(dAct, cache.act, net.activation);
  if (cache.bn) {
    const { dz, dGamma, dBeta } = batchNormBackward(dPre, cache.bn, layer.gamma as tf.Tensor1D);
    return { grads: { w: dW(dz), gamma: dGamma, beta: dBeta }, dz };
  }
  return { grads: { w: dW(dPre), b: tf.sum(dPre, 0) as tf.Tensor1D }, dz: dPre };
}

/** Gradients of the loss whose gradient w.r.t. the logits is `dLogits` (scaled as dLogits is). */
export function convBackward(net: ConvNet<tf.Tensor>, fwd: ConvForward, dLogits: tf.Tensor2D): ConvGrads {
  const m = dLogits.shape[0];
  const hiddenActs = fwd.hidden.map((c) => c.act);
  const top = hiddenActs.at(-1);
  if (!top) throw new Error('convBackward: the CNN needs at least one hidden layer');
  const out = { w: tf.matMul(tf.transpose(top), dLogits) as tf.Tensor2D, b: tf.sum(dLogits, 0) as tf.Tensor1D };
  let d = tf.matMul(dLogits, tf.transpose(net.out.w)) as tf.Tensor2D;
  const hidden: LayerGrads[] = new Array(net.hidden.length);
  for (let i = net.hidden.length - 1; i >= 0; i--) {
    const input = fwd.hidden[i].input;
    const { grads, dz } = affineBackward(d, fwd.hidden[i], net.hidden[i], net, (g) => tf.matMul(tf.transpose(input), g) as tf.Tensor2D);
    hidden[i] = grads;
    d = tf.matMul(dz, tf.transpose(net.hidden[i].w)) as tf.Tensor2D;
  }
  // Below the first conv stage lies the image: no gradient needed there.
  const firstConv = net.stages.findIndex((s) => s.type === 'conv');
  const conv: LayerGrads[] = [];
  for (let i = net.stages.length - 1; i >= firstConv; i--) {
    const stage = net.stages[i];
    const cache = fwd.stages[i];
    if (stage.type === 'pool' && cache.type === 'pool') {
      d = cache.kernel ? poolBackward(d, cache.kernel, stage) : maxPoolBackward(d, cache.pool as PoolCache);
      continue;
    }
    if (stage.type !== 'conv' || cache.type !== 'conv') throw new Error('convBackward: the forward caches do not match the net');
    const dAct = tf.reshape(d, cache.layer.act.shape) as tf.Tensor2D;
    const { grads, dz } = affineBackward(dAct, cache.layer, stage, net, (g) => convFilterGrad(cache.layer.input, g, stage));
    conv.unshift(grads);
    if (i > firstConv) d = convInputGrad(dz, stage, m);
  }
  return { conv, hidden, out };
}

/** Every gradient tensor in convNetVariables' order. */
export function convGradTensors(g: ConvGrads): tf.Tensor[] {
  const layers = [...g.conv, ...g.hidden];
  const all: (tf.Tensor | undefined)[] = [...layers.flatMap((l) => [l.w, l.b, l.gamma, l.beta]), g.out.w, g.out.b];
  return all.filter((t): t is tf.Tensor => t !== undefined);
}
