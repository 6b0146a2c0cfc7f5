/**
 * Internal covariate shift as Santurkar, Tsipras, Ilyas & Madry (2018) define it (Def. 2.1): for
 * layer i, G = dL/dW_i at the current parameters and G' = the same gradient after the layers
 * before i have taken their SGD step on the same mini-batch (layer i and those after it
 * unchanged). ICS = ||G - G'||_2; cos(G, G') says whether the direction survives the shift.
 * The first weight layer (the MLP's first hidden layer, the CNN's first conv stage) has no
 * earlier layer, so G' = G: distance 0, cosine 1. Layers are numbered as ics.csv's `layer`
 * column (src/model/weight-layers.ts); a conv stage's G is the gradient of its (k*k*C) x F filter matrix.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type AnyGrads, lossAndGrads, type MeasuredNet, shiftedNet, weightGrad, weightLayerCount } from '../../model/gradients.js';
import { cosine, distance } from './vectors.js';

export interface LayerIcs {
  /** The weight layer, numbered as in src/model/weight-layers.ts. */
  layer: number;
  l2: number;
  cosine: number;
}

/**
 * ICS of every weight layer of `net` on the batch (x, y), with the SGD step `learningRate * G`.
 * `base`: the batch's gradients at the net's parameters, when the caller has them already (it
 * keeps them). The gradients are computed in one tidy and read back with data() afterwards:
 * tfjs-backend-webgpu in Node has no synchronous read.
 */
export async function measureIcs(net: MeasuredNet, x: tf.Tensor2D, y: tf.Tensor2D, learningRate: number, base?: AnyGrads): Promise<LayerIcs[]> {
  // Per layer, G and (after layer 0) G'; copies of the caller's tensors, so all of them are ours to dispose.
  const pairs = tf.tidy(() => {
    const grads = base ?? lossAndGrads(net, x, y).grads;
    return Array.from({ length: weightLayerCount(net) }, (_, i) => {
      const g = tf.clone(weightGrad(grads, i));
      // Layer 0: nothing before it moves, so the shifted net is the net itself; skip the pass.
      return i === 0
        ? [g]
        : [
            g,
            weightGrad(
              lossAndGrads(
                shiftedNet(net, grads, learningRate, (j) => j < i),
                x,
                y,
              ).grads,
              i,
            ),
          ];
    });
  });
  const read = await Promise.all(pairs.map((ts) => Promise.all(ts.map(async (t) => (await t.data()) as Float32Array))));
  tf.dispose(pairs.flat());
  return read.map(([g, shifted = g], layer) => ({ layer, l2: distance([g], [shifted]), cosine: cosine([g], [shifted]) }));
}
