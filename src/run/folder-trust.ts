/**
 * A run folder is trusted only as written. Before --resume, report, plot or merge use anything,
 * its parts must agree: run.json's digest with its own config and data, every checkpoint's digest
 * with run.json's, run.json's seeds, arms and planned runs with its config (and shard), its run
 * summaries with the checkpoints of the runs that ended, and every CSV row with the checkpoints
 * (the `last` evaluation each holds, and the digests of the rows written when it was saved).
 * Any disagreement is one sentence naming the two parts; nothing is modified.
 *
 * Folders written before digests existed ("legacy": run.json has no digest) are still read by
 * report, plot and merge, row by row, with a warning; --resume refuses them (resume.ts), because
 * without a digest nothing shows that the checkpoints were made with the config it would use.
 */
import { join } from 'node:path';
import type { ResolvedConfig } from '../config/config.js';
import { UserError } from '../core/errors.js';
import { runsOf, variantsOf } from '../config/runs.js';
import { checkpointPath, isEnded, readCheckpoints, type SavedRun } from './checkpoint.js';
import { readFolderCsv, type CheckedCsv, type RunRowsExpected } from './csv-reader.js';
import { canonicalJson, dataIdentityOf, experimentDigest, rowsDigest } from './digest.js';
import { folderCsvs } from './folder-files.js';
import { cell, ACCURACY_CSV } from './recorders.js';
import type { RunSummary } from '../training/records.js';
import { RUN_JSON, readRunJson } from './run-folder.js';
import { shardOf } from './shard.js';
import type { RunJson } from './schemas.js';

export interface TrustedFolder {
  dir: string;
  runJson: RunJson;
  config: ResolvedConfig;
  /** The config as run.json holds it (readRunJson): what its digest covers. */
  savedConfig: Record<string, unknown>;
  /** undefined: a legacy folder, written before run folders carried a digest. */
  digest?: string;
  /** The runs ("arm/seed") this folder holds, in the experiment's order. */
  planned: string[];
  checkpoints: Map<string, SavedRun>;
}

const list = (v: unknown[]) => JSON.stringify(v);

/** run.json and the checkpoints, checked against each other (see the file comment). */
export function readTrustedFolder(dir: string): TrustedFolder {
  const path = join(dir, RUN_JSON);
  const { runJson, config, savedConfig } = readRunJson(dir);
  const digest = runJson.digest;
  if (digest !== undefined) {
    const data = dataIdentityOf(runJson.data);
    if (!data) throw new UserError(`${path} is damaged: it has a digest but no "data" record of what it trained on.`);
    if (experimentDigest(savedConfig, data) !== digest)
      throw new UserError(`${path} is damaged: its digest does not match its own config and data (edited after the run was written).`);
  }
  if (list(runJson.seeds) !== list(config.seeds))
    throw new UserError(`${path} is damaged: its seeds ${list(runJson.seeds)} are not its config's seeds ${list(config.seeds)}.`);
  const arms = variantsOf(config).map((v) => v.name);
  if (runJson.arms !== undefined && list(runJson.arms) !== list(arms))
    throw new UserError(`${path} is damaged: its arms ${list(runJson.arms)} are not the networks its config trains ${list(arms)}.`);
  const planned = plannedRuns(path, runJson, config);
  const checkpoints = readCheckpoints(dir);
  for (const [key, ckpt] of checkpoints) {
    const file = checkpointPath(dir, ckpt.arm, ckpt.seed);
    if (!planned.includes(key)) throw new UserError(`${file} holds ${ckpt.arm} seed ${ckpt.seed}, a run ${path} does not hold; the run folder is damaged.`);
    if (ckpt.digest !== digest) {
      throw new UserError(
        digest === undefined || ckpt.digest === undefined
          ? `${digest === undefined ? file : path} carries a digest and ${digest === undefined ? path : file} does not; the run folder is damaged.`
          : `${file} was made with another config or data than ${path} (their digests differ); the run folder is damaged.`,
      );
    }
  }
  checkSummaries(dir, runJson.runs ?? [], planned, checkpoints, digest !== undefined);
  return { dir, runJson, config, savedConfig, digest, planned, checkpoints };
}

/** The runs run.json plans: its config's runs, or its shard's; a merge of some shards holds a subset. */
function plannedRuns(path: string, runJson: RunJson, config: ResolvedConfig): string[] {
  const all = runsOf(config).map((r) => `${r.variant.name}/${r.seed}`);
  const selected = runJson.shard ? shardOf(all, runJson.shard) : all;
  const planned = runJson.planned ?? selected;
  const exact = runJson.mergedFrom === undefined;
  const fits = exact ? list(planned) === list(selected) : new Set(planned).size === planned.length && planned.every((k) => all.includes(k));
  if (!fits)
    throw new UserError(
      `${path} is damaged: its planned runs ${list(planned)} are not the runs its config${runJson.shard ? ' and shard select' : ' selects'}${exact ? '' : ' (each once)'}, ${list(selected)}.`,
    );
  return planned;
}

