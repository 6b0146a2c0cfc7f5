/**
 * Parameters of the CNN (issue 20; Ioffe & Szegedy 2015, Sec. 3.2 and 4.2): conv stages
 * (model.convLayers) below fully connected hidden layers (model.hiddenUnits) and 10 logits.
 * A conv stage's weights are a (k*k*C) x F matrix, rows in patch order (dy, dx, channel), so the
 * convolution is im2col followed by one matMul. As in the MLP (net.ts), a batch-normalized stage
 * holds one gamma and one beta per feature map and no bias (beta takes its place); the baseline
 * holds a bias per map. Weights ~ N(0, initStd^2) drawn on the host from the seeded stream in
 * layer order, so the initial weights are the same on every backend.
 *
 * The gather indices of im2col and of its adjoint (col2im) are built once per net from the plan,
 * the same description an ONNX Gather takes; conv-ops.ts gathers from the flattened mini-batch
 * with the indices repeated per example. Training convolves with tfjs's kernels (conv-kernels.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../config/config.js';
import type { Rng } from '../core/random.js';
import type { CnnPlan, MapShape } from '../config/conv-shapes.js';
import { variable, type HiddenLayer } from './net.js';

export { IMAGE_SIDE } from '../config/mnist-shape.js';

export interface ConvStage<P extends tf.Tensor = tf.Variable> {
  type: 'conv';
  kernel: number;
  inShape: MapShape;
  outShape: MapShape;
  w: P;
  b?: P;
  gamma?: P;
  beta?: P;
  /** For each entry of an example's im2col rows (P*Q patches of k*k*C), the input value it copies. */
  im2col: Int32Array;
  /** For each input value, the k*k patch entries it fed; P*Q*k*k*C (an appended zero) where it fed fewer. */
  col2im: Int32Array;
  /** The indices above repeated for m examples of a flattened batch, as int32 tensors, keyed "im2col/m" (conv-ops.ts). */
  batchIndices: Map<string, tf.Tensor1D>;
}

export interface PoolStage {
  type: 'pool';
  size: number;
  inShape: MapShape;
  outShape: MapShape;
}

export type Stage<P extends tf.Tensor = tf.Variable> = ConvStage<P> | PoolStage;

export interface ConvNet<P extends tf.Tensor = tf.Variable> {
  kind: 'cnn';
  bn: boolean;
  epsilon: number;
  activation: Activation;
  stages: Stage<P>[];
  hidden: HiddenLayer<P>[];
  out: { w: P; b: P };
}

export interface ConvNetOptions {
  bn: boolean;
  initStd: number;
  epsilon: number;
  activation: Activation;
}

function gaussian(rows: number, cols: number, std: number, rng: Rng): tf.Tensor2D {
  const values = new Float32Array(rows * cols);
  for (let i = 0; i < values.length; i++) values[i] = std * rng.normal();
  return tf.tensor2d(values, [rows, cols]);
}

/** The im2col and col2im gather indices of a valid, stride-1 convolution (see ConvStage). */
export function convIndices(inShape: MapShape, kernel: number): { im2col: Int32Array; col2im: Int32Array } {
  const [h, w, c] = inShape;
  const [p, q] = [h - kernel + 1, w - kernel + 1];
  const patch = kernel * kernel * c;
  const im2col = new Int32Array(p * q * patch);
  const col2im = new Int32Array(h * w * c * kernel * kernel).fill(p * q * patch);
  for (let pi = 0; pi < p; pi++) {
    for (let qi = 0; qi < q; qi++) {
      for (let dy = 0; dy < kernel; dy++) {
        for (let dx = 0; dx < kernel; dx++) {
          for (let ci = 0; ci < c; ci++) {
            const col = (pi * q + qi) * patch + (dy * kernel + dx) * c + ci;
            const pixel = ((pi + dy) * w + (qi + dx)) * c + ci;
            im2col[col] = pixel;
            // Each input value fed at most one patch entry per kernel offset (dy, dx): its slot.
            col2im[pixel * kernel * kernel + dy * kernel + dx] = col;
          }
        }
      }
    }
  }
  return { im2col, col2im };
}

/** A freshly initialised CNN for `plan`, fully connected widths `hiddenUnits`, `classes` logits. */
export function createConvNet(plan: CnnPlan, hiddenUnits: number[], classes: number, opts: ConvNetOptions, rng: Rng): ConvNet {
  const perMap = (units: number) => (opts.bn ? { gamma: variable(tf.ones([units])), beta: variable(tf.zeros([units])) } : { b: variable(tf.zeros([units])) });
  const stages: Stage[] = plan.stages.map((s) => {
    if (s.type === 'pool') return { ...s };
    const maps = s.outShape[2];
    const w = variable(gaussian(s.kernel * s.kernel * s.inShape[2], maps, opts.initStd, rng));
    const idx = convIndices(s.inShape, s.kernel);
    return { ...s, w, ...perMap(maps), ...idx, batchIndices: new Map() };
  });
  let fanIn = plan.flatSize;
  const hidden = hiddenUnits.map((units) => {
    const layer = { w: variable(gaussian(fanIn, units, opts.initStd, rng)), ...perMap(units) };
    fanIn = units;
    return layer;
  });
  const out = { w: variable(gaussian(fanIn, classes, opts.initStd, rng)), b: variable(tf.zeros([classes])) };
  return { kind: 'cnn', bn: opts.bn, epsilon: opts.epsilon, activation: opts.activation, stages, hidden, out };
}

export function isConvStage<P extends tf.Tensor>(s: Stage<P>): s is ConvStage<P> {
  return s.type === 'conv';
}

/** Every variable in a fixed order: conv stages (w, b | gamma, beta), hidden layers likewise, then out. */
export function convNetVariables(net: ConvNet): tf.Variable[] {
  const layers = [...net.stages.filter(isConvStage), ...net.hidden];
  return [...layers.flatMap((l) => [l.w, l.b, l.gamma, l.beta].filter((v): v is tf.Variable => v !== undefined)), net.out.w, net.out.b];
}

/** Widths of the batch-normalized layers in order (conv maps, then hidden units): the BN statistics' sizes. */
export function bnWidths(net: ConvNet<tf.Tensor>): number[] {
  return [...net.stages.filter(isConvStage).map((s) => s.outShape[2]), ...net.hidden.map((l) => l.w.shape[1] as number)];
}

/** The sizes of convNetVariables' tensors, in that order, without building the net (checkpoint checks). */
export function convParameterSizes(plan: CnnPlan, hiddenUnits: number[], classes: number, bn: boolean): number[] {
  const sizes: number[] = [];
  const perMap = (n: number) => (bn ? [n, n] : [n]);
  for (const s of plan.stages) if (s.type === 'conv') sizes.push(s.kernel * s.kernel * s.inShape[2] * s.outShape[2], ...perMap(s.outShape[2]));
  const widths = [plan.flatSize, ...hiddenUnits];
  hiddenUnits.forEach((u, i) => sizes.push(widths[i] * u, ...perMap(u)));
  return [...sizes, widths[widths.length - 1] * classes, classes];
}

export function disposeConvNet(net: ConvNet): void {
  for (const v of convNetVariables(net)) v.dispose();
  for (const s of net.stages) if (isConvStage(s)) tf.dispose([...s.batchIndices.values()]);
}
