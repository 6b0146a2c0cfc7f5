/**
 * The loss landscape along the gradient (Santurkar et al. 2018, Sec. 3.1 and Fig. 4): with g the
 * gradient of a mini-batch's loss at theta, the loss and the gradient at theta - eta * g for each
 * step size eta. Reported: the range of those losses (how far a step can go wrong), the largest
 * change of the gradient ||grad L(theta) - grad L(theta - eta g)|| ("gradient predictiveness"),
 * and the largest ratio of that change to ||eta g|| ("effective beta-smoothness"). theta is every
 * parameter of either network (weights, biases, BN gammas and betas; the CNN's conv stages too).
 */
import * as tf from '@tensorflow/tfjs-core';
import { type AnyGrads, gradTensors, lossAndGrads, type MeasuredNet, shiftedNet } from '../../model/gradients.js';
import { distance, norm, type Parts } from './vectors.js';

export interface LandscapePoint {
  lossMin: number;
  lossMax: number;
  gradChangeMax: number;
  betaSmoothness: number;
}

const read = (ts: tf.Tensor[]): Promise<Parts> => Promise.all(ts.map(async (t) => (await t.data()) as Float32Array));

/**
 * Loss landscape of `net` on the batch (x, y) at the step sizes `etas` (absolute, not multiples).
 * `base`: the batch's gradients at the net's parameters, when the caller has them already (it
 * keeps them). Computed in one tidy, read back with data() afterwards (tfjs-backend-webgpu in
 * Node has no synchronous read).
 */
export async function measureLandscape(net: MeasuredNet, x: tf.Tensor2D, y: tf.Tensor2D, etas: number[], base?: AnyGrads): Promise<LandscapePoint> {
  const point: LandscapePoint = { lossMin: Infinity, lossMax: -Infinity, gradChangeMax: 0, betaSmoothness: 0 };
  // g (copies of the caller's tensors, so all of these are ours to dispose) and, per step size, the moved loss and gradient.
  const { g, moved } = tf.tidy(() => {
    const grads = base ?? lossAndGrads(net, x, y).grads;
    const at = etas.map((eta) =>
      lossAndGrads(
        shiftedNet(net, grads, eta, () => true),
        x,
        y,
      ),
    );
    return { g: gradTensors(grads).map((t) => tf.clone(t)), moved: at.map((m) => ({ loss: m.loss, grads: gradTensors(m.grads) })) };
  });
  const gHost = await read(g);
  const gNorm = norm(gHost);
  for (const [k, eta] of etas.entries()) {
    const loss = (await moved[k].loss.data())[0];
    const change = distance(gHost, await read(moved[k].grads));
    // Math.min and Math.max return NaN if any argument is NaN: a diverged net shows NaN.
    point.lossMin = Math.min(point.lossMin, loss);
    point.lossMax = Math.max(point.lossMax, loss);
    point.gradChangeMax = Math.max(point.gradChangeMax, change);
    point.betaSmoothness = Math.max(point.betaSmoothness, change / (eta * gNorm));
  }
  tf.dispose([...g, ...moved.flatMap((m) => [m.loss, ...m.grads])]);
  return point;
}
