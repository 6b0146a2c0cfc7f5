/**
 * The CNN's side of the measurements of Santurkar et al. (2018) (src/training/measure/, through
 * gradients.ts): a mini-batch's loss and gradients at given parameters, without an update, and
 * the CNN at shifted parameters theta - eta * g. Built on the same forward (conv-forward.ts) and
 * hand-written backward (conv-backward.ts) as the CNN's training step, so G and G' are the
 * gradients training follows. Weight layers are numbered as ics.csv's `layer` column numbers them
 * (weight-layers.ts): conv stages 0..C-1 (pools hold no weights), hidden C..C+H-1, output C+H.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { convBackward, type ConvGrads } from './conv-backward.js';
import { convForwardTrain } from './conv-forward.js';
import type { ConvNet } from './conv-net.js';
import { softmaxCrossEntropy } from './forward.js';
import { shiftedLayer, shiftedOut } from './shifted-layer.js';

/** Mean cross-entropy of the training-mode CNN (batch statistics per map and unit for BN) and its true gradient. Call inside tf.tidy. */
export function convLossAndGrads(net: ConvNet<tf.Tensor>, x: tf.Tensor2D, y: tf.Tensor2D): { loss: tf.Scalar; grads: ConvGrads } {
  const fwd = convForwardTrain(net, x);
  const { loss, dLogits } = softmaxCrossEntropy(fwd.logits, y);
  return { loss, grads: convBackward(net, fwd, dLogits) };
}

/** Every weight matrix's gradient in layer order: conv stages, hidden layers, the output layer. */
export function convWeightGrads(g: ConvGrads): tf.Tensor2D[] {
  return [...g.conv.map((l) => l.w), ...g.hidden.map((l) => l.w), g.out.w];
}

/**
 * The CNN at theta - eta * g for the weight layers `moves` picks (numbered as above) and at theta
 * for the rest. Plain tensors, nothing assigned: the trained net is untouched. A shifted conv
 * stage shares the net's im2col tables and their cached batch indices (kept outside any tidy).
 * Call inside tf.tidy.
 */
export function shiftedConvNet(net: ConvNet<tf.Tensor>, g: ConvGrads, eta: number, moves: (layer: number) => boolean): ConvNet<tf.Tensor> {
  let conv = 0;
  const stages = net.stages.map((stage) => {
    if (stage.type === 'pool') return stage;
    const k = conv++;
    return { ...stage, ...shiftedLayer(stage, g.conv[k], eta, moves(k)) };
  });
  const hidden = net.hidden.map((layer, i) => shiftedLayer(layer, g.hidden[i], eta, moves(conv + i)));
  return { ...net, stages, hidden, out: shiftedOut(net.out, g.out, eta, moves(conv + net.hidden.length)) };
}