/** run.json's summary of each ended run equals the one its checkpoint keeps; no run twice. */
function checkSummaries(dir: string, runs: RunSummary[], planned: string[], checkpoints: Map<string, SavedRun>, digested: boolean): void {
  const path = join(dir, RUN_JSON);
  const seen = new Set<string>();
  for (const s of runs) {
    const key = `${s.arm}/${s.seed}`;
    if (!planned.includes(key) || seen.has(key))
      throw new UserError(
        `${path} is damaged: its "runs" list ${seen.has(key) ? 'repeats' : 'holds'} ${s.arm} seed ${s.seed}${seen.has(key) ? '' : ', a run it does not plan'}.`,
      );
    seen.add(key);
    const ckpt = checkpoints.get(key);
    // Early versions kept no summary checkpoint: a legacy folder's summaries are compared where there is one.
    if (s.interrupted || (!digested && !ckpt)) continue;
    if (!ckpt || !isEnded(ckpt) || canonicalJson(ckpt.summary) !== canonicalJson(JSON.parse(JSON.stringify(s)))) {
      throw new UserError(
        `${path} is damaged: its summary of ${s.arm} seed ${s.seed} differs from ${checkpointPath(dir, s.arm, s.seed)}${ckpt ? '' : ' (which is missing)'}.`,
      );
    }
  }
}

/** The rows each planned run must have on disk, by its checkpoint: all of an ended run's, or those up to its checkpoint. */
export function expectedRows(folder: TrustedFolder): Map<string, RunRowsExpected> {
  const out = new Map<string, RunRowsExpected>();
  for (const key of folder.planned) {
    const ckpt = folder.checkpoints.get(key);
    if (ckpt && isEnded(ckpt)) {
      const end = ckpt.summary.divergedAtStep ?? ckpt.summary.steps;
      out.set(key, { upTo: end, ended: true, divergedAt: ckpt.summary.divergedAtStep });
    } else out.set(key, { upTo: ckpt && 'step' in ckpt ? ckpt.step : -1, ended: false });
  }
  return out;
}

/** Every CSV of the folder, read and checked row by row (csv-reader.ts), then against the checkpoints. */
export function readTrustedCsvs(folder: TrustedFolder, resuming: boolean): Map<string, CheckedCsv> {
  const runs = expectedRows(folder);
  const ctx = { dir: folder.dir, config: folder.config, arms: variantsOf(folder.config).map((v) => v.name), seeds: folder.config.seeds, runs, resuming };
  const csvs = new Map<string, CheckedCsv>();
  for (const file of folderCsvs(folder.config)) {
    const csv = readFolderCsv(file, ctx);
    if (csv) csvs.set(file.name, csv);
  }
  for (const [key, ckpt] of folder.checkpoints) checkRowsOfCheckpoint(folder, key, ckpt, runs.get(key)!.upTo, csvs);
  return csvs;
}

/** The rows of one saved run agree with what it recorded: its last evaluation, its row digests. */
function checkRowsOfCheckpoint(folder: TrustedFolder, key: string, ckpt: SavedRun, upTo: number, csvs: Map<string, CheckedCsv>): void {
  const file = checkpointPath(folder.dir, ckpt.arm, ckpt.seed);
  const accuracy = csvs.get(ACCURACY_CSV);
  const last = isEnded(ckpt) ? undefined : ckpt.last;
  if (last && accuracy) {
    const row = accuracy.linesByRun.get(key)?.find((l) => l.step === last.step)?.line;
    const want = [last.arm, last.seed, last.step, cell(last.trainLoss), cell(last.testLoss), cell(last.testAccuracy), last.elapsedS.toFixed(3)].join(',');
    if (row !== want)
      throw new UserError(
        `${file} records the evaluation of step ${last.step} as "${want}", but ${accuracy.path} holds "${row ?? 'no row'}"; the two are not from one run.`,
      );
  }
  for (const [name, digest] of Object.entries(ckpt.rows ?? {})) {
    const csv = csvs.get(name);
    const lines = (csv?.linesByRun.get(key) ?? []).filter((l) => l.step <= upTo).map((l) => l.line);
    if (rowsDigest(lines) !== digest)
      throw new UserError(
        `${join(folder.dir, name)}'s rows of ${ckpt.arm} seed ${ckpt.seed} are not those ${file} recorded when it was saved (edited, deleted or replaced since); the run folder is damaged.`,
      );
  }
}
