/**
 * One MLP member's device residency (config key `deviceResident`, ort-webgpu): its training set
 * uploaded once, the step fed only the sampler's row indices, the step's state outputs kept on
 * the device ('gpu-buffer') and fed straight back, each replaced device tensor disposed, and reads
 * to the host only where asked (evaluation feeds the device tensors as they are; syncNet reads).
 * The loss sum alone comes back to the host with every step: the run loop reads it after each
 * step for its divergence check (4 bytes, in the same call).
 */
import type { Tensor } from 'onnxruntime-node';
import type { BackendName } from '../../config/config.js';
import { CLASSES, IMAGE_PIXELS, type Split } from '../../data/dataset.js';
import { DEVICE_BATCH, oneHotLabels, type ResidentSet } from './device-batch.js';
import { type DeviceTensors, GPU_BUFFER } from './device-tensors.js';
import { ORT_BACKENDS, type Ort, type OrtProvider } from './runtime.js';
import { LOSS_SUM, NEXT } from './step-graph.js';

/** The backend name of `provider` (ORT_BACKENDS read backwards). */
export const backendOf = (provider: OrtProvider): BackendName =>
  (Object.keys(ORT_BACKENDS) as (keyof typeof ORT_BACKENDS)[]).find((b) => ORT_BACKENDS[b] === provider)!;

export class ResidentState {
  private constructor(
    private readonly ort: Ort,
    readonly store: DeviceTensors,
    private readonly images: Tensor,
    private readonly labels: Tensor,
    readonly set: ResidentSet,
  ) {}

  /** Uploads `split` (once per store: members of a stack on the same split share it). */
  static async create(ort: Ort, store: DeviceTensors, split: Split): Promise<ResidentState> {
    // slice(): a split lives on a SharedArrayBuffer (dataset.ts), which onnxruntime-node refuses as a tensor's data ("Invalid argument").
    const images = await store.uploadOnce(
      split.images,
      new ort.Tensor('float32', split.images.slice(0, split.count * IMAGE_PIXELS), [split.count, IMAGE_PIXELS]),
    );
    const labels = await store.uploadOnce(split.labels, new ort.Tensor('float32', oneHotLabels(split), [split.count, CLASSES]));
    return new ResidentState(ort, store, images, labels, { rows: split.count });
  }

  /** The batch part of a step's feeds: the uploaded set and the m rows `indices` (the sampler's, in its order). */
  batchFeeds(prefix: string, indices: ArrayLike<number>): Record<string, Tensor> {
    const rows = BigInt64Array.from(indices, (i) => BigInt(i));
    return {
      [prefix + DEVICE_BATCH.images]: this.images,
      [prefix + DEVICE_BATCH.labels]: this.labels,
      [prefix + DEVICE_BATCH.rows]: new this.ort.Tensor('int64', rows, [rows.length]),
    };
  }

  /** preferredOutputLocation of the step's outputs of state `names` under `prefix`: the device, the loss sum the host. */
  outputLocations(prefix: string, names: string[]): Record<string, 'gpu-buffer' | 'cpu'> {
    return Object.fromEntries(names.map((n) => [prefix + NEXT + n, n === LOSS_SUM ? 'cpu' : GPU_BUFFER]));
  }

  /** `next` replaces `old` as a state value: the old device tensor is disposed, the new one owned. */
  replace(old: Tensor | undefined, next: Tensor): void {
    if (old !== next) this.store.release(old);
    this.store.adopt([next]);
  }
}
