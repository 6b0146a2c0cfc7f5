/**
 * One validation rule per leaf config key. A rule returns undefined when the value is
 * acceptable, else the end of a sentence that starts with the key ("must be ...").
 * A key in DEFAULTS without a rule here cannot be set; a key here must exist in DEFAULTS.
 */
import { UsageError } from '../core/errors.js';
import type { ResolvedConfig } from './config.js';
import { lockstepRefusal } from './lockstep-rule.js';
import { checkCnnConfig } from './conv-config-check.js';
import { convLayersProblem } from './conv-shapes.js';

export type Rule = (value: unknown) => string | undefined;

/**
 * Bounds that keep a typo from exhausting memory or running for years: far above any sensible
 * experiment on this net (the paper: 3 layers of 100, 50,000 steps, batch 60).
 */
export const LIMITS = {
  listLength: 1000,
  layers: 20,
  unitsPerLayer: 10_000,
  steps: 100_000_000,
  batchSize: 60_000,
  populationBatches: 100_000,
  jobs: 256,
  /** A download retried this often with doubling waits already waits 17 minutes for the last try. */
  downloadRetries: 10,
  /** A config or sweep entry name: it names folders and rows; a file name holds 255 bytes. */
  nameLength: 100,
  /** Lists and objects nested this deep (the deepest key, a sweep entry's field, is 3 deep). */
  nesting: 10,
  /** A config file's size; the largest in configs/ is under 2 KB, a 1,000-seed list about 5 KB. */
  configFileBytes: 1 << 20,
  /**
   * The network's size, set from runs on the default wasm backend (its heap is 4 GiB) on this
   * project's 23 GB, 2-core machine (2 steps, checkpoints every step; README, "Robustness"):
   * 784-7000-7000-10 (54.5 M parameters) trains; 784-10000-10000-10 (178 M) fails writing its
   * checkpoint (a string past V8's 2^29 characters). Half of what was measured to train is
   * allowed, leaving room for the landscape measurements' shifted copies of the weights.
   */
  parameters: 50_000_000,
  /**
   * A layer pass over a training mini-batch: batchSize x the hidden units of all layers (the
   * forward pass keeps every layer's activations for the backward pass). Measured with
   * 784-2000-10: batch 20,000 (40 M values) trains at 3.9 GB peak RSS, batch 30,000 (60 M) aborts
   * ("memory access out of bounds" at 60,000); 784-5000-5000-10 at batch 3,000 (30 M) trains
   * at 3.8 GB, and the corner of both bounds, 784-7000-6000-10 (47.6 M parameters) at batch
   * 2,300 (29.9 M values), trains at 4.7 GB peak RSS.
   */
  batchValues: 30_000_000,
  /**
   * An evaluation: (held-out examples + probe examples) x the hidden units of all layers, the two
   * passes of one evaluation held at once. Measured: 784-10000-10 on MNIST's 10,000 held-out
   * examples with a 100-example probe (101 M values) trains at 2.8 GB peak RSS.
   */
  evalValues: 100_000_000,
  /** The most held-out examples a run evaluates on: MNIST's test set, and all the embedded digits. */
  heldOutExamples: 10_000,
};

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
/** Integers beyond 2^53 are not held exactly (9007199254740993 reads as ...992): not integers here. */
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

const positiveInt: Rule = (v) => (isInt(v) && v > 0 ? undefined : 'must be a positive integer');
const nonNegativeInt: Rule = (v) => (isInt(v) && v >= 0 ? undefined : 'must be a non-negative integer (0 = all)');
const positiveNumber: Rule = (v) => (isNum(v) && v > 0 ? undefined : 'must be a positive number');
const integer: Rule = (v) => (isInt(v) ? undefined : 'must be an integer');
const bool: Rule = (v) => (typeof v === 'boolean' ? undefined : 'must be true or false');
const text: Rule = (v) => (typeof v === 'string' ? undefined : 'must be a string');
const nonEmptyName: Rule = (v) =>
  typeof v === 'string' && /^[A-Za-z0-9._-]+$/.test(v) && v.length <= LIMITS.nameLength
    ? undefined
    : `must be a name of at most ${LIMITS.nameLength} letters, digits, ".", "_" or "-"`;
