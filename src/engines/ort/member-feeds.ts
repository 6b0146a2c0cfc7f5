/**
 * Host-side feeds of an MLP member (ort-member.ts): the Algorithm 2 population mini-batches of its
 * evaluation, and a step's mini-batch as x and y when its state is not device-resident.
 */
import type { Tensor } from 'onnxruntime-node';
import { CLASSES, IMAGE_PIXELS, type Split } from '../../data/dataset.js';
import { populationOrder, populationRows } from '../../model/evaluate.js';
import type { Ort } from './runtime.js';

/** Rows `rows` of `split`'s images, one after another. */
function gatherImages(split: Split, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * IMAGE_PIXELS);
  for (let i = 0; i < rows.length; i++) out.set(split.images.subarray(rows[i] * IMAGE_PIXELS, (rows[i] + 1) * IMAGE_PIXELS), i * IMAGE_PIXELS);
  return out;
}

/** The evaluation's `popX`: the K population mini-batches of m rows of the run's seed, one after another. */
export function populationFeed(ort: Ort, train: Split, seed: number, batches: number, m: number): Tensor {
  const order = populationOrder(train, seed);
  const rows = Array.from({ length: batches }, (_, k) => Array.from(populationRows(order, k, m))).flat();
  return new ort.Tensor('float32', gatherImages(train, rows), [rows.length, IMAGE_PIXELS]);
}

/** A host mini-batch (BatchSampler.nextHost's x and one-hot y) as the step's `prefix`x and `prefix`y. */
export function hostBatchFeeds(ort: Ort, prefix: string, batch: { x: Float32Array; y: Float32Array }, m: number): Record<string, Tensor> {
  return { [`${prefix}x`]: new ort.Tensor('float32', batch.x, [m, IMAGE_PIXELS]), [`${prefix}y`]: new ort.Tensor('float32', batch.y, [m, CLASSES]) };
}
