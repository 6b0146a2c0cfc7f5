/**
 * The loss and gradients of one mini-batch at given parameters, without an update, and nets at
 * shifted parameters theta - eta * g. The measurements of Santurkar et al. (2018) (src/training/measure/)
 * are built from these; they use the same hand-written backward pass as training.
 */
import * as tf from '@tensorflow/tfjs-core';
import { backward, type Grads } from './backward.js';
import { forwardTrain, softmaxCrossEntropy } from './forward.js';
import type { AnyNet } from './net.js';

/** Mean cross-entropy of the training-mode net (batch statistics for BN) and its true gradient. Call inside tf.tidy. */
export function lossAndGrads(net: AnyNet, x: tf.Tensor2D, y: tf.Tensor2D): { loss: tf.Scalar; grads: Grads } {
  const fwd = forwardTrain(net, x);
  const { loss, dLogits } = softmaxCrossEntropy(fwd.logits, y);
  return { loss, grads: backward(net, fwd, dLogits) };
}

/** Every gradient tensor in netVariables' order (hidden layers w, b | gamma, beta; then output w, b). */
export function gradTensors(g: Grads): tf.Tensor[] {
  const all: (tf.Tensor | undefined)[] = [...g.hidden.flatMap((l) => [l.w, l.b, l.gamma, l.beta]), g.out.w, g.out.b];
  return all.filter((t): t is tf.Tensor => t !== undefined);
}

/** The gradient of layer `layer`'s weight matrix: hidden layers 0..L-1, then the output layer L. */
export function weightGrad(g: Grads, layer: number): tf.Tensor2D {
  return layer < g.hidden.length ? g.hidden[layer].w : g.out.w;
}

/**
 * The net at theta - eta * g for the layers `moves` picks (hidden 0..L-1, output L) and at theta
 * for the rest. Plain tensors, nothing assigned: the trained net is untouched. Call inside tf.tidy.
 */
export function shiftedNet(net: AnyNet, g: Grads, eta: number, moves: (layer: number) => boolean): AnyNet {
  const step = (p: tf.Tensor | undefined, d: tf.Tensor | undefined, on: boolean) =>
    p === undefined ? undefined : on && d !== undefined ? tf.sub(p, tf.mul(d, eta)) : p;
  const hidden = net.hidden.map((layer, i) => {
    const on = moves(i);
    const d = g.hidden[i];
    return {
      w: step(layer.w, d.w, on) as tf.Tensor,
      b: step(layer.b, d.b, on),
      gamma: step(layer.gamma, d.gamma, on),
      beta: step(layer.beta, d.beta, on),
    };
  });
  const onOut = moves(net.hidden.length);
  const out = { w: step(net.out.w, g.out.w, onOut) as tf.Tensor, b: step(net.out.b, g.out.b, onOut) as tf.Tensor };
  return { bn: net.bn, epsilon: net.epsilon, hidden, out };
}
