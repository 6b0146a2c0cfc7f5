/**
 * Mini-batches assembled on the host from the typed arrays: a seeded shuffle per epoch, and the
 * batch, its transpose and its one-hot labels written into reused buffers (slicing a big device
 * tensor instead costs ~100 ms a step on wasm). An epoch's last partial batch is dropped, so every
 * step sees exactly m examples; the state (rng, permutation, position) can be saved and restored.
 */
import * as tf from '@tensorflow/tfjs-core';
import { CLASSES, IMAGE_PIXELS, type Split } from '../data/dataset.js';
import type { Batch } from './sgd.js';
import { Rng, type RngState } from '../core/random.js';

export interface SamplerState {
  rng: RngState;
  order: number[];
  position: number;
}

export class BatchSampler {
  private order: Uint32Array;
  private position = 0;
  private readonly x: Float32Array;
  private readonly xT: Float32Array;
  private readonly y: Float32Array;

  constructor(
    private readonly split: Split,
    readonly batchSize: number,
    private rng: Rng,
  ) {
    this.order = rng.permutation(split.count);
    this.x = new Float32Array(batchSize * IMAGE_PIXELS);
    this.xT = new Float32Array(batchSize * IMAGE_PIXELS);
    this.y = new Float32Array(batchSize * CLASSES);
  }

  /** Indices of the next mini-batch, reshuffling when fewer than m remain in the epoch. */
  nextIndices(): Uint32Array {
    if (this.position + this.batchSize > this.order.length) {
      this.order = this.rng.permutation(this.split.count);
      this.position = 0;
    }
    const idx = this.order.subarray(this.position, this.position + this.batchSize);
    this.position += this.batchSize;
    return idx;
  }

  /**
   * The next mini-batch as device tensors. The caller disposes them before asking for the next
   * one: the cpu backend keeps a reference to the reused buffers rather than a copy.
   */
  next(): Batch {
    const m = this.batchSize;
    const host = this.nextHost(true);
    return {
      x: tf.tensor2d(host.x, [m, IMAGE_PIXELS]),
      xT: tf.tensor2d(host.xT, [IMAGE_PIXELS, m]),
      y: tf.tensor2d(host.y, [m, CLASSES]),
    };
  }

  /**
   * The next mini-batch in the reused host buffers, valid until the next call: x (m x 784),
   * one-hot y, and x^T only when asked (the ONNX Runtime engine transposes in its graph).
   */
  nextHost(transposed: boolean): { x: Float32Array; xT: Float32Array; y: Float32Array } {
    const idx = this.nextIndices();
    const m = this.batchSize;
    const { images, labels } = this.split;
    this.y.fill(0);
    for (let i = 0; i < m; i++) {
      const row = idx[i];
      const src = images.subarray(row * IMAGE_PIXELS, (row + 1) * IMAGE_PIXELS);
      this.x.set(src, i * IMAGE_PIXELS);
      if (transposed) for (let p = 0; p < IMAGE_PIXELS; p++) this.xT[p * m + i] = src[p];
      this.y[i * CLASSES + labels[row]] = 1;
    }
    return { x: this.x, xT: this.xT, y: this.y };
  }

  state(): SamplerState {
    return { rng: this.rng.state(), order: Array.from(this.order), position: this.position };
  }

  restore(state: SamplerState): void {
    this.rng = Rng.fromState(state.rng);
    this.order = Uint32Array.from(state.order);
    this.position = state.position;
  }
}

/** Rows `indices` of `split` as one m x 784 device tensor (for statistics, not training). */
export function imagesTensor(split: Split, indices: ArrayLike<number>): tf.Tensor2D {
  const out = new Float32Array(indices.length * IMAGE_PIXELS);
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i];
    out.set(split.images.subarray(r * IMAGE_PIXELS, (r + 1) * IMAGE_PIXELS), i * IMAGE_PIXELS);
  }
  return tf.tensor2d(out, [indices.length, IMAGE_PIXELS]);
}
