/**
 * runExperiment(config, outDir) and resumeExperiment(runDir): the testable units behind
 * `bn-repro mnist`. Check the output folder, initialise the backend, load the data, train every
 * (arm, seed) run, and write accuracy.csv, activations.csv, run.json and checkpoints/.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { initBackend, versions, type BackendInfo } from './engines/backend.js';
import { checkpointRecorder } from './run/checkpoint-recorder.js';
import { dataIdentityOf, experimentDigest } from './run/digest.js';
import type { ResolvedConfig } from './config/config.js';
import { GPU_ENGINES_IN_ONE_THREAD } from './config/config-rules.js';
import { UserError, asUserError } from './core/errors.js';
import { runsOf, variantsOf } from './config/runs.js';
import { loadDataset } from './data/load.js';
import type { Logger } from './core/logger.js';
import { runAll } from './run/parallel.js';
import type { RunSpec } from './training/records.js';
import { measurementCsvRecorder } from './run/measurement-csv.js';
import { folderCsvs } from './run/folder-files.js';
import { createRunFolder } from './run/new-run-folder.js';
import { csvHeaderLine, csvRecorder, downloadProgress, progressRecorder } from './run/recorders.js';
import { fanOut, type Recorder, type RunSummary } from './training/records.js';
import { lockstepFor } from './config/lockstep-rule.js';
import { lockFolder } from './run/lock.js';
import { checkRowsAgree, checkSameData, planResume, trimCsvs } from './run/resume.js';
import { RUN_JSON, readRunJson, refuseUsedDir } from './run/run-folder.js';
import { runningText, writeEndState, writeRunningState } from './run/run-state.js';
import { shardOf, type Shard } from './run/shard.js';
import type { SignalCatcher } from './core/signals.js';
import { tensorboardRecorder } from './run/tensorboard/recorder.js';

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

/** jobs = 0 means one worker per CPU core; the ORT GPU providers train in one thread (config-rules.ts). */
export function jobsFor(config: ResolvedConfig): number {
  if (GPU_ENGINES_IN_ONE_THREAD.includes(config.backend)) return 1;
  return config.jobs > 0 ? config.jobs : availableParallelism();
}

/**
 * run.json as this process builds it, before run-state.ts adds its status; readers get the
 * validated RunJson (run/schemas.ts, its type inferred from the schema).
 */
type RunJsonDraft = Record<string, unknown> & { config: object; digest: string };

/** run.json and every checkpoint carry the digest of the config and data they were made with. */
const withDigest = (runJson: Record<string, unknown> & { config: ResolvedConfig }): RunJsonDraft => ({
  ...runJson,
  digest: experimentDigest(runJson.config, dataIdentityOf(runJson.data)!),
});

/**
 * Trains `specs` into `dir`, writing `runJson` (its config as the file holds it, its digest) with
 * the status as it changes; `config` is the resolved config the runs train with.
 */
