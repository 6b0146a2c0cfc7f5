/**
 * runExperiment(config, outDir) and resumeExperiment(runDir): the testable units behind
 * `bn-repro mnist`. Check the output folder, initialise the backend, load the data, train every
 * (arm, seed) run, and write accuracy.csv, activations.csv, run.json and checkpoints/. This file
 * makes or checks the folder and plans the runs; run/train-folder.ts trains them into it.
 */
import { join } from 'node:path';
import { initBackend, versions } from './engines/backend.js';
import { dataIdentityOf, experimentDigest } from './run/digest.js';
import type { ResolvedConfig } from './config/config.js';
import { UserError } from './core/errors.js';
import { runsOf, variantsOf } from './config/runs.js';
import { loadDataset } from './data/load.js';
import { folderCsvs } from './run/folder-files.js';
import { createRunFolder } from './run/new-run-folder.js';
import { csvHeaderLine, downloadProgress } from './run/recorders.js';
import { deviceResidentFor } from './config/device-resident-rule.js';
import { lockstepFor } from './config/lockstep-rule.js';
import { lockFolder } from './run/lock.js';
import { checkRowsAgree, checkSameData, planResume, trimCsvs } from './run/resume.js';
import { checkResumedLockstep, resumedConfig, type ResumeOverrides } from './run/resume-overrides.js';
import { RUN_JSON, readRunJson, refuseUsedDir } from './run/run-folder.js';
import { runningText } from './run/run-state.js';
import { shardOf } from './run/shard.js';
import { jobsFor, resumeHint, trainIntoFolder, type ExperimentOptions, type ExperimentResult, type RunJsonDraft } from './run/train-folder.js';

// The options, result and helpers of `bn-repro mnist` live with the training of a folder (run/train-folder.ts).
export { jobsFor, resumeHint, type ExperimentOptions, type ExperimentResult } from './run/train-folder.js';
export type { ResumeOverrides } from './run/resume-overrides.js';

/** run.json and every checkpoint carry the digest of the config and data they were made with. */
const withDigest = (runJson: Record<string, unknown> & { config: ResolvedConfig }): RunJsonDraft => ({
  ...runJson,
  digest: experimentDigest(runJson.config, dataIdentityOf(runJson.data)!),
});

export async function runExperiment(config: ResolvedConfig, outDir: string, opts: ExperimentOptions): Promise<ExperimentResult> {
  const { logger } = opts;
  refuseUsedDir(outDir); // before any slow work, so a typo costs nothing
  // Until the folder exists a signal exits at once: nothing is lost, and a download is not waited for.
  const unnote = opts.signals?.noteOnExit('no run folder was created');
  const backend = await initBackend(config.backend, logger, undefined, config.model.kind);
  lockstepFor(config, backend.name, 0); // `--lockstep on` on the tfjs backend `auto` chose is refused before any folder exists
  deviceResidentFor(config, backend.name); // so is `deviceResident: on` where `auto` chose a backend without it
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
    return await trainIntoFolder(dir, runJson, config, specs, [], backend, { ...opts, data, append: false });
  } finally {
    lock.release();
  }
}

/** Continues every unfinished run of `runDir` from its last checkpoint (or from step 0). */
export async function resumeExperiment(runDir: string, opts: ExperimentOptions & ResumeOverrides): Promise<ExperimentResult> {
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

async function resumeLocked(runDir: string, opts: ExperimentOptions & ResumeOverrides): Promise<ExperimentResult> {
  const { logger } = opts;
  const plan = planResume(runDir);
  // bn-repro writes "planned" into every folder with a digest; without it a merge's subset cannot be told from the whole.
  if (plan.runJson.planned === undefined)
    throw new UserError(`${join(runDir, RUN_JSON)} is damaged: it has no "planned" list of the runs it holds, so --resume cannot tell which runs to continue.`);
  checkRowsAgree(runDir, plan);
  const config = resumedConfig(plan.runJson.config, opts);
  const backend = await initBackend(config.backend, logger, undefined, config.model.kind);
  checkResumedLockstep(config, backend.name, opts);
  deviceResidentFor(config, backend.name);
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
  return trainIntoFolder(runDir, runJson, config, plan.specs, plan.finished, backend, { ...opts, data, append: true, keepUpTo: plan.keepUpTo });
}
