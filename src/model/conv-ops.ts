/**
 * The CNN's elementary operations on flat NHWC activations (m x H*W*C). im2col as a gather of
 * precomputed indices (conv-net.ts), col2im as a gather of the patch gradients followed by a sum
 * (no scatter), and max-pooling by reshape + max with an equality-mask backward: the gather
 * formulation of the convolution, which the tests check the training path (conv-kernels.ts)
 * against and which maps 1:1 onto ONNX Gather. The two nonlinearities and their derivatives are
 * used by training too. Callers run these inside tf.tidy.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../config/config.js';
import type { ConvStage, PoolStage } from './conv-net.js';

/**
 * `perExample` (indices into one example's `width` values) for m examples of a flattened batch:
 * example e's copy is offset by e * width. Kept on the stage per batch size (training, population
 * and evaluation batches), outside any tidy scope; disposeConvNet releases them.
 */
function batchIndices(stage: ConvStage<tf.Tensor>, which: 'im2col' | 'col2im', m: number, width: number): tf.Tensor1D {
  const key = `${which}/${m}`;
  const known = stage.batchIndices.get(key);
  if (known) return known;
  const base = stage[which];
  const flat = new Int32Array(m * base.length);
  for (let e = 0; e < m; e++) for (let j = 0; j < base.length; j++) flat[e * base.length + j] = base[j] + e * width;
  const t = tf.keep(tf.tensor1d(flat, 'int32'));
  stage.batchIndices.set(key, t);
  return t;
}

/** The patches of every example, one row per output location: (m*P*Q) x (k*k*C). */
export function im2col(h: tf.Tensor2D, stage: ConvStage<tf.Tensor>): tf.Tensor2D {
  const [m, width] = h.shape;
  const [p, q] = stage.outShape;
  const patch = stage.kernel * stage.kernel * stage.inShape[2];
  return tf.reshape(tf.gather(tf.reshape(h, [-1]), batchIndices(stage, 'im2col', m, width)), [m * p * q, patch]);
}

/**
 * The adjoint of im2col: each input value sums the up to k*k patch entries it was copied into.
 * dCols is (m*P*Q) x (k*k*C); the result is m x (H*W*C).
 */
export function col2im(dCols: tf.Tensor2D, stage: ConvStage<tf.Tensor>, m: number): tf.Tensor2D {
  const [h, w, c] = stage.inShape;
  const perExample = tf.reshape(dCols, [m, dCols.size / m]);
  // Slot index P*Q*k*k*C reads this zero column: the input fed fewer than k*k patches.
  const padded = tf.concat([perExample, tf.zeros([m, 1])], 1);
  const flat = tf.reshape(padded, [-1]);
  const slots = tf.reshape(tf.gather(flat, batchIndices(stage, 'col2im', m, dCols.size / m + 1)), [m, h * w * c, stage.kernel * stage.kernel]);
  return tf.sum(slots, 2) as tf.Tensor2D;
}

/** The 6-D view of a pool's input (m, H/s, s, W/s, s, C) and its window maxima (m, H/s, 1, W/s, 1, C). */
export interface PoolCache {
  windows: tf.Tensor;
  maxima: tf.Tensor;
}

export function maxPool(h: tf.Tensor2D, stage: PoolStage): { out: tf.Tensor2D; cache: PoolCache } {
  const [hh, ww, c] = stage.inShape;
  const s = stage.size;
  const windows = tf.reshape(h, [h.shape[0], hh / s, s, ww / s, s, c]);
  const maxima = tf.max(windows, [2, 4], true);
  return { out: tf.reshape(maxima, [h.shape[0], stage.outShape[0] * stage.outShape[1] * c]), cache: { windows, maxima } };
}

/**
 * The gradient of maxPool: each window's gradient goes to the entries equal to its maximum. Tie
 * rule: every tied maximum receives the full gradient (as tfjs's own Max gradient does). After
 * ReLU the common tie, a window of zeros, gets zero gradient anyway (ReLU's derivative is 0 there);
 * after a sigmoid, float ties are rare and only scale that window's gradient.
 */
export function maxPoolBackward(dOut: tf.Tensor2D, cache: PoolCache): tf.Tensor2D {
  const mask = tf.cast(tf.equal(cache.windows, cache.maxima), 'float32');
  const spread = tf.mul(mask, tf.reshape(dOut, cache.maxima.shape));
  return tf.reshape(spread, [dOut.shape[0], spread.size / dOut.shape[0]]);
}

export function activate(pre: tf.Tensor2D, kind: Activation): tf.Tensor2D {
  return kind === 'relu' ? tf.relu(pre) : tf.sigmoid(pre);
}

/** dL/d(pre) from dL/d(act), through the activation's output: s(1-s) for sigmoid, [act > 0] for ReLU. */
export function activationBackward(dAct: tf.Tensor2D, act: tf.Tensor2D, kind: Activation): tf.Tensor2D {
  if (kind === 'relu') return tf.mul(dAct, tf.cast(tf.greater(act, 0), 'float32'));
  return tf.mul(dAct, tf.mul(act, tf.sub(1, act)));
}
