/**
 * Helpers of the opt-in tfjs webgpu tests (webgpu-tfjs*.test.ts): the skip switch, async reads
 * (tfjs-backend-webgpu in Node has no dataSync), element-wise comparison, and small problems drawn
 * on the host from seeded streams so that every backend sees the same numbers.
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { Rng } from '../src/core/random.js';
import { assertClose } from './helpers.js';

/** false when BN_REPRO_TFJS_WEBGPU=1 (set by npm run test:webgpu), else the reason the cases skip. */
export const skip: false | string =
  process.env.BN_REPRO_TFJS_WEBGPU === '1' ? false : 'set BN_REPRO_TFJS_WEBGPU=1 (npm run test:webgpu installs webgpu and finds an adapter)';
export type Backend = 'webgpu' | 'wasm';

/** Reads every tensor `body` returns, then disposes them: the values on the host. */
export async function read(body: () => tf.Tensor[]): Promise<Float32Array[]> {
  const ts = tf.tidy(body);
  const values = await Promise.all(ts.map(async (t) => Float32Array.from(await t.data())));
  tf.dispose(ts);
  return values;
}

/** Every value of `got` within abs + rel * |want| of `want`; returns the largest difference seen. */
export function assertAllClose(got: Float32Array[], want: Float32Array[], abs: number, rel: number, what: string): number {
  assert.equal(got.length, want.length, `${what}: tensor count`);
  let worst = 0;
  got.forEach((g, i) => {
    assert.equal(g.length, want[i].length, `${what}: tensor ${i} size`);
    g.forEach((v, j) => {
      assertClose(v, want[i][j], abs + rel * Math.abs(want[i][j]), `${what} tensor ${i}[${j}]`);
      worst = Math.max(worst, Math.abs(v - want[i][j]));
    });
  });
  return worst;
}

/** A small problem drawn on the host from seeded streams, so it is the same on every backend. */
export function hostData(m: number, inputs: number, classes: number, seed: number) {
  const r = Rng.stream(seed, 'data');
  const x = Float32Array.from({ length: m * inputs }, () => r.uniform());
  const labels = Int32Array.from({ length: m }, () => r.int(classes));
  return () => ({ x: tf.tensor2d(x, [m, inputs]), y: tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), classes), 'float32') as tf.Tensor2D });
}

/** Non-trivial gamma, beta and biases (the 1-D variables), so every term of the BN backward counts. */
export function perturbVectors(vars: tf.Variable[], seed: number): void {
  const r = Rng.stream(seed, 'perturb');
  for (const v of vars) if (v.shape.length === 1) tf.tidy(() => v.assign(tf.add(v, tf.tensor1d(Array.from({ length: v.size }, () => 0.3 * r.normal())))));
}