async function execute(
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

export async function runExperiment(config: ResolvedConfig, outDir: string, opts: ExperimentOptions): Promise<ExperimentResult> {
  const { logger } = opts;
  refuseUsedDir(outDir); // before any slow work, so a typo costs nothing
  // Until the folder exists a signal exits at once: nothing is lost, and a download is not waited for.
  const unnote = opts.signals?.noteOnExit('no run folder was created');
  const backend = await initBackend(config.backend, logger, undefined, config.model.kind);
  lockstepFor(config, backend.name, 0); // `--lockstep on` on the tfjs backend `auto` chose is refused before any folder exists
  logger.info(`backend: ${backend.name} (${backend.package}, tfjs ${backend.tfjsVersion})`);
  const data = await loadDataset(config, { logger, env: opts.env, onDownloadProgress: downloadProgress(opts.tty && !opts.quiet) });
  logger.info(`data: ${data.source} MNIST, ${data.train.count} train / ${data.test.count} held-out, from ${data.origin} (${data.folder})`);
  const specs = shardOf(runsOf(config), opts.shard);
  const runJson: RunJsonDraft = withDigest({
    paper: 'Ioffe & Szegedy (2015), Batch Normalization, Sec. 4.1, Figure 1',
    config,
    seeds: config.seeds,
    arms: variantsOf(config).map((v) => v.name),
    ...(opts.shard ? { shard: opts.shard } : {}),
    /** The runs this folder holds: all of the experiment's, or one shard's. */
    planned: specs.map((s) => `${s.variant.name}/${s.seed}`),
    backend,
    jobs: jobsFor(config),
    versions: versions(),
    data: { source: data.source, origin: data.origin, folder: data.folder, train: data.train.count, test: data.test.count },
    startedAt: new Date().toISOString(),
  });
  // The folder appears whole, with run.json and every CSV header, or not at all.
  const files = folderCsvs(config).map(({ name, columns }): [string, string] => [name, csvHeaderLine(columns)]);
  const { dir, lock } = createRunFolder(outDir, [[RUN_JSON, runningText(runJson, specs.length)], ...files]);
  unnote?.();
  logger.info(`writing results to ${dir}`);
  try {
    return await execute(dir, runJson, config, specs, [], backend, { ...opts, data, append: false });
  } finally {
    lock.release();
  }
}

/** Continues every unfinished run of `runDir` from its last checkpoint (or from step 0). */
export async function resumeExperiment(runDir: string, opts: ExperimentOptions & { jobs?: number }): Promise<ExperimentResult> {
  readRunJson(runDir); // a folder that is not a run is refused before anything is written into it
  const lock = lockFolder(runDir);
  // Until its runs train, a signal exits at once, leaving the folder as it was.
  const unnote = opts.signals?.noteOnExit(resumeHint(runDir));
  try {
    return await resumeLocked(runDir, opts);
  } finally {
    unnote?.();
    lock.release();
  }
}

async function resumeLocked(runDir: string, opts: ExperimentOptions & { jobs?: number }): Promise<ExperimentResult> {
  const { logger } = opts;
  const plan = planResume(runDir);
  // bn-repro writes "planned" into every folder with a digest; without it a merge's subset cannot be told from the whole.
  if (plan.runJson.planned === undefined)
    throw new UserError(`${join(runDir, RUN_JSON)} is damaged: it has no "planned" list of the runs it holds, so --resume cannot tell which runs to continue.`);
  checkRowsAgree(runDir, plan);
  const config = { ...plan.runJson.config, ...(opts.jobs !== undefined ? { jobs: opts.jobs } : {}) };
  const backend = await initBackend(config.backend, logger, undefined, config.model.kind);
  lockstepFor(config, backend.name, 0);
  const startedOn = plan.runJson.backend?.name;
  if (backend.name !== startedOn) {
    logger.warn(`this run started on ${startedOn} and resumes on ${backend.name}: results may differ in the last digits.`);
  }
  if (plan.specs.length === 0) {
    logger.info(`every run in ${runDir} has already ended; nothing to resume.`);
    return { dir: runDir, backend, runs: plan.finished, interrupted: false, stopped: false };
  }
  const data = await loadDataset(config, { logger, env: opts.env });
  checkSameData(plan, { source: data.source, train: data.train.count, test: data.test.count });
  trimCsvs(runDir, plan);
  for (const s of plan.specs) logger.info(`resuming ${s.variant.name} seed ${s.seed} from step ${s.resume?.step ?? 0}`);
  // run.json keeps its config as saved, and so its digest: a key added to bn-repro since then is in
  // `config` at its default but not in the file, and rewriting it would orphan the checkpoints' digest.
  const resumedAt = [...((plan.runJson.resumedAt as string[]) ?? []), new Date().toISOString()];
  const runJson = { ...plan.runJson, config: plan.folder.savedConfig, digest: plan.folder.digest as string, resumedAt };
  return execute(runDir, runJson, config, plan.specs, plan.finished, backend, { ...opts, data, append: true, keepUpTo: plan.keepUpTo });
}
