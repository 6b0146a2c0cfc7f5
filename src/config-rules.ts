/**
 * One validation rule per leaf config key. A rule returns undefined when the value is
 * acceptable, else the end of a sentence that starts with the key ("must be ...").
 * A key in DEFAULTS without a rule here cannot be set; a key here must exist in DEFAULTS.
 */
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
};

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

const positiveInt: Rule = (v) => (isNum(v) && Number.isInteger(v) && v > 0 ? undefined : 'must be a positive integer');
const nonNegativeInt: Rule = (v) =>
  isNum(v) && Number.isInteger(v) && v >= 0 ? undefined : 'must be a non-negative integer (0 = all)';
const positiveNumber: Rule = (v) => (isNum(v) && v > 0 ? undefined : 'must be a positive number');
const integer: Rule = (v) => (isNum(v) && Number.isInteger(v) ? undefined : 'must be an integer');
const bool: Rule = (v) => (typeof v === 'boolean' ? undefined : 'must be true or false');
const text: Rule = (v) => (typeof v === 'string' ? undefined : 'must be a string');
const nonEmptyName: Rule = (v) =>
  typeof v === 'string' && /^[A-Za-z0-9._-]+$/.test(v) ? undefined : 'must be a name of letters, digits, ".", "_" or "-"';
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
    if (!Array.isArray(v) || v.length < minLength) return `must be a list of at least ${minLength} ${what}`;
    if (v.length > maxLength) return `must be a list of at most ${maxLength} ${what}`;
    if (!v.every((x) => item(x) === undefined)) return `must be a list of ${what}`;
    return distinct && new Set(v).size !== v.length ? `must not list the same value twice` : undefined;
  };
const atMost =
  (rule: Rule, max: number): Rule =>
  (v) =>
    rule(v) ?? ((v as number) <= max ? undefined : `must be at most ${max.toLocaleString('en-US')}`);

const seed: Rule = (v) => (integer(v) === undefined && (v as number) >= 0 && (v as number) < 2 ** 32 ? undefined : 'must be an integer in [0, 2^32)');

/** A sweep entry: { name, bn, lrMultiplier, initStd? }, nothing else. */
const variant: Rule = (v) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'must be an object';
  const o = v as Record<string, unknown>;
  const extra = Object.keys(o).filter((k) => !['name', 'bn', 'lrMultiplier', 'initStd'].includes(k));
  if (extra.length > 0) return `has unknown key "${extra[0]}"`;
  const initStd = o.initStd === undefined ? undefined : positiveNumber(o.initStd);
  return nonEmptyName(o.name) ?? (typeof o.bn === 'boolean' ? undefined : 'needs bn: true or false') ?? positiveNumber(o.lrMultiplier) ?? (initStd && `initStd ${initStd}`);
};

export const RULES: Record<string, Rule> = {
  name: nonEmptyName,
  seeds: listOf(seed, 'seeds (integers in [0, 2^32))'),
  bn: oneOf('on', 'off', 'both'),
  sweep: (v) => {
    if (!Array.isArray(v)) return 'must be a list of { name, bn, lrMultiplier, initStd? } entries';
    const bad = v.map(variant).find((p) => p !== undefined);
    return bad === undefined ? undefined : `must be a list of { name, bn, lrMultiplier, initStd? } entries (an entry ${bad})`;
  },
  backend: oneOf('auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'),
  jobs: atMost(nonNegativeInt, LIMITS.jobs),
  tensorboard: oneOf('on', 'off'),
  'model.hiddenUnits': listOf(atMost(positiveInt, LIMITS.unitsPerLayer), `layer widths (integers in [1, ${LIMITS.unitsPerLayer}])`, 1, LIMITS.layers, false),
  'model.initStd': positiveNumber,
  'train.steps': atMost(positiveInt, LIMITS.steps),
  // Batch normalization needs at least two examples for a batch variance (and m/(m-1)).
  'train.batchSize': atMost((v) => (positiveInt(v) === undefined && (v as number) >= 2 ? undefined : 'must be an integer of at least 2'), LIMITS.batchSize),
  'train.learningRate': positiveNumber,
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
  'data.downloadRetries': nonNegativeInt,
};
