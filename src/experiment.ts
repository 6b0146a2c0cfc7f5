/**
 * runExperiment(config, outDir): the testable unit behind `bn-repro mnist`. Checks the output
 * folder, initialises the backend, loads the data, then trains every arm of the configured seed
 * and writes accuracy.csv, activations.csv and run.json into the run folder.
 */
import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { initBackend, versions, type BackendInfo } from './backend.js';
import { armsOf, type ResolvedConfig } from './config.js';
import { loadDataset } from './data/load.js';
import { UserError } from './errors.js';
import type { Logger } from './logger.js';
import { csvRecorder, progressRecorder } from './recorders.js';
import { fanOut, type Recorder, type RunSummary } from './records.js';
import { RUN_JSON, prepareRunDir, writeJsonAtomic } from './run-folder.js';
import { runAll } from './parallel.js';

export interface ExperimentOptions {
  logger: Logger;
  /** Draw progress bars (stderr is a terminal). */
  tty: boolean;
  quiet: boolean;
  /** Extra recorder, e.g. in-memory for tests. */
  recorder?: Recorder;
  env?: NodeJS.ProcessEnv;
}

export interface ExperimentResult {
  dir: string;
  backend: BackendInfo;
  runs: RunSummary[];
}

/** jobs = 0 means one worker per CPU core. */
export function jobsFor(config: ResolvedConfig): number {
  return config.jobs > 0 ? config.jobs : availableParallelism();
}

function refuseExistingResults(outDir: string): void {
  if (existsSync(outDir) && readdirSync(outDir).length > 0) {
    throw new UserError(`${outDir} already holds files; choose another --out so no results are overwritten.`);
  }
}

export async function runExperiment(config: ResolvedConfig, outDir: string, opts: ExperimentOptions): Promise<ExperimentResult> {
  const { logger } = opts;
  refuseExistingResults(outDir); // before any slow work, so a typo costs nothing
  const backend = await initBackend(config.backend, logger);
  logger.info(`backend: ${backend.name} (${backend.package}, tfjs ${backend.tfjsVersion})`);
  const data = await loadDataset(config, { logger, env: opts.env });
  logger.info(`data: ${data.source} MNIST from ${data.origin}: ${data.train.count} train, ${data.test.count} held-out`);
  const dir = prepareRunDir(outDir);
  logger.info(`writing results to ${dir}`);

  const startedAt = new Date().toISOString();
  const runJson = {
    status: 'running',
    paper: 'Ioffe & Szegedy (2015), Batch Normalization, Sec. 4.1, Figure 1',
    config,
    seeds: [config.seed],
    arms: armsOf(config.bn),
    backend,
    jobs: jobsFor(config),
    versions: versions(),
    data: { source: data.source, origin: data.origin, train: data.train.count, test: data.test.count },
    startedAt,
  };
  writeJsonAtomic(join(dir, RUN_JSON), runJson);

  const recorders = [csvRecorder(dir, config.eval.percentiles), progressRecorder(logger, opts)];
  if (opts.recorder) recorders.push(opts.recorder);
  const recorder = fanOut(...recorders);
  const runs: RunSummary[] = [];
  let status = 'failed';
  try {
    const plan = armsOf(config.bn).map((arm) => ({ arm, seed: config.seed }));
    runs.push(...(await runAll({ config, data, runs: plan, recorder, jobs: jobsFor(config), backend: backend.name })));
    status = runs.some((r) => r.divergedAtStep !== undefined) ? 'diverged' : 'finished';
  } finally {
    await recorder.close();
    writeJsonAtomic(join(dir, RUN_JSON), {
      ...runJson,
      status,
      endedAt: new Date().toISOString(),
      // Worker threads share this process, so this covers every run.
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
      runs,
    });
  }
  return { dir, backend, runs };
}
