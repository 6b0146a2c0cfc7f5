/**
 * Momentum SGD's velocity (train.momentum = mu > 0): one tensor per trained parameter, in the order
 * of netVariables, updated each step as
 *   v <- mu * v + lr * g,   p <- p - v.
 * The learning rate is already folded into the gradients (softmaxCrossEntropy scales dLogits by
 * lr), so the step is `lr * g`. At a constant lr this is exactly PyTorch's torch.optim.SGD with
 * momentum (v' <- mu * v' + g, p <- p - lr * v'), with v = lr * v'; both start from v = 0.
 * With mu = 0 no velocity is built at all and sgd.ts's plain update runs, bit for bit as before.
 */
import * as tf from '@tensorflow/tfjs-core';
import { netVariables, variable, type Net } from './net.js';

export interface Velocity {
  /** mu in [0, 1). */
  momentum: number;
  /** One per netVariables(net) entry, same order and shapes; zero at step 0. */
  values: tf.Variable[];
}

/** A zero velocity for `net`, held in variables so steps can assign them. */
export function createVelocity(net: Net, momentum: number): Velocity {
  return { momentum, values: netVariables(net).map((p) => variable(tf.zerosLike(p))) };
}

/** v <- mu * v + step; p <- p - v, where `step` already holds lr * gradient. */
export function momentumUpdate(p: tf.Variable, v: tf.Variable, step: tf.Tensor, momentum: number): void {
  v.assign(tf.add(tf.mul(v, momentum), step));
  p.assign(tf.sub(p, v));
}

export function disposeVelocity(velocity: Velocity | undefined): void {
  for (const v of velocity?.values ?? []) v.dispose();
}
