/**
 * Host-side feeds of the ORT members (ort-member.ts, conv-member.ts, ort-eval-share.ts): image rows
 * and one-hot labels, defined once; the Algorithm 2 population mini-batches of an MLP's evaluation;
 * a step's mini-batch as x and y when its state is not device-resident.
 */
import type { Tensor } from 'onnxruntime-node';
import { CLASSES, IMAGE_PIXELS, type Split } from '../../data/dataset.js';
import { populationOrder, populationRows } from '../../model/evaluate.js';
import type { Ort } from './runtime.js';
import type { NetSpec } from './net-graph.js';
import type { EvalSpec } from './step-graph.js';
import type { EngineContext } from '../train-engine.js';

/**
 * Copies of rows `rows` of `split`'s images, one after another (the data set lies on
 * SharedArrayBuffers, for worker threads, which ORT refuses as a tensor's data).
 */
export function gatherImages(split: Split, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * IMAGE_PIXELS);
  for (let i = 0; i < rows.length; i++) out.set(split.images.subarray(rows[i] * IMAGE_PIXELS, (rows[i] + 1) * IMAGE_PIXELS), i * IMAGE_PIXELS);
  return out;
}

/** `labels` one-hot (labels.length x CLASSES): the y rows BatchSampler.nextHost writes. */
export function oneHot(labels: ArrayLike<number>): Float32Array {
  const y = new Float32Array(labels.length * CLASSES);
  for (let i = 0; i < labels.length; i++) y[i * CLASSES + labels[i]] = 1;
  return y;
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

/** An MLP member's evaluation graph spec (Algorithm 2 population batches or moving averages, the probe rows) for the net `spec`. */
export function mlpEvalSpec(ctx: EngineContext, spec: NetSpec): EvalSpec {
  const { config, data, net, moving } = ctx;
  const test = data.test;
  const probeCount = config.eval.probeSize > 0 && config.eval.probeSize < test.count ? config.eval.probeSize : test.count;
  const m = config.train.batchSize;
  const population = net.bn && config.batchNorm.inference === 'population' ? { batches: config.batchNorm.populationBatches, batchSize: m } : undefined;
  return { ...spec, testCount: test.count, probeCount, units: config.eval.units, population, moving: moving !== undefined };
}
