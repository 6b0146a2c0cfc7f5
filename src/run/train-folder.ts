/**
 * Training a run folder's runs, shared by a new experiment and a resumed one (experiment.ts):
 * the recorders (CSV rows first, then checkpoints, TensorBoard, progress), run.json's status as
 * it changes (running, then finished, interrupted, incomplete, diverged or failed, also on a
 * forced exit), the stop signals, and the worker pool or lockstep stacks that train the runs.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { BackendInfo } from '../engines/backend.js';
import type { ResolvedConfig } from '../config/config.js';
import { GPU_ENGINES_IN_ONE_THREAD } from '../config/config-consistency.js';
import { lockstepFor } from '../config/lockstep-rule.js';
import { runsOf } from '../config/runs.js';
import { asUserError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { SignalCatcher } from '../core/signals.js';
import type { loadDataset } from '../data/load.js';
import { fanOut, type Recorder, type RunSpec, type RunSummary } from '../training/records.js';
import { checkpointRecorder } from './checkpoint-recorder.js';
import { measurementCsvRecorder } from './measurement-csv.js';
import { runAll } from './parallel.js';
import { csvRecorder, progressRecorder } from './recorders.js';
import { RUN_JSON } from './run-folder.js';
import { writeEndState, writeRunningState } from './run-state.js';
import type { Shard } from './shard.js';
import { tensorboardRecorder } from './tensorboard/recorder.js';

export interface ExperimentOptions {
  logger: Logger;
  /** Draw progress bars (stderr is a terminal). */
  tty: boolean;
  quiet: boolean;
  /** Extra recorder, e.g. in-memory for tests. */
  recorder?: Recorder;
  env?: NodeJS.ProcessEnv;
  /** Stop signals (see signals.ts): while runs train, the first asks them to checkpoint and return. */
  signals?: SignalCatcher;
  /** Train only this share of the runs (see shard.ts). */
  shard?: Shard;
}

export interface ExperimentResult {
  dir: string;
  backend: BackendInfo;
  /** Every run of the folder that has ended or stopped (resumed folders include earlier runs). */
  runs: RunSummary[];
  /** True when a stop request left runs unfinished: resume with --resume. */
  interrupted: boolean;
  /** True when a stop signal arrived, even after the last step (exit 130). */
  stopped: boolean;
}

/** How to continue an interrupted folder, as printed. */
export const resumeHint = (dir: string): string => `continue with: bn-repro mnist --resume ${dir}`;

/** jobs = 0 means one worker per CPU core; the ORT GPU providers train in one thread (config-consistency.ts). */
export function jobsFor(config: ResolvedConfig): number {
  if (GPU_ENGINES_IN_ONE_THREAD.includes(config.backend)) return 1;
  return config.jobs > 0 ? config.jobs : availableParallelism();
}

/**
 * run.json as this process builds it, before run-state.ts adds its status; readers get the
 * validated RunJson (run/schemas.ts, its type inferred from the schema).
 */
export type RunJsonDraft = Record<string, unknown> & { config: object; digest: string };

/**
 * Trains `specs` into `dir`, writing `runJson` (its config as the file holds it, its digest) with
 * the status as it changes; `config` is the resolved config the runs train with.
 */
export async function trainIntoFolder(
  dir: string,
  runJson: RunJsonDraft,
  config: ResolvedConfig,
  specs: RunSpec[],
  earlier: RunSummary[],
  backend: BackendInfo,
  opts: ExperimentOptions & { data: Awaited<ReturnType<typeof loadDataset>>; append: boolean; keepUpTo?: ReadonlyMap<string, number> },
): Promise<ExperimentResult> {
  const { digest } = runJson;
  const path = join(dir, RUN_JSON);
  // Every planned run is either ended (earlier) or trains now (specs): resume.ts sorts each into one.
  const planned = earlier.length + specs.length;
  if (opts.append) writeRunningState(path, runJson, planned); // a new folder is created holding it
  // CSV writers come before the checkpoint writer: a checkpoint is saved only after its rows are on disk.
  // They append: the folder was created with its headers (a resumed one missing a file gets it whole).
  const measurements = config.eval.landscape.every > 0 ? [measurementCsvRecorder(dir, true)] : [];
  const ended: RunSummary[] = [];
  const endedRecorder: Recorder = { evaluation: () => {}, runFinished: (s) => void (s.interrupted ? undefined : ended.push(s)), close: async () => {} };
  const recorders = [
    csvRecorder(dir, config.eval.percentiles, true),
    ...measurements,
    checkpointRecorder(dir, config, digest),
    tensorboardRecorder(dir, config, opts.logger, opts.keepUpTo),
    endedRecorder,
    progressRecorder(opts.logger, opts),
  ];
  if (opts.recorder) recorders.push(opts.recorder);
  const recorder = fanOut(...recorders);
  const runs = [...earlier];
  let status = 'failed';
  let error: string | undefined;
  const endState = (done: RunSummary[]) => ({
    ...runJson,
    status,
    ...(error ? { error } : {}),
    endedAt: new Date().toISOString(),
    // Worker threads share this process, so this covers every run.
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    runs: done,
  });
  // A second Ctrl-C exits at once, skipping the finally below: run.json still says how it stopped.
  const onForcedExit = () => {
    status = 'interrupted';
    writeEndState(path, endState([...earlier, ...ended]));
  };
  process.prependListener('exit', onForcedExit);
  const stopping = opts.signals?.deferExit((name) =>
    opts.logger.warn(`${name}: finishing the current step and saving checkpoints${name === 'SIGINT' ? ' (again to quit at once)' : ''}.`),
  );
  const unnote = opts.signals?.noteOnExit(resumeHint(dir));
  try {
    const jobs = jobsFor(config);
    const stacks = Math.max(1, Math.min(jobs, specs.length));
    const lockstep = lockstepFor(config, backend.name, Math.ceil(specs.length / stacks));
    if (lockstep) opts.logger.info(`lockstep: ${specs.length} runs in ${stacks} stack(s), one ONNX Runtime call per step for each stack`);
    const plan = { config, data: opts.data, runs: specs, recorder, jobs, backend: backend.name, stop: stopping?.stop, lockstep };
    runs.push(...(await runAll(plan)));
    const complete = runs.length === planned && !runs.some((r) => r.interrupted);
    // A merge of some shards, resumed to its end, still lacks the runs of the shards not merged.
    const partial = runJson.mergedFrom !== undefined && runs.length < runsOf(config).length;
    status = !complete ? 'interrupted' : partial ? 'incomplete' : runs.some((r) => r.divergedAtStep !== undefined) ? 'diverged' : 'finished';
  } catch (err) {
    error = asUserError(err)?.message ?? `internal error: ${(err as Error).message}`;
    throw err;
  } finally {
    await recorder.close().catch(() => {}); // after a failure (a full disk) the first error is the one to report
    writeEndState(path, endState(runs));
    process.off('exit', onForcedExit);
    unnote?.();
    stopping?.release();
  }
  return { dir, backend, runs, interrupted: status === 'interrupted', stopped: stopping?.stop.aborted ?? false };
}
