/**
 * A run's state as a checkpoint holds it (everything a run needs to continue bit for bit: weights,
 * BN parameters, moving statistics, momentum SGD's velocity, RNG and shuffle position, the loss
 * summed since the last evaluation, timing), and the float32 codec between a run's tensors and
 * that state. The train loop encodes and restores; run/checkpoint.ts writes and reads the files.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Arm } from '../config/config.js';
import { UserError } from '../core/errors.js';
import type { SamplerState } from '../model/batches.js';
import type { Velocity } from '../model/momentum.js';
import { modelVariables, type Model } from '../model/model.js';
import type { BnStats } from '../model/net.js';
import type { EvalRecord } from './records.js';

export interface RunCheckpoint {
  arm: Arm;
  seed: number;
  /** Steps taken. */
  step: number;
  lastEvalStep: number;
  /** Sum of mini-batch losses since lastEvalStep (the float32 value of the device sum). */
  lossSum: number;
  bestAccuracy: number;
  last?: EvalRecord;
  elapsedS: number;
  /** float32 values of modelVariables(net), base64, in that order. */
  params: string[];
  moving?: { mean: string[]; variance: string[] };
  /** Momentum SGD's velocity (train.momentum > 0): float32 values, base64, in the order of params. */
  velocity?: string[];
  sampler: SamplerState;
}

// Read with data(), not dataSync(): tfjs-backend-webgpu in Node has no synchronous read (it needs OffscreenCanvas).
const encode = async (t: tf.Tensor): Promise<string> => {
  const v = (await t.data()) as Float32Array;
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
};
const encodeAll = (ts: tf.Tensor[]): Promise<string[]> => Promise.all(ts.map(encode));
const decode = (s: string): Float32Array => {
  const bytes = Buffer.from(s, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
};

export function encodeNet(net: Model): Promise<string[]> {
  return encodeAll(modelVariables(net));
}

export async function encodeStats(stats: BnStats): Promise<{ mean: string[]; variance: string[] }> {
  return { mean: await encodeAll(stats.mean), variance: await encodeAll(stats.variance) };
}

const MISMATCH = 'The checkpoint does not match this network (its config was edited?); delete it to restart that run from step 0.';

/** The values of `s` for a tensor of `t`'s shape; a wrong length is a damaged checkpoint. */
function decodeFor(t: tf.Tensor, s: string | undefined): Float32Array {
  const values = s === undefined ? undefined : decode(s);
  if (values?.length !== t.size) throw new UserError(MISMATCH);
  return values;
}

/** Loads saved values into `net` (and moving statistics held in variables), checking every size first. */
export function restoreNet(net: Model, params: string[], moving?: BnStats, saved?: { mean: string[]; variance: string[] }): void {
  const vars = modelVariables(net);
  if (vars.length !== params.length) throw new UserError(MISMATCH);
  const values = vars.map((v, i) => decodeFor(v, params[i]));
  const stats =
    moving && saved ? [...moving.mean.map((t, i) => decodeFor(t, saved.mean[i])), ...moving.variance.map((t, i) => decodeFor(t, saved.variance[i]))] : [];
  vars.forEach((v, i) => tf.tidy(() => v.assign(tf.tensor(values[i], v.shape))));
  if (moving && saved) {
    [...moving.mean, ...moving.variance].forEach((t, i) => tf.tidy(() => (t as tf.Variable).assign(tf.tensor(stats[i], t.shape))));
  }
}

export function encodeVelocity(velocity: Velocity): Promise<string[]> {
  return encodeAll(velocity.values);
}

/** Loads a saved velocity, checking every size first; a momentum run's checkpoint without one does not match. */
export function restoreVelocity(velocity: Velocity, saved: string[] | undefined): void {
  if (saved?.length !== velocity.values.length) throw new UserError(MISMATCH);
  const values = velocity.values.map((v, i) => decodeFor(v, saved[i]));
  velocity.values.forEach((v, i) => tf.tidy(() => v.assign(tf.tensor(values[i], v.shape))));
}
