/**
 * One SGD step (constant learning rate; plain, or with momentum: momentum.ts) on one mini-batch:
 * forward, hand-written backward, in-place update. Nothing is read back to the host: the loss is summed on the device into
 * `lossSum`, which the train loop reads only at evaluations.
 */
import * as tf from '@tensorflow/tfjs-core';
import { backward, type Grads } from './backward.js';
import { forwardTrain, softmaxCrossEntropy, type TrainForward } from './forward.js';
import { momentumUpdate, type Velocity } from './momentum.js';
import { variable, type BnStats, type Net } from './net.js';

export interface Batch {
  /** m x inputs */
  x: tf.Tensor2D;
  /** inputs x m: the same batch transposed on the host (see backward()). */
  xT: tf.Tensor2D;
  /** m x classes, one-hot */
  y: tf.Tensor2D;
}

/** Moving-average inference statistics, updated in place when batchNorm.inference = "moving". */
export interface MovingStats {
  stats: BnStats;
  momentum: number;
}

/** v <- v - step, where `step` already holds lr * gradient (see softmaxCrossEntropy). */
function update(v: tf.Variable, step: tf.Tensor): void {
  v.assign(tf.sub(v, step));
}

/** Each parameter with its step, in the order of netVariables (the velocity's order). */
function paramSteps(net: Net, s: Grads): [tf.Variable, tf.Tensor][] {
  const pairs: [tf.Variable, tf.Tensor][] = [];
  net.hidden.forEach((layer, i) => {
    const ls = s.hidden[i];
    pairs.push([layer.w, ls.w]);
    if (layer.b && ls.b) pairs.push([layer.b, ls.b]);
    if (layer.gamma && ls.gamma) pairs.push([layer.gamma, ls.gamma]);
    if (layer.beta && ls.beta) pairs.push([layer.beta, ls.beta]);
  });
  pairs.push([net.out.w, s.out.w], [net.out.b, s.out.b]);
  return pairs;
}

function applySteps(net: Net, s: Grads, velocity?: Velocity): void {
  paramSteps(net, s).forEach(([p, step], i) => (velocity ? momentumUpdate(p, velocity.values[i], step, velocity.momentum) : update(p, step)));
}

/** stat <- momentum * stat + (1 - momentum) * batch stat; variances unbiased (m/(m-1)) as in Alg. 2. */
function updateMoving(moving: MovingStats, fwd: TrainForward, m: number): void {
  const { stats, momentum } = moving;
  fwd.layers.forEach((cache, i) => {
    const mean = tf.add(tf.mul(stats.mean[i], momentum), tf.mul(cache.mean as tf.Tensor1D, 1 - momentum));
    const unbiased = tf.mul(cache.variance as tf.Tensor1D, m / (m - 1));
    const variance = tf.add(tf.mul(stats.variance[i], momentum), tf.mul(unbiased, 1 - momentum));
    (stats.mean[i] as tf.Variable).assign(mean);
    (stats.variance[i] as tf.Variable).assign(variance);
  });
}

/** Runs one SGD step (with momentum when `velocity` is given); adds the mini-batch loss to `lossSum`. */
export function sgdStep(net: Net, batch: Batch, learningRate: number, lossSum: tf.Variable, moving?: MovingStats, velocity?: Velocity): void {
  tf.tidy(() => {
    const fwd = forwardTrain(net, batch.x, { inputT: batch.xT });
    const { loss, dLogits } = softmaxCrossEntropy(fwd.logits, batch.y, learningRate);
    applySteps(net, backward(net, fwd, dLogits, batch.xT), velocity);
    lossSum.assign(tf.add(lossSum, loss));
    if (moving) updateMoving(moving, fwd, batch.x.shape[0]);
  });
}

/** Fresh moving statistics (mean 0, variance 1), held in variables so steps can assign them. */
export function createMovingStats(hiddenUnits: number[], momentum: number): MovingStats {
  return {
    momentum,
    stats: {
      mean: hiddenUnits.map((u) => variable(tf.zeros([u])) as unknown as tf.Tensor1D),
      variance: hiddenUnits.map((u) => variable(tf.ones([u])) as unknown as tf.Tensor1D),
    },
  };
}