const oneOf =
  (...choices: string[]): Rule =>
  (v) =>
    typeof v === 'string' && choices.includes(v) ? undefined : `must be one of ${choices.map((c) => `"${c}"`).join(', ')}`;
const between =
  (lo: number, hi: number, openLo = false): Rule =>
  (v) =>
    isNum(v) && (openLo ? v > lo : v >= lo) && v <= hi ? undefined : `must be a number in ${openLo ? '(' : '['}${lo}, ${hi}]`;
const listOf =
  (item: Rule, what: string, minLength = 1, maxLength = LIMITS.listLength, distinct = true): Rule =>
  (v) => {
    if (!Array.isArray(v)) return `must be a list of ${what}`;
    if (v.length < minLength) return `must be a list of at least ${minLength} ${what}`;
    if (v.length > maxLength) return `must be a list of at most ${maxLength} ${what}`;
    if (!v.every((x) => item(x) === undefined)) return `must be a list of ${what}`;
    return distinct && new Set(v).size !== v.length ? `must not list the same value twice` : undefined;
  };
const atMost =
  (rule: Rule, max: number): Rule =>
  (v) =>
    rule(v) ?? ((v as number) <= max ? undefined : `must be at most ${max.toLocaleString('en-US')}`);

const seed: Rule = (v) => (integer(v) === undefined && (v as number) >= 0 && (v as number) < 2 ** 32 ? undefined : 'must be an integer in [0, 2^32)');

/** Hidden-layer widths: model.hiddenUnits and a sweep entry's own. */
const hiddenUnits: Rule = listOf(atMost(positiveInt, LIMITS.unitsPerLayer), `layer widths (integers in [1, ${LIMITS.unitsPerLayer}])`, 1, LIMITS.layers, false);

/** A sweep entry: { name, bn, lrMultiplier, initStd?, activation?, hiddenUnits? }, nothing else. */
const variant: Rule = (v) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'must be an object';
  const o = v as Record<string, unknown>;
  const extra = Object.keys(o).filter((k) => !['name', 'bn', 'lrMultiplier', 'initStd', 'activation', 'hiddenUnits'].includes(k));
  if (extra.length > 0) return `has unknown key "${extra[0]}"`;
  const initStd = o.initStd === undefined ? undefined : positiveNumber(o.initStd);
  const widths = o.hiddenUnits === undefined ? undefined : hiddenUnits(o.hiddenUnits);
  return (
    nonEmptyName(o.name) ??
    (typeof o.bn === 'boolean' ? undefined : 'needs bn: true or false') ??
    positiveNumber(o.lrMultiplier) ??
    (initStd && `initStd ${initStd}`) ??
    (o.activation === undefined || o.activation === 'sigmoid' || o.activation === 'relu' ? undefined : 'has activation other than "sigmoid" or "relu"') ??
    (widths && `hiddenUnits ${widths}`)
  );
};

const SWEEP_ENTRIES = '{ name, bn, lrMultiplier, initStd?, activation?, hiddenUnits? } entries';

