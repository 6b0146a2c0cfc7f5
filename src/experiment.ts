/**
 * runExperiment(config, outDir) and resumeExperiment(runDir): the testable units behind
 * `bn-repro mnist`. Check the output folder, initialise the backend, load the data, train every
 * (arm, seed) run, and write accuracy.csv, activations.csv, run.json and checkpoints/.
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { initBackend, versions, type BackendInfo } from './backend.js';
import { checkpointRecorder } from './run/checkpoint-recorder.js';
import { dataIdentityOf, experimentDigest } from './run/digest.js';
import { type ResolvedConfig } from './config.js';
import { asUserError } from './errors.js';
import { runsOf, variantsOf } from './runs.js';
import { loadDataset } from './data/load.js';
import type { Logger } from './logger.js';
import { runAll, type RunSpec } from './run/parallel.js';
import { measurementCsvRecorder } from './run/measurement-csv.js';
import { csvRecorder, downloadProgress, progressRecorder } from './run/recorders.js';
import { fanOut, type Recorder, type RunSummary } from './run/records.js';
import { lockFolder } from './run/lock.js';
import { checkRowsAgree, checkSameData, planResume, trimCsvs } from './run/resume.js';
import { RUN_JSON, prepareRunDir, readRunJson, refuseUsedDir, writeJsonAtomic } from './run/run-folder.js';
import { shardOf, type Shard } from './run/shard.js';
import { tensorboardRecorder } from './run/tensorboard/recorder.js';

export interface ExperimentOptions {
  logger: Logger;
  /** Draw progress bars (stderr is a terminal). */
  tty: boolean;
  quiet: boolean;
  /** Extra recorder, e.g. in-memory for tests. */
  recorder?: Recorder;
  env?: NodeJS.ProcessEnv;
  /** Aborted on Ctrl-C / SIGTERM: runs checkpoint and return. */
  stop?: AbortSignal;
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
}

/** jobs = 0 means one worker per CPU core. */
export function jobsFor(config: ResolvedConfig): number {
  return config.jobs > 0 ? config.jobs : availableParallelism();
}

type RunJson = Record<string, unknown> & { config: ResolvedConfig };

async function execute(
  dir: string,
  runJson: RunJson,
  specs: RunSpec[],
  earlier: RunSummary[],
  backend: BackendInfo,
  opts: ExperimentOptions & { data: Awaited<ReturnType<typeof loadDataset>>; append: boolean; keepUpTo?: ReadonlyMap<string, number> },
): Promise<ExperimentResult> {
  // run.json and every checkpoint carry the digest of the config and data they were made with.
  const digest = experimentDigest(runJson.config, dataIdentityOf(runJson.data)!);
  runJson = { ...runJson, digest };
  const { config } = runJson;
  writeJsonAtomic(join(dir, RUN_JSON), { ...runJson, status: 'running' });
  // CSV writers come before the checkpoint writer: a checkpoint is saved only after its rows are on disk.
  const measurements = config.eval.landscape.every > 0 ? [measurementCsvRecorder(dir, opts.append)] : [];
  const recorders = [csvRecorder(dir, config.eval.percentiles, opts.append), ...measurements, checkpointRecorder(dir, config, digest), tensorboardRecorder(dir, config, opts.logger, opts.keepUpTo), progressRecorder(opts.logger, opts)];
  if (opts.recorder) recorders.push(opts.recorder);
  const recorder = fanOut(...recorders);
  const runs = [...earlier];
  let status = 'failed';
  let error: string | undefined;
  try {
    const plan = { config, data: opts.data, runs: specs, recorder, jobs: jobsFor(config), backend: backend.name, stop: opts.stop };
    runs.push(...(await runAll(plan)));
    const complete = runs.length === (runJson.planned as string[]).length && !runs.some((r) => r.interrupted);
    // A merge of some shards, resumed to its end, still lacks the runs of the shards not merged.
    const partial = runJson.mergedFrom !== undefined && runs.length < runsOf(config).length;
    status = !complete ? 'interrupted' : partial ? 'incomplete' : runs.some((r) => r.divergedAtStep !== undefined) ? 'diverged' : 'finished';
  } catch (err) {
    error = asUserError(err)?.message ?? `internal error: ${(err as Error).message}`;
    throw err;
  } finally {
    await recorder.close().catch(() => {}); // after a failure (a full disk) the first error is the one to report
    writeEndState(join(dir, RUN_JSON), {
      ...runJson,
      status,
      ...(error ? { error } : {}),
      endedAt: new Date().toISOString(),
      // Worker threads share this process, so this covers every run.
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
      runs,
    });
  }
  return { dir, backend, runs, interrupted: status === 'interrupted' };
}

