/**
 * Internal covariate shift as Santurkar, Tsipras, Ilyas & Madry (2018) define it (Def. 2.1): for
 * layer i, G = dL/dW_i at the current parameters and G' = the same gradient after the layers
 * before i have taken their SGD step on the same mini-batch (layer i and those after it
 * unchanged). ICS = ||G - G'||_2; cos(G, G') says whether the direction survives the shift.
 * The first hidden layer has no earlier layer, so G' = G: distance 0, cosine 1.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Grads } from '../../model/backward.js';
import { lossAndGrads, shiftedNet, weightGrad } from '../../model/gradients.js';
import type { AnyNet } from '../../model/net.js';
import { cosine, distance } from './vectors.js';

export interface LayerIcs {
  /** 0..L-1: hidden layers; L: the output layer. */
  layer: number;
  l2: number;
  cosine: number;
}

/**
 * ICS of every weight layer of `net` on the batch (x, y), with the SGD step `learningRate * G`.
 * `base`: the batch's gradients at the net's parameters, when the caller has them already.
 */
export function measureIcs(net: AnyNet, x: tf.Tensor2D, y: tf.Tensor2D, learningRate: number, base?: Grads): LayerIcs[] {
  const out: LayerIcs[] = [];
  tf.tidy(() => {
    const grads = base ?? lossAndGrads(net, x, y).grads;
    const layers = net.hidden.length + 1;
    for (let i = 0; i < layers; i++) {
      const g = weightGrad(grads, i).dataSync() as Float32Array;
      // Layer 0: nothing before it moves, so the shifted net is the net itself; skip the pass.
      const shifted =
        i === 0
          ? g
          : (weightGrad(
              lossAndGrads(
                shiftedNet(net, grads, learningRate, (j) => j < i),
                x,
                y,
              ).grads,
              i,
            ).dataSync() as Float32Array);
      out.push({ layer: i, l2: distance([g], [shifted]), cosine: cosine([g], [shifted]) });
    }
  });
  return out;
}
