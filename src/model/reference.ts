/**
 * The straightforward tfjs training step that the fast path (sgd.ts) must agree with, kept as the
 * reference for the equivalence test and the benchmark: autodiff through optimizer.minimize, and
 * the mini-batch gathered on the device from the whole training set.
 */
import * as tf from '@tensorflow/tfjs-core';
import { CLASSES, IMAGE_PIXELS, type Split } from '../data/dataset.js';
import { registerReferenceGradients } from './autodiff-gradients.js';
import { forwardTrain, softmaxCrossEntropy } from './forward.js';
import { netVariables, type Net } from './net.js';

export class ReferenceTrainer {
  private readonly images: tf.Tensor2D;
  private readonly labels: tf.Tensor1D;
  private readonly optimizer: tf.SGDOptimizer;

  constructor(
    private readonly net: Net,
    train: Split,
    learningRate: number,
  ) {
    registerReferenceGradients();
    this.images = tf.tensor2d(train.images, [train.count, IMAGE_PIXELS]);
    this.labels = tf.tensor1d(train.labels, 'int32');
    this.optimizer = tf.train.sgd(learningRate);
  }

  /** One SGD step on the examples at `indices`; returns the mini-batch loss. */
  step(indices: Uint32Array): number {
    const loss = tf.tidy(() => {
      const idx = tf.tensor1d(Int32Array.from(indices), 'int32');
      const x = tf.gather(this.images, idx) as tf.Tensor2D;
      const y = tf.cast(tf.oneHot(tf.gather(this.labels, idx), CLASSES), 'float32') as tf.Tensor2D;
      const f = () => softmaxCrossEntropy(forwardTrain(this.net, x, { keepPre: true }).logits, y).loss;
      return this.optimizer.minimize(f, true, netVariables(this.net)) as tf.Scalar;
    });
    const value = loss.dataSync()[0];
    loss.dispose();
    return value;
  }

  dispose(): void {
    tf.dispose([this.images, this.labels]);
    this.optimizer.dispose();
  }
}
