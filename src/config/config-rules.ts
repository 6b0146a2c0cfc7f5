/**
 * One validation rule per leaf config key. A rule returns undefined when the value is
 * acceptable, else the end of a sentence that starts with the key ("must be ...").
 * A key in DEFAULTS without a rule here cannot be set; a key here must exist in DEFAULTS.
 * The bounds are limits.ts's; the rules that relate keys are config-consistency.ts's.
 */
import { convLayersProblem } from './conv-shapes.js';
import { LIMITS } from './limits.js';

// Re-exported so that the importers of config-rules.ts (resolve, flags, network bounds, tests) keep their imports.
export { LIMITS, nestingDepth } from './limits.js';
export { GPU_ENGINES_IN_ONE_THREAD, checkConsistency } from './config-consistency.js';

export type Rule = (value: unknown) => string | undefined;

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
  deviceResident: oneOf('on', 'off', 'auto'),
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
