/**
 * The mini-batch of a device-resident step (config key `deviceResident`): the training images and
 * one-hot labels are graph inputs uploaded once (DeviceTensors.uploadOnce), and each step feeds
 * only the sampler's m row indices, which a Gather turns into the batch on the device. Gather
 * copies rows, so x and y are bit for bit the host-assembled batch of BatchSampler.nextHost.
 */
import type { Split } from '../../data/dataset.js';
import { oneHot } from './member-feeds.js';
import type { GraphBuilder } from './graph.js';

/** The inputs a device-resident step adds under its prefix, in place of `x` and `y`. */
export const DEVICE_BATCH = { images: 'trainX', labels: 'trainY', rows: 'batchRows' } as const;

/** `split`'s labels one-hot (count x CLASSES), the y rows BatchSampler.nextHost writes. */
export const oneHotLabels = (split: Split): Float32Array => oneHot(split.labels.subarray(0, split.count));

/** The training set's size as the step graph sees it. */
export interface ResidentSet {
  /** Examples in the training split. */
  rows: number;
}

/** x (m x inputSize) and one-hot y (m x classes) gathered on the device from the uploaded set. */
export function gatherBatch(g: GraphBuilder, prefix: string, set: ResidentSet, m: number, inputSize: number, classes: number): { x: string; y: string } {
  const images = g.input(prefix + DEVICE_BATCH.images, [set.rows, inputSize]);
  const labels = g.input(prefix + DEVICE_BATCH.labels, [set.rows, classes]);
  const rows = g.input(prefix + DEVICE_BATCH.rows, [m], 'int64');
  return { x: g.op('Gather', [images, rows], { axis: 0 }), y: g.op('Gather', [labels, rows], { axis: 0 }) };
}
