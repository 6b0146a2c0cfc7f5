/**
 * Momentum SGD's velocity (train.momentum = mu > 0): one tensor per trained parameter, in the order
 * of modelVariables (the MLP's netVariables, the CNN's convNetVariables), updated each step as
 *   v <- mu * v + lr * g,   p <- p - v.
 * The learning rate is already folded into the gradients (softmaxCrossEntropy scales dLogits by
 * lr), so the step is `lr * g`. At a constant lr this is exactly PyTorch's torch.optim.SGD with
 * momentum (v' <- mu * v' + g, p <- p - lr * v'), with v = lr * v'; both start from v = 0.
 * With mu = 0 no velocity is built at all and the plain update (sgd.ts, conv-train.ts) runs, bit for
 * bit as before.
 */
import * as tf from '@tensorflow/tfjs-core';
import { variable } from './net.js';

export interface Velocity {
  /** mu in [0, 1). */
  momentum: number;
  /** One per trained parameter (modelVariables' order), same shapes; zero at step 0. */
  values: tf.Variable[];
}

/**
 * A zero velocity for a network's trained parameters (modelVariables(net), in that order), held
 * in variables so steps can assign them. It takes the parameters, not the network, so that both
 * models' steps can use this file without it importing model.ts (which imports them).
 */
export function createVelocity(params: readonly tf.Variable[], momentum: number): Velocity {
  return { momentum, values: params.map((p) => variable(tf.zerosLike(p))) };
}

/** v <- mu * v + step; p <- p - v, where `step` already holds lr * gradient. */
export function momentumUpdate(p: tf.Variable, v: tf.Variable, step: tf.Tensor, momentum: number): void {
  v.assign(tf.add(tf.mul(v, momentum), step));
  p.assign(tf.sub(p, v));
}

export function disposeVelocity(velocity: Velocity | undefined): void {
  for (const v of velocity?.values ?? []) v.dispose();
}
