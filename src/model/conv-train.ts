/**
 * The CNN's SGD step (forward, hand-written backward, in-place update: plain, or with momentum as
 * momentum.ts defines it) and its BN statistics:
 * moving averages updated per step, and Algorithm 2's population statistics over K training
 * mini-batches. A conv map's statistics come from m' = m*p*q values per mini-batch, so its
 * unbiased variance multiplies by m'/(m'-1) (Sec. 3.2); a hidden unit's by m/(m-1), as in the MLP.
 */
import * as tf from '@tensorflow/tfjs-core';
import { averageBatchStats } from './population.js';
import { softmaxCrossEntropy } from './forward.js';
import { convGradTensors, convBackward } from './conv-backward.js';
import { convForwardTrain, type AffineCache, type ConvForward } from './conv-forward.js';
import { convNetVariables, bnWidths, type ConvNet } from './conv-net.js';
import { momentumUpdate, type Velocity } from './momentum.js';
import { variable, type BnStats } from './net.js';
import type { Batch, MovingStats } from './sgd.js';

/** The BN layers' caches in bnWidths order: conv stages, then hidden layers. */
function bnLayers(fwd: ConvForward): AffineCache[] {
  return [...fwd.stages.flatMap((s) => (s.type === 'conv' ? [s.layer] : [])), ...fwd.hidden];
}

function updateMoving(moving: MovingStats, fwd: ConvForward): void {
  const { stats, momentum } = moving;
  bnLayers(fwd).forEach((layer, i) => {
    const bn = layer.bn;
    if (!bn) return;
    const rows = layer.pre.shape[0];
    const mean = tf.add(tf.mul(stats.mean[i], momentum), tf.mul(bn.mean, 1 - momentum));
    const variance = tf.add(tf.mul(stats.variance[i], momentum), tf.mul(tf.mul(bn.variance, rows / (rows - 1)), 1 - momentum));
    (stats.mean[i] as tf.Variable).assign(mean);
    (stats.variance[i] as tf.Variable).assign(variance);
  });
}

/** One SGD step (with momentum when `velocity` is given); adds the mini-batch loss to `lossSum`. */
export function convSgdStep(net: ConvNet, batch: Batch, learningRate: number, lossSum: tf.Variable, moving?: MovingStats, velocity?: Velocity): void {
  tf.tidy(() => {
    const fwd = convForwardTrain(net, batch.x);
    // dLogits carries the learning rate: every gradient is linear in it (see softmaxCrossEntropy).
    const { loss, dLogits } = softmaxCrossEntropy(fwd.logits, batch.y, learningRate);
    const steps = convGradTensors(convBackward(net, fwd, dLogits));
    // The velocity is in convNetVariables' order (run-model.ts builds it from modelVariables).
    convNetVariables(net).forEach((p, i) => (velocity ? momentumUpdate(p, velocity.values[i], steps[i], velocity.momentum) : p.assign(tf.sub(p, steps[i]))));
    lossSum.assign(tf.add(lossSum, loss));
    if (moving) updateMoving(moving, fwd);
  });
}

/** Fresh moving statistics (mean 0, variance 1) per BN layer, in variables so steps can assign them. */
export function createConvMovingStats(net: ConvNet, momentum: number): MovingStats {
  const widths = bnWidths(net);
  return {
    momentum,
    stats: {
      mean: widths.map((u) => variable(tf.zeros([u])) as unknown as tf.Tensor1D),
      variance: widths.map((u) => variable(tf.ones([u])) as unknown as tf.Tensor1D),
    },
  };
}

/**
 * Algorithm 2, steps 8-11: per map and unit, E[x] = average of the K mini-batch means and
 * Var[x] = m'/(m'-1) * average of the mini-batch variances, in N_BN^tr (each layer's inputs with
 * the earlier layers normalized by their own mini-batch statistics). Each batch is disposed here.
 */
export function convPopulationStats(net: ConvNet, batchCount: number, nextBatch: (k: number) => tf.Tensor2D): BnStats {
  return averageBatchStats(batchCount, nextBatch, (x) => {
    const layers = bnLayers(convForwardTrain(net, x));
    return {
      mean: layers.map((l) => l.bn?.mean as tf.Tensor1D),
      variance: layers.map((l) => l.bn?.variance as tf.Tensor1D),
      rows: layers.map((l) => l.pre.shape[0]),
    };
  });
}
