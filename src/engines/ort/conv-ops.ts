/**
 * The CNN's elementary operations as ONNX graph pieces, on flat NHWC activations (m x H*W*C), the
 * layout of src/model/conv-ops.ts: im2col as one Gather of the constant index table the net builds
 * (convIndices in src/model/conv-net.ts, taken per pixel: blockIndices), its adjoint col2im as a
 * Gather of the appended-zero gradient followed by a ReduceSum (no scatter), max-pooling by
 * reshape + transpose + ReduceMax, and the two nonlinearities with their derivatives.
 */
import type { Activation } from '../../config/config.js';
import type { MapShape } from '../../config/conv-shapes.js';
import { convIndices } from '../../model/conv-net.js';
import type { GraphBuilder } from './graph.js';

/** ONNX's TensorProto element types, for Cast's `to`. */
const CAST_TO = { float32: 1, float64: 11 } as const;

export interface ConvShape {
  kernel: number;
  inShape: MapShape;
  outShape: MapShape;
}

const patchSize = (s: ConvShape) => s.kernel * s.kernel * s.inShape[2];

/**
 * convIndices' tables over whole pixels (all C channels at once): channels are innermost in both
 * the maps (NHWC) and the patches (dy, dx, c), so entry ci = 0 of each pixel, divided by C, names
 * a block of C contiguous values. Gathering blocks copies C values per index where the per-value
 * table copies one: the second conv stage's im2col and col2im took 18 of a 52 ms BN step
 * (ORT's profiler, the default layers) with per-value indices.
 */
function blockIndices(s: ConvShape): { im2col: number[]; col2im: number[] } {
  const c = s.inShape[2];
  const { im2col, col2im } = convIndices(s.inShape, s.kernel);
  const k2 = s.kernel * s.kernel;
  const pixels = s.inShape[0] * s.inShape[1];
  return {
    im2col: Array.from({ length: im2col.length / c }, (_, j) => im2col[j * c] / c),
    col2im: Array.from({ length: pixels * k2 }, (_, j) => col2im[Math.floor(j / k2) * c * k2 + (j % k2)] / c),
  };
}

/** The patches of every example, one row per output location: (m*P*Q) x (k*k*C). */
export function im2col(g: GraphBuilder, h: string, s: ConvShape, m: number): string {
  const [hh, ww, c] = s.inShape;
  const [p, q] = s.outShape;
  const gathered = g.op('Gather', [g.reshape(h, [m, hh * ww, c]), g.ints(blockIndices(s).im2col)], { axis: 1 });
  return g.reshape(gathered, [m * p * q, patchSize(s)]);
}

/** The adjoint of im2col: dCols ((m*P*Q) x (k*k*C)) to m x (H*W*C), each input summing the patch entries it fed. */
export function col2im(g: GraphBuilder, dCols: string, s: ConvShape, m: number): string {
  const [h, w, c] = s.inShape;
  const [p, q] = s.outShape;
  const k2 = s.kernel * s.kernel;
  const perExample = g.reshape(dCols, [m, p * q * k2, c]);
  // Block P*Q*k*k reads the appended zeros: the pixel fed fewer than k*k patches.
  const padded = g.op('Concat', [perExample, g.floats(new Array(m * c).fill(0), [m, 1, c])], { axis: 1 });
  const slots = g.op('Gather', [padded, g.ints(blockIndices(s).col2im)], { axis: 1 });
  return g.reshape(g.sum(g.reshape(slots, [m, h * w, k2, c]), [2]), [m, h * w * c]);
}

export interface PoolShape {
  size: number;
  inShape: MapShape;
  outShape: MapShape;
}

/** The pool's input as (m, H/s, W/s, C, s*s): each window's entries on the last axis, in (dy, dx) order. */
function windows(g: GraphBuilder, h: string, s: PoolShape, m: number): string {
  const [hh, ww, c] = s.inShape;
  const k = s.size;
  const six = g.reshape(h, [m, hh / k, k, ww / k, k, c]);
  return g.reshape(g.op('Transpose', [six], { perm: [0, 1, 3, 5, 2, 4] }), [m, hh / k, ww / k, c, k * k]);
}

/**
 * Max-pooling of flat NHWC h; with `withMask`, also the window mask poolBackward routes the
 * gradient by. Tie rule: the LAST maximal entry of the window in row-major (dy, dx) order gets it
 * (ArgMax with select_last_index), as tfjs-backend-wasm's MaxPoolGrad kernel does (measured in
 * test/engine-ort-cnn-grad.test.ts), the kernel the tfjs CNN trains with by default; tfjs-backend-cpu's
 * kernel keeps the first. Ties matter little: after ReLU the common one, a window of zeros, gets
 * zero gradient either way (ReLU's derivative is 0 there).
 */
export function maxPool(g: GraphBuilder, h: string, s: PoolShape, m: number, withMask: boolean): { out: string; mask?: string } {
  const [p, q, c] = s.outShape;
  const win = windows(g, h, s, m);
  const out = g.reshape(g.op('ReduceMax', [win], { axes: [4], keepdims: 0 }), [m, p * q * c]);
  if (!withMask) return { out };
  const last = g.op('ArgMax', [win], { axis: 4, keepdims: 1, select_last_index: 1 });
  const slots = g.ints(Array.from({ length: s.size * s.size }, (_, i) => i));
  return { out, mask: g.op('Cast', [g.op('Equal', [last, slots])], { to: CAST_TO[g.dtype] }) };
}

/** The gradient of maxPool: dOut (m x P*Q*C) to the window entries the mask marks, m x H*W*C. */
export function maxPoolBackward(g: GraphBuilder, dOut: string, mask: string, s: PoolShape, m: number): string {
  const [hh, ww, c] = s.inShape;
  const k = s.size;
  const spread = g.mul(g.reshape(dOut, [m, hh / k, ww / k, c, 1]), mask);
  const six = g.reshape(spread, [m, hh / k, ww / k, c, k, k]);
  return g.reshape(g.op('Transpose', [six], { perm: [0, 1, 4, 2, 5, 3] }), [m, hh * ww * c]);
}

export function activate(g: GraphBuilder, pre: string, kind: Activation): string {
  return kind === 'relu' ? g.op('Relu', [pre]) : g.sigmoid(pre);
}

/** dL/d(pre) from dL/d(act), through the activation's output: s(1-s) for sigmoid, [act > 0] for ReLU. */
export function activationBackward(g: GraphBuilder, dAct: string, act: string, kind: Activation): string {
  if (kind === 'relu') return g.mul(dAct, g.op('Cast', [g.op('Greater', [act, g.scalar(0)])], { to: CAST_TO[g.dtype] }));
  return g.mul(dAct, g.mul(act, g.sub(g.scalar(1), act)));
}
