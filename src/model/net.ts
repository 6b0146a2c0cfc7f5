/**
 * Parameters of the Sec. 4.1 network: input -> hidden sigmoid layers -> 10 logits.
 * Baseline layers hold W and b. Batch-normalized layers (Sec. 3.1) hold W, gamma and beta and no
 * bias, because beta takes its place. Weights ~ N(0, initStd^2) drawn on the host from a seeded
 * stream, so initial weights are identical on every backend; b = beta = 0, gamma = 1.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../core/random.js';

/**
 * P is tf.Variable for the trained net; the measurements (src/training/measure/) build nets of plain
 * tensors at shifted parameters, which the forward and backward passes accept alike.
 */
export interface HiddenLayer<P extends tf.Tensor = tf.Variable> {
  w: P;
  /** Baseline only. */
  b?: P;
  /** Batch normalization only. */
  gamma?: P;
  beta?: P;
}

export interface Net<P extends tf.Tensor = tf.Variable> {
  bn: boolean;
  epsilon: number;
  hidden: HiddenLayer<P>[];
  out: { w: P; b: P };
}

/** A net whose parameters may be variables or plain tensors (forward, backward, measurements). */
export type AnyNet = Net<tf.Tensor>;

export interface NetShape {
  inputSize: number;
  hiddenUnits: number[];
  classes: number;
}

function gaussian(rows: number, cols: number, std: number, rng: Rng): tf.Tensor2D {
  const values = new Float32Array(rows * cols);
  for (let i = 0; i < values.length; i++) values[i] = std * rng.normal();
  return tf.tensor2d(values, [rows, cols]);
}

/** A variable holding `t`, which is then released (tf.variable alone would keep `t` alive too). */
export function variable(t: tf.Tensor): tf.Variable {
  const v = tf.variable(t);
  t.dispose();
  return v;
}

/** A freshly initialised network. Weights are drawn layer by layer in order from `rng`. */
export function createNet(shape: NetShape, opts: { bn: boolean; initStd: number; epsilon: number }, rng: Rng): Net {
  const hidden: HiddenLayer[] = [];
  let fanIn = shape.inputSize;
  for (const units of shape.hiddenUnits) {
    const w = variable(gaussian(fanIn, units, opts.initStd, rng));
    hidden.push(opts.bn ? { w, gamma: variable(tf.ones([units])), beta: variable(tf.zeros([units])) } : { w, b: variable(tf.zeros([units])) });
    fanIn = units;
  }
  const out = { w: variable(gaussian(fanIn, shape.classes, opts.initStd, rng)), b: variable(tf.zeros([shape.classes])) };
  return { bn: opts.bn, epsilon: opts.epsilon, hidden, out };
}

/** Every variable of the net in a fixed order (hidden layers first, then the output layer). */
/** The sizes of netVariables' tensors, in that order, without building the net (checkpoint checks). */
export function parameterSizes(shape: NetShape, bn: boolean): number[] {
  const widths = [shape.inputSize, ...shape.hiddenUnits];
  const hidden = shape.hiddenUnits.flatMap((out, i) => [widths[i] * out, ...(bn ? [out, out] : [out])]);
  return [...hidden, widths[widths.length - 1] * shape.classes, shape.classes];
}

export function netVariables(net: Net): tf.Variable[] {
  const vars: tf.Variable[] = [];
  for (const layer of net.hidden) {
    for (const v of [layer.w, layer.b, layer.gamma, layer.beta]) if (v) vars.push(v);
  }
  vars.push(net.out.w, net.out.b);
  return vars;
}

export function disposeNet(net: Net): void {
  for (const v of netVariables(net)) v.dispose();
}

/** Per-layer inference statistics of the batch-normalized net: Algorithm 2 or moving averages. */
export interface BnStats {
  mean: tf.Tensor1D[];
  variance: tf.Tensor1D[];
}

export function disposeStats(stats: BnStats | undefined): void {
  if (!stats) return;
  for (const t of [...stats.mean, ...stats.variance]) t.dispose();
}
