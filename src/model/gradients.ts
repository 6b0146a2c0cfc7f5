/**
 * The loss and gradients of one mini-batch at given parameters, without an update, and nets at
 * shifted parameters theta - eta * g, for either network (the MLP here, the CNN in
 * conv-gradients.ts). The measurements of Santurkar et al. (2018) (src/training/measure/) are
 * built from these; they use the same hand-written backward passes as training. Weight layers
 * are numbered as ics.csv's `layer` column (weight-layers.ts): for the MLP, hidden 0..L-1 and
 * the output L; for the CNN, its conv stages come first.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { backward, type Grads } from './backward.js';
import { convGradTensors, type ConvGrads } from './conv-backward.js';
import { convLossAndGrads, convWeightGrads, shiftedConvNet } from './conv-gradients.js';
import type { ConvNet } from './conv-net.js';
import { forwardTrain, softmaxCrossEntropy } from './forward.js';
import type { AnyNet } from './net.js';
import { shiftedLayer, shiftedOut } from './shifted-layer.js';

/** Either network, its parameters variables or plain tensors (the measurements' shifted nets). */
export type MeasuredNet = AnyNet | ConvNet<tf.Tensor>;
/** The gradients of a MeasuredNet: Grads for the MLP, ConvGrads for the CNN. */
export type AnyGrads = Grads | ConvGrads;

const isConv = (net: MeasuredNet): net is ConvNet<tf.Tensor> => 'kind' in net && net.kind === 'cnn';
const isConvGrads = (g: AnyGrads): g is ConvGrads => 'conv' in g;

/** Mean cross-entropy of the training-mode net (batch statistics for BN) and its true gradient. Call inside tf.tidy. */
export function lossAndGrads(net: MeasuredNet, x: tf.Tensor2D, y: tf.Tensor2D): { loss: tf.Scalar; grads: AnyGrads } {
  if (isConv(net)) return convLossAndGrads(net, x, y);
  const fwd = forwardTrain(net, x);
  const { loss, dLogits } = softmaxCrossEntropy(fwd.logits, y);
  return { loss, grads: backward(net, fwd, dLogits) };
}

/** Every gradient tensor in the variables' order (netVariables or convNetVariables). */
export function gradTensors(g: AnyGrads): tf.Tensor[] {
  if (isConvGrads(g)) return convGradTensors(g);
  const all: (tf.Tensor | undefined)[] = [...g.hidden.flatMap((l) => [l.w, l.b, l.gamma, l.beta]), g.out.w, g.out.b];
  return all.filter((t): t is tf.Tensor => t !== undefined);
}

/** How many weight layers the net has (ics.csv's rows per measurement): conv stages, hidden layers, the output layer. */
export function weightLayerCount(net: MeasuredNet): number {
  return (isConv(net) ? net.stages.filter((s) => s.type === 'conv').length : 0) + net.hidden.length + 1;
}

/** The gradient of weight layer `layer`'s weight matrix (numbered as in the header). */
export function weightGrad(g: AnyGrads, layer: number): tf.Tensor2D {
  if (isConvGrads(g)) return convWeightGrads(g)[layer];
  return layer < g.hidden.length ? g.hidden[layer].w : g.out.w;
}

/** A shifted net holds plain tensors, whatever the net held (variables for a trained MLP). */
export type Shifted<N extends MeasuredNet> = N extends ConvNet<tf.Tensor> ? ConvNet<tf.Tensor> : AnyNet;

/**
 * The net at theta - eta * g for the weight layers `moves` picks (numbered as in the header) and
 * at theta for the rest. Plain tensors, nothing assigned: the trained net is untouched. Call
 * inside tf.tidy.
 */
export function shiftedNet<N extends MeasuredNet>(net: N, g: AnyGrads, eta: number, moves: (layer: number) => boolean): Shifted<N> {
  if (isConv(net) !== isConvGrads(g)) throw new Error('internal: shiftedNet was given gradients of the other network kind');
  return (isConv(net) ? shiftedConvNet(net, g as ConvGrads, eta, moves) : shiftedMlp(net as AnyNet, g as Grads, eta, moves)) as Shifted<N>;
}

function shiftedMlp(net: AnyNet, g: Grads, eta: number, moves: (layer: number) => boolean): AnyNet {
  const hidden = net.hidden.map((layer, i) => shiftedLayer(layer, g.hidden[i], eta, moves(i)));
  return { bn: net.bn, epsilon: net.epsilon, hidden, out: shiftedOut(net.out, g.out, eta, moves(net.hidden.length)) };
}
