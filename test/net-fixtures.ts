/**
 * Small seeded problems shared by the model tests: an MLP (6 inputs, hidden layers of 5 and 4,
 * 3 classes) with a random mini-batch of 8 (model.test.ts's gradient checks and measure.test.ts's
 * measurements), and the CNN the train-loop tests train (one 5x5 conv of 2 maps, a 4x4 pool,
 * 10 hidden units: a second or two a run on a 600-image synthetic set).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../src/core/random.js';
import { createNet, type Net } from '../src/model/net.js';

/** The MLP drawn from seed `init` and a batch of normal inputs with uniform labels drawn from seed `data`. */
export function smallProblem(bn: boolean, seeds: { init: number; data: number }): { net: Net; x: tf.Tensor2D; y: tf.Tensor2D } {
  const net = createNet({ inputSize: 6, hiddenUnits: [5, 4], classes: 3 }, { bn, initStd: 0.8, epsilon: 1e-3 }, Rng.stream(seeds.init, 'init'));
  const r = Rng.stream(seeds.data, 'data');
  const m = 8;
  const x = tf.tensor2d(
    Array.from({ length: m * 6 }, () => r.normal()),
    [m, 6],
  );
  const labels = tf.tensor1d(
    Array.from({ length: m }, () => r.int(3)),
    'int32',
  );
  const y = tf.cast(tf.oneHot(labels, 3), 'float32') as tf.Tensor2D;
  labels.dispose();
  return { net, x, y };
}

/** model.* of the train-loop tests' tiny CNN (ReLU; a variant may set sigmoid). */
export const TINY_CNN_MODEL = {
  kind: 'cnn',
  activation: 'relu',
  hiddenUnits: [10],
  convLayers: [
    { type: 'conv', kernel: 5, maps: 2 },
    { type: 'pool', size: 4 },
  ],
};

/** model.* of the CNN measurement tests: two conv stages (28 -> 24 -> pool 12 -> 10 -> pool 5: 5x5x2 = 50 values), 10 hidden units. */
export const TWO_CONV_TINY_CNN_MODEL = {
  kind: 'cnn',
  activation: 'relu',
  hiddenUnits: [10],
  convLayers: [
    { type: 'conv', kernel: 5, maps: 2 },
    { type: 'pool', size: 2 },
    { type: 'conv', kernel: 3, maps: 2 },
    { type: 'pool', size: 2 },
  ],
};

/** model.* of the CLI and lockstep tests' small CNN: 4 and 8 maps of 5x5, each pooled 2, 20 hidden units. */
export const SMALL_CNN_MODEL = {
  kind: 'cnn',
  activation: 'relu',
  hiddenUnits: [20],
  convLayers: [
    { type: 'conv', kernel: 5, maps: 4 },
    { type: 'pool', size: 2 },
    { type: 'conv', kernel: 5, maps: 8 },
    { type: 'pool', size: 2 },
  ],
};