export const RULES: Record<string, Rule> = {
  name: nonEmptyName,
  seeds: listOf(seed, 'seeds (integers in [0, 2^32))'),
  bn: oneOf('on', 'off', 'both'),
  sweep: (v) => {
    if (!Array.isArray(v)) return `must be a list of ${SWEEP_ENTRIES}`;
    const bad = v.map(variant).find((p) => p !== undefined);
    return bad === undefined ? undefined : `must be a list of ${SWEEP_ENTRIES} (an entry ${bad})`;
  },
  backend: oneOf('auto', 'tensorflow', 'webgpu', 'wasm', 'cpu', 'ort-cpu', 'ort-webgpu', 'ort-cuda'),
  jobs: atMost(nonNegativeInt, LIMITS.jobs),
  tensorboard: oneOf('on', 'off'),
  lockstep: oneOf('on', 'off', 'auto'),
  'model.kind': oneOf('mlp', 'cnn'),
  'model.convLayers': (v) => convLayersProblem(v, LIMITS.layers),
  'model.activation': oneOf('sigmoid', 'relu'),
  'model.hiddenUnits': hiddenUnits,
  'model.initStd': positiveNumber,
  'train.steps': atMost(positiveInt, LIMITS.steps),
  // Batch normalization needs at least two examples for a batch variance (and m/(m-1)).
  'train.batchSize': atMost((v) => (positiveInt(v) === undefined && (v as number) >= 2 ? undefined : 'must be an integer of at least 2'), LIMITS.batchSize),
  'train.learningRate': positiveNumber,
  // mu = 1 never forgets a gradient (the velocity grows without bound); mu < 0 is not momentum.
  'train.momentum': (v) => (isNum(v) && v >= 0 && v < 1 ? undefined : 'must be a number in [0, 1)'),
  'train.checkpointEvery': nonNegativeInt,
  'batchNorm.epsilon': positiveNumber,
  'batchNorm.inference': oneOf('population', 'moving'),
  'batchNorm.populationBatches': atMost(positiveInt, LIMITS.populationBatches),
  'batchNorm.momentum': between(0, 1),
  'eval.every': positiveInt,
  'eval.units': listOf(nonNegativeInt, 'unit indices (integers >= 0)'),
  'eval.percentiles': listOf(between(0, 100), 'percentiles in [0, 100]'),
  'eval.probeSize': nonNegativeInt,
  'eval.landscape.every': (v) => (nonNegativeInt(v) === undefined ? undefined : 'must be a non-negative integer (0 = off)'),
  'eval.landscape.stepMultiples': listOf(positiveNumber, 'positive numbers'),
  'data.source': oneOf('auto', 'full', 'embedded'),
  'data.seed': seed,
  'data.dir': text,
  'data.input': oneOf('grayscale', 'binary'),
  'data.binaryThreshold': between(0, 1),
  'data.trainSubset': nonNegativeInt,
  'data.testSubset': nonNegativeInt,
  'data.embeddedTrain': positiveInt,
  'data.embeddedTest': positiveInt,
  'data.verifyChecksums': bool,
  'data.mirrors': listOf(text, 'URL strings', 0, LIMITS.listLength, false),
  'data.downloadRetries': atMost(nonNegativeInt, LIMITS.downloadRetries),
};

/**
 * How deeply `value` nests lists and objects (a number is 0, [] is 1), counted without recursion
 * and given up past `limit`: a file of 5,000 nested lists must not overflow the stack here, nor
 * in the JSON.stringify and structuredClone calls that follow.
 */
export function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > limit) return deepest;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** Rules that relate keys, applied to each merged config; single-key rules are RULES above. */
/**
 * ONNX Runtime's GPU providers train in the main thread only: with two worker threads each opening
 * its own WebGPU session, ort-webgpu ended in a segmentation fault (exit 139, on SwiftShader) where
 * one thread trained; the runs of a command then train one after another on the one device.
 */
export const GPU_ENGINES_IN_ONE_THREAD: readonly string[] = ['ort-webgpu', 'ort-cuda'];

export function checkConsistency(c: ResolvedConfig, where: string): void {
  // Every network's last hidden layer must hold the recorded units: model.hiddenUnits' and each sweep entry's own.
  for (const v of [undefined, ...c.sweep.filter((e) => e.hiddenUnits !== undefined)]) {
    const units = v?.hiddenUnits ?? c.model.hiddenUnits;
    const width = units[units.length - 1];
    const bad = c.eval.units.find((u) => u >= width);
    const of = v ? ` of sweep entry "${v.name}"` : '';
    if (bad !== undefined) {
      throw new UsageError(`${where}: config key "eval.units" holds unit ${bad}, outside the last hidden layer${of} of ${width} units.`);
    }
  }
  if (new Set(c.sweep.map((v) => v.name)).size !== c.sweep.length) throw new UsageError(`${where}: config key "sweep" uses a name twice.`);
  if (c.jobs > 1 && GPU_ENGINES_IN_ONE_THREAD.includes(c.backend)) {
    throw new UsageError(
      `${where}: config key "jobs" is ${c.jobs}, but the ${c.backend} backend trains in one thread (several GPU sessions in worker threads crashed the process); drop --jobs or use 1.`,
    );
  }
  const lockstep = lockstepRefusal(c.lockstep, c.backend, `${where}: `);
  if (lockstep) throw lockstep;
  if (c.data.trainSubset > 0 && c.data.trainSubset < c.train.batchSize) {
    throw new UsageError(`${where}: config key "data.trainSubset" (${c.data.trainSubset}) is smaller than one mini-batch (${c.train.batchSize}).`);
  }
  checkCnnConfig(c, where, LIMITS);
}