/**
 * run.json at the end, saying how the command stopped. On a full disk the atomic write (a second
 * copy) can fail where overwriting the file in place, which frees its old blocks first, succeeds.
 */
function writeEndState(path: string, value: Record<string, unknown>): void {
  try {
    writeJsonAtomic(path, value);
  } catch {
    try {
      writeFileSync(path, `${JSON.stringify(value)}\n`);
    } catch {
      // nothing more can be written; the error itself is reported by the caller
    }
  }
}

export async function runExperiment(config: ResolvedConfig, outDir: string, opts: ExperimentOptions): Promise<ExperimentResult> {
  const { logger } = opts;
  refuseUsedDir(outDir); // before any slow work, so a typo costs nothing
  const backend = await initBackend(config.backend, logger);
  logger.info(`backend: ${backend.name} (${backend.package}, tfjs ${backend.tfjsVersion})`);
  const data = await loadDataset(config, { logger, env: opts.env, onDownloadProgress: downloadProgress(opts.tty && !opts.quiet) });
  logger.info(`data: ${data.source} MNIST, ${data.train.count} train / ${data.test.count} held-out, from ${data.origin} (${data.folder})`);
  const dir = prepareRunDir(outDir);
  const lock = lockFolder(dir);
  logger.info(`writing results to ${dir}`);
  const specs = shardOf(runsOf(config), opts.shard);
  const runJson: RunJson = {
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
  };
  try {
    return await execute(dir, runJson, specs, [], backend, { ...opts, data, append: false });
  } finally {
    lock.release();
  }
}

/** Continues every unfinished run of `runDir` from its last checkpoint (or from step 0). */
export async function resumeExperiment(runDir: string, opts: ExperimentOptions & { jobs?: number }): Promise<ExperimentResult> {
  readRunJson(runDir); // a folder that is not a run is refused before anything is written into it
  const lock = lockFolder(runDir);
  try {
    return await resumeLocked(runDir, opts);
  } finally {
    lock.release();
  }
}

async function resumeLocked(runDir: string, opts: ExperimentOptions & { jobs?: number }): Promise<ExperimentResult> {
  const { logger } = opts;
  const plan = planResume(runDir);
  checkRowsAgree(runDir, plan);
  const config = { ...plan.runJson.config, ...(opts.jobs !== undefined ? { jobs: opts.jobs } : {}) };
  const backend = await initBackend(config.backend, logger);
  if (backend.name !== (plan.runJson.backend as BackendInfo | undefined)?.name) {
    logger.warn(`this run started on ${(plan.runJson.backend as BackendInfo).name} and resumes on ${backend.name}: results may differ in the last digits.`);
  }
  if (plan.specs.length === 0) {
    logger.info(`every run in ${runDir} has already ended; nothing to resume.`);
    return { dir: runDir, backend, runs: plan.finished, interrupted: false };
  }
  const data = await loadDataset(config, { logger, env: opts.env });
  checkSameData(plan, { source: data.source, train: data.train.count, test: data.test.count });
  trimCsvs(runDir, plan);
  for (const s of plan.specs) logger.info(`resuming ${s.variant.name} seed ${s.seed} from step ${s.resume?.step ?? 0}`);
  const runJson = { ...plan.runJson, config, resumedAt: [...((plan.runJson.resumedAt as string[]) ?? []), new Date().toISOString()] };
  return execute(runDir, runJson, plan.specs, plan.finished, backend, { ...opts, data, append: true, keepUpTo: plan.keepUpTo });
}
