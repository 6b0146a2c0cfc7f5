/**
 * The `mnist` verb: flags -> config overrides -> runExperiment. Each flag maps to one config key
 * (FLAG_KEYS), so flags override the config file, which overrides DEFAULTS.
 */
import { Command, Option } from 'commander';
import { DEFAULTS, applyOverrides, resolveConfig, type ResolvedConfig } from '../config.js';
import { EXIT, UsageError } from '../errors.js';
import type { Logger } from '../logger.js';
import { resumeExperiment, runExperiment } from '../experiment.js';
import { defaultRunDir } from '../run-folder.js';

/** flag attribute (commander's camelCase) -> [flag, config key path, numeric?] */
const FLAG_KEYS: [string, string, string, boolean][] = [
  ['bn', '--bn <mode>', 'bn', false],
  ['steps', '--steps <n>', 'train.steps', true],
  ['batchSize', '--batch-size <m>', 'train.batchSize', true],
  ['lr', '--lr <rate>', 'train.learningRate', true],
  ['initStd', '--init-std <std>', 'model.initStd', true],
  ['evalEvery', '--eval-every <n>', 'eval.every', true],
  ['seed', '--seed <n>', 'seed', true],
  ['subset', '--subset <n>', 'data.trainSubset', true],
  ['testSubset', '--test-subset <n>', 'data.testSubset', true],
  ['data', '--data <source>', 'data.source', false],
  ['dataDir', '--data-dir <dir>', 'data.dir', false],
  ['backend', '--backend <name>', 'backend', false],
  ['jobs', '--jobs <n>', 'jobs', true],
];

const HELP: Record<string, string> = {
  bn: 'arms to run: on (BN net), off (baseline), both',
  steps: 'training steps per arm',
  batchSize: 'mini-batch size m',
  lr: 'constant SGD learning rate',
  initStd: 'std of the Gaussian initial weights',
  evalEvery: 'evaluate every n steps (and at step 0 and the last step)',
  seed: 'random seed (init, shuffle, subsets)',
  subset: 'train on a seeded subset of n examples (0 = all)',
  testSubset: 'evaluate on a seeded subset of n held-out examples (0 = all)',
  data: 'auto (full MNIST if it can be had, else embedded), full, embedded',
  dataDir: "folder with the four MNIST IDX files (else $BN_REPRO_DATA, then data/mnist)",
  backend: 'auto (tensorflow > wasm > cpu), tensorflow, wasm, cpu',
  jobs: 'runs trained side by side in worker threads (0 = one per CPU core)',
};

function defaultOf(path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], DEFAULTS);
}

/** "train.steps", 5 -> { train: { steps: 5 } } */
function nested(path: string, value: unknown): Record<string, unknown> {
  return path.split('.').reduceRight<unknown>((inner, key) => ({ [key]: inner }), value) as Record<string, unknown>;
}

/** Applies given flags one at a time, so an error names the flag. */
export function configFromFlags(opts: Record<string, unknown>): ResolvedConfig {
  let config = resolveConfig(opts.config as string | undefined, {});
  for (const [attr, flag, path, numeric] of FLAG_KEYS) {
    const raw = opts[attr];
    if (raw === undefined) continue;
    const n = Number(raw);
    const value = numeric && String(raw).trim() !== '' && Number.isFinite(n) ? n : raw;
    config = applyOverrides(config, nested(path, value), flag.split(' ')[0]);
  }
  return config;
}

export interface CommandDeps {
  makeLogger: (quiet: boolean) => Logger;
  setExit: (code: number) => void;
}

/** Flags that may go with --resume: they change how, not what, is computed. */
const RESUME_COMPATIBLE = new Set(['resume', 'jobs', 'quiet']);

/** Ctrl-C / SIGTERM: the first asks runs to checkpoint and stop, a second quits at once. */
function stopOnSignals(logger: Logger): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  const onSignal = (name: string) => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    logger.warn(`${name}: finishing the current step and saving checkpoints (again to quit at once).`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    release: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

export function mnistCommand({ makeLogger, setExit }: CommandDeps): Command {
  const cmd = new Command('mnist').description('Train the Sec. 4.1 MNIST nets with and without batch normalization (Figure 1).');
  cmd.option('--config <file>', 'JSON file of config overrides (e.g. configs/paper.json)');
  for (const [attr, flag, path] of FLAG_KEYS) {
    cmd.addOption(new Option(flag, `${HELP[attr]} (default: ${JSON.stringify(defaultOf(path))})`));
  }
  cmd.option('--out <dir>', 'run folder (default: results/<config name>-<UTC timestamp>)');
  cmd.option('--resume <dir>', 'continue the unfinished runs of a run folder from their checkpoints');
  cmd.option('--quiet', 'print warnings and errors only');
  cmd.action(async (opts: Record<string, unknown>) => {
    const logger = makeLogger(Boolean(opts.quiet));
    const tty = Boolean(process.stderr.isTTY) && !process.env.CI;
    let result;
    if (opts.resume !== undefined) {
      const extra = Object.keys(opts).filter((k) => !RESUME_COMPATIBLE.has(k) && opts[k] !== undefined);
      if (extra.length > 0) throw new UsageError(`--resume continues a run with its saved settings; drop ${extra.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}.`);
      const jobs = opts.jobs === undefined ? undefined : configFromFlags({ jobs: opts.jobs }).jobs;
      const stop = stopOnSignals(logger);
      try {
        result = await resumeExperiment(String(opts.resume), { logger, tty, quiet: Boolean(opts.quiet), stop: stop.signal, jobs });
      } finally {
        stop.release();
      }
    } else {
      const config = configFromFlags(opts);
      const out = (opts.out as string | undefined) ?? defaultRunDir(config.name, new Date());
      const stop = stopOnSignals(logger);
      try {
        result = await runExperiment(config, out, { logger, tty, quiet: Boolean(opts.quiet), stop: stop.signal });
      } finally {
        stop.release();
      }
    }
    for (const r of result.runs) {
      const state = r.interrupted ? `stopped at step ${r.steps}` : r.divergedAtStep !== undefined ? `diverged by step ${r.divergedAtStep}` : `${r.steps} steps`;
      logger.info(`${r.arm} seed ${r.seed}: final test accuracy ${r.finalTestAccuracy.toFixed(4)} (${state}, ${r.stepsPerSecond.toFixed(1)} steps/s)`);
    }
    logger.info(`results: ${result.dir}`);
    if (result.interrupted) {
      logger.warn(`interrupted; continue with: bn-repro mnist --resume ${result.dir}`);
      setExit(EXIT.interrupted);
    } else {
      setExit(result.runs.some((r) => r.divergedAtStep !== undefined) ? EXIT.diverged : EXIT.ok);
    }
  });
  return cmd;
}
