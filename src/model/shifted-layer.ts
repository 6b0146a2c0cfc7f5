/**
 * One weight layer at shifted parameters theta - eta * g (the measurements of Santurkar et al.
 * (2018), src/training/measure/), for the MLP (gradients.ts) and the CNN (conv-gradients.ts)
 * alike: the per-layer step is written once. Call inside tf.tidy.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayerGrads } from './backward.js';
import type { HiddenLayer } from './net.js';

/** A layer's parameters at theta - eta * d when `on`, else at theta (the same tensors). Biases absent under BN stay absent. */
export function shiftedLayer(layer: HiddenLayer<tf.Tensor>, d: LayerGrads, eta: number, on: boolean): HiddenLayer<tf.Tensor> {
  const step = (p: tf.Tensor | undefined, dp: tf.Tensor | undefined) => (p === undefined || !on || dp === undefined ? p : tf.sub(p, tf.mul(dp, eta)));
  return { w: step(layer.w, d.w) as tf.Tensor, b: step(layer.b, d.b), gamma: step(layer.gamma, d.gamma), beta: step(layer.beta, d.beta) };
}

/** The output layer (W and b, no BN) at theta - eta * d when `on`, else at theta. */
export function shiftedOut(out: { w: tf.Tensor; b: tf.Tensor }, d: { w: tf.Tensor; b: tf.Tensor }, eta: number, on: boolean): { w: tf.Tensor; b: tf.Tensor } {
  return on ? { w: tf.sub(out.w, tf.mul(d.w, eta)), b: tf.sub(out.b, tf.mul(d.b, eta)) } : out;
}
