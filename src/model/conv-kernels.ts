/**
 * The convolution of a training step on tfjs's own kernels: the forward pass is tf.conv2d, the
 * input gradient tf.conv2dTranspose (the Conv2DBackpropInput kernel), and the filter gradient a
 * second forward conv2d with the mini-batch as channels (dW[dy,dx,c,f] = sum over examples and
 * locations of x[e, p+dy, q+dx, c] dz[e, p, q, f]), since tfjs-backend-wasm has no
 * Conv2DBackpropFilter kernel. All three are deterministic on one thread. The gather-based im2col
 * (conv-ops.ts) is the same map written out (and the one an ONNX Gather would take): on wasm its
 * gather costs ~50 ns a value, 10x the whole conv2d, so it serves as the tests' second formulation.
 * Max-pooling likewise runs on the MaxPool and MaxPoolGrad kernels (the reshape + max version of
 * conv-ops.ts took 40 ms a step in its backward broadcast).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ConvStage, PoolStage } from './conv-net.js';

/** The stage's weights as a conv2d filter: rows (dy, dx, c) of the (k*k*C) x F matrix are its first three axes. */
function filter(stage: ConvStage<tf.Tensor>): tf.Tensor4D {
  const [, , c] = stage.inShape;
  return tf.reshape(stage.w, [stage.kernel, stage.kernel, c, stage.outShape[2]]);
}

/** z = conv(h, W) for flat NHWC h (m x H*W*C), as an (m*P*Q) x F matrix (rows: example, then location). */
export function convForward(h: tf.Tensor2D, stage: ConvStage<tf.Tensor>): tf.Tensor2D {
  const [hh, ww, c] = stage.inShape;
  const m = h.shape[0];
  const z = tf.conv2d(tf.reshape(h, [m, hh, ww, c]) as tf.Tensor4D, filter(stage), 1, 'valid');
  return tf.reshape(z, [z.size / stage.outShape[2], stage.outShape[2]]);
}

/** dL/dW as the (k*k*C) x F matrix, from the stage input h and dz = dL/dz ((m*P*Q) x F). */
export function convFilterGrad(h: tf.Tensor2D, dz: tf.Tensor2D, stage: ConvStage<tf.Tensor>): tf.Tensor2D {
  const [hh, ww, c] = stage.inShape;
  const [p, q, f] = stage.outShape;
  const m = h.shape[0];
  // Batch <-> channels: x as C images of m channels, dz as a P x Q filter from m to F channels.
  const xT = tf.transpose(tf.reshape(h, [m, hh, ww, c]), [3, 1, 2, 0]) as tf.Tensor4D;
  const dzT = tf.transpose(tf.reshape(dz, [m, p, q, f]), [1, 2, 0, 3]) as tf.Tensor4D;
  const dW = tf.conv2d(xT, dzT, 1, 'valid'); // C x k x k x F
  return tf.reshape(tf.transpose(dW, [1, 2, 0, 3]), [stage.kernel * stage.kernel * c, f]);
}

/**
 * dL/dh (m x H*W*C) from dz ((m*P*Q) x F): the transposed convolution, written as a "full"
 * convolution of dz (zero-padded by k-1) with the filter turned 180 degrees and its channel axes
 * swapped; tf.conv2dTranspose computes the same and measured 10x slower on wasm.
 */
export function convInputGrad(dz: tf.Tensor2D, stage: ConvStage<tf.Tensor>, m: number): tf.Tensor2D {
  const [hh, ww, c] = stage.inShape;
  const [p, q, f] = stage.outShape;
  const k = stage.kernel - 1;
  const padded = tf.pad(tf.reshape(dz, [m, p, q, f]), [
    [0, 0],
    [k, k],
    [k, k],
    [0, 0],
  ]) as tf.Tensor4D;
  const turned = tf.transpose(tf.reverse(filter(stage), [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
  return tf.reshape(tf.conv2d(padded, turned, 1, 'valid'), [m, hh * ww * c]);
}

/** What poolBackward needs: the pool's input and output as NHWC tensors. */
export interface PoolKernelCache {
  input: tf.Tensor4D;
  output: tf.Tensor4D;
}

export function poolForward(h: tf.Tensor2D, stage: PoolStage): { out: tf.Tensor2D; cache: PoolKernelCache } {
  const [hh, ww, c] = stage.inShape;
  const m = h.shape[0];
  const input = tf.reshape(h, [m, hh, ww, c]) as tf.Tensor4D;
  const output = tf.maxPool(input, stage.size, stage.size, 'valid');
  return { out: tf.reshape(output, [m, output.size / m]), cache: { input, output } };
}

/**
 * The MaxPoolGrad kernel: each window's gradient goes to one of its maximal entries. Tie rule: the
 * kernel's choice of one entry, where conv-ops.ts maxPoolBackward gives it to every tied entry;
 * the two differ only on exact ties, and the common one, a window of ReLU zeros, gets zero
 * gradient either way (ReLU's derivative is 0 there).
 */
export function poolBackward(dOut: tf.Tensor2D, cache: PoolKernelCache, stage: PoolStage): tf.Tensor2D {
  const dy = tf.reshape(dOut, cache.output.shape);
  const attrs = { filterSize: stage.size, strides: stage.size, pad: 'valid' };
  const dx = tf.engine().runKernel(tf.MaxPoolGrad, { dy, input: cache.input, output: cache.output }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
  return tf.reshape(dx, [dOut.shape[0], cache.input.size / dOut.shape[0]]);
}
