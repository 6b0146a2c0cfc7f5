/**
 * The CNN's layer plan, computed from model.convLayers before anything is built: each stage's
 * input and output shape (height, width, maps; NHWC), and every reason a spec cannot be built
 * (a kernel larger than its input, a pool that does not divide it, too many values for memory),
 * as the end of a sentence that config-rules.ts starts with the key. Convolutions are "valid"
 * (no padding) with stride 1; pools are non-overlapping size x size max-pools.
 */
import type { ConvLayerSpec } from './config.js';

/** [height, width, channels] of one example at a stage boundary. */
export type MapShape = [number, number, number];

export type StagePlan =
  | { type: 'conv'; kernel: number; inShape: MapShape; outShape: MapShape }
  | { type: 'pool'; size: number; inShape: MapShape; outShape: MapShape };

export interface CnnPlan {
  stages: StagePlan[];
  /** Values per example entering the first fully connected layer. */
  flatSize: number;
}

/** Bounds of one spec entry: a 28 x 28 image takes no larger kernel or pool; 1,024 maps is 10x LeNet's widest. */
export const CONV_LIMITS = { kernel: 28, maps: 1024, pool: 28 };

const isCount = (v: unknown, lo: number, hi: number): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= lo && v <= hi;

/** The config rule of model.convLayers (shapes are checked by planCnn once the whole config is known). */
export function convLayersProblem(v: unknown, maxEntries: number): string | undefined {
  const what = `a list of { "type": "conv", "kernel", "maps" } and { "type": "pool", "size" } entries, at least one conv, at most ${maxEntries}`;
  if (!Array.isArray(v) || v.length > maxEntries) return `must be ${what}`;
  for (const [i, entry] of v.entries()) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return `entry ${i} must be an object (${what})`;
    const o = entry as Record<string, unknown>;
    const keys = o.type === 'conv' ? ['type', 'kernel', 'maps'] : o.type === 'pool' ? ['type', 'size'] : undefined;
    if (!keys) return `entry ${i} has unknown type ${JSON.stringify(o.type) ?? 'undefined'}; the types are "conv" and "pool"`;
    const extra = Object.keys(o).find((k) => !keys.includes(k));
    if (extra !== undefined) return `entry ${i} (${o.type}) has unknown key "${extra}"`;
    if (o.type === 'conv' && !isCount(o.kernel, 1, CONV_LIMITS.kernel)) return `entry ${i} needs "kernel": an integer in [1, ${CONV_LIMITS.kernel}]`;
    if (o.type === 'conv' && !isCount(o.maps, 1, CONV_LIMITS.maps)) return `entry ${i} needs "maps": an integer in [1, ${CONV_LIMITS.maps}]`;
    if (o.type === 'pool' && !isCount(o.size, 2, CONV_LIMITS.pool)) return `entry ${i} needs "size": an integer in [2, ${CONV_LIMITS.pool}]`;
  }
  return v.some((e) => (e as ConvLayerSpec).type === 'conv') ? undefined : `must hold at least one conv entry`;
}

/** The plan of `layers` on `input`, or the reason (end of a sentence) it cannot be built. */
export function planCnn(layers: ConvLayerSpec[], input: MapShape): CnnPlan | string {
  const stages: StagePlan[] = [];
  let shape = input;
  for (const [i, layer] of layers.entries()) {
    const [h, w, c] = shape;
    const at = `entry ${i} (${layer.type}`;
    if (layer.type === 'conv') {
      if (layer.kernel > h || layer.kernel > w) return `${at}, kernel ${layer.kernel}) is larger than its ${h}x${w}x${c} input`;
      const outShape: MapShape = [h - layer.kernel + 1, w - layer.kernel + 1, layer.maps];
      stages.push({ type: 'conv', kernel: layer.kernel, inShape: shape, outShape });
      shape = outShape;
    } else {
      if (h % layer.size !== 0 || w % layer.size !== 0) return `${at}, size ${layer.size}) does not divide its ${h}x${w}x${c} input`;
      const outShape: MapShape = [h / layer.size, w / layer.size, c];
      stages.push({ type: 'pool', size: layer.size, inShape: shape, outShape });
      shape = outShape;
    }
  }
  return { stages, flatSize: shape[0] * shape[1] * shape[2] };
}

/** Values one example holds at once in a training step's conv stages: im2col patches and map outputs. */
export function convValuesPerExample(plan: CnnPlan): number {
  let values = 0;
  for (const s of plan.stages) {
    const [p, q, f] = s.outShape;
    values += s.type === 'conv' ? p * q * (s.kernel * s.kernel * s.inShape[2] + 3 * f) : p * q * f;
  }
  return values;
}

/** Parameters of the conv stages (weights, and bias or gamma and beta per map). */
export function convParameterCount(plan: CnnPlan): number {
  let count = 0;
  for (const s of plan.stages) if (s.type === 'conv') count += s.kernel * s.kernel * s.inShape[2] * s.outShape[2] + 2 * s.outShape[2];
  return count;
}
