/**
 * A run folder read back as typed rows, for report, plot, the sweep table and merge: run.json and
 * the checkpoints checked against each other, every CSV row checked (folder-trust.ts), rows
 * ordered by the experiment's run order, then step, then unit, whatever their order on disk.
 */
import type { ResolvedConfig } from '../config/config.js';
import { UserError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { runsOf, variantsOf } from '../config/runs.js';
import type { CheckedCsv } from './csv-reader.js';
import { folderCsvs } from './folder-files.js';
import { readTrustedCsvs, readTrustedFolder, type TrustedFolder } from './folder-trust.js';
import type { RunJson } from './schemas.js';
import { ACCURACY_CSV, ACTIVATIONS_CSV } from './recorders.js';

export interface AccuracyRow {
  arm: string;
  seed: number;
  step: number;
  trainLoss: number | null;
  testLoss: number;
  testAccuracy: number;
}

export interface ActivationRow {
  arm: string;
  seed: number;
  step: number;
  unit: number;
  /** Percentile (e.g. 15) -> value. */
  p: Map<number, number>;
}

export interface RunData {
  dir: string;
  /** The folder's run.json (Partial: analysis reads only some keys, and test fixtures hold only those). */
  runJson: Partial<RunJson>;
  config: ResolvedConfig;
  /** The config as run.json holds it (what its digest covers); test fixtures may leave it out. */
  savedConfig?: Record<string, unknown>;
  /** undefined: a folder written before run folders carried a digest. */
  digest?: string;
  /** The runs ("arm/seed") the folder holds (a shard or merge: some of its config's). */
  planned?: string[];
  /** Variant names in the experiment's order. */
  arms: string[];
  seeds: number[];
  accuracy: AccuracyRow[];
  activations: ActivationRow[];
  /** Every CSV of the folder as checked, rows in the order above (measurement-data.ts reads ics/landscape). */
  csvs?: Map<string, CheckedCsv>;
}

/** A CSV cell back to a number: '' -> null, nan/inf as written by the recorder. */
export function cellValue(text: string): number | null {
  if (text === '') return null;
  if (text === 'nan') return NaN;
  if (text === 'inf') return Infinity;
  if (text === '-inf') return -Infinity;
  return Number(text);
}

/** Sorts checked rows by (run order, step, sub-key order of the file) in place. */
function sortRows(csv: CheckedCsv, order: Map<string, number>, subKeysOf: (arm: string) => string[], subAt: number[]): void {
  const [arm, seed, step] = ['arm', 'seed', 'step'].map((c) => csv.header.indexOf(c));
  const rank = (r: string[]) => [order.get(`${r[arm]}/${r[seed]}`)!, Number(r[step]), subKeysOf(r[arm]).indexOf(subAt.map((j) => r[j]).join('/'))];
  csv.rows.sort((a, b) => {
    const [x, y] = [rank(a), rank(b)];
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
  });
}

/** Reads and checks a run folder (whatever its status; merge also takes interrupted shards). */
export function readRunData(dir: string): RunData {
  return dataOf(readTrustedFolder(dir));
}

/** `live`: the folder may be being written, so a cut last line (a row being written) is left out. */
function dataOf(folder: TrustedFolder, live = false): RunData {
  const { dir, config, runJson } = folder;
  const csvs = readTrustedCsvs(folder, live);
  const order = new Map(runsOf(config).map((r, i) => [`${r.variant.name}/${r.seed}`, i]));
  for (const file of folderCsvs(config)) {
    const csv = csvs.get(file.name);
    if (csv)
      sortRows(
        csv,
        order,
        file.subKeysOf,
        file.subKeyColumns.map((c) => csv.header.indexOf(c)),
      );
  }
  const acc = csvs.get(ACCURACY_CSV);
  const col = (csv: CheckedCsv | undefined, name: string) => csv?.header.indexOf(name) ?? -1;
  const [a, s, st, tl, tel, ta] = ['arm', 'seed', 'step', 'train_loss', 'test_loss', 'test_accuracy'].map((c) => col(acc, c));
  const accuracy = (acc?.rows ?? []).map((r) => ({
    arm: r[a],
    seed: Number(r[s]),
    step: Number(r[st]),
    trainLoss: cellValue(r[tl]),
    testLoss: cellValue(r[tel])!,
    testAccuracy: cellValue(r[ta])!,
  }));
  const act = csvs.get(ACTIVATIONS_CSV);
  const pcols = (act?.header ?? []).map((h, i) => [h, i] as const).filter(([h]) => /^p\d/.test(h));
  const [aa, as, ast, au] = ['arm', 'seed', 'step', 'unit'].map((c) => col(act, c));
  const activations = (act?.rows ?? []).map((r) => ({
    arm: r[aa],
    seed: Number(r[as]),
    step: Number(r[ast]),
    unit: Number(r[au]),
    p: new Map(pcols.map(([h, i]) => [Number(h.slice(1)), cellValue(r[i])!])),
  }));
  const seeds = [...new Set(accuracy.map((r) => r.seed))].sort((x, y) => x - y);
  return {
    dir,
    runJson,
    config,
    savedConfig: folder.savedConfig,
    digest: folder.digest,
    planned: folder.planned,
    arms: variantsOf(config).map((v) => v.name),
    seeds,
    accuracy,
    activations,
    csvs,
  };
}

/**
 * A run folder's data, for readers that draw conclusions from it (report, plot): refused when its
 * runs have not all ended. (Callers hold the folder's lock, so no writer is at work.) A legacy
 * folder (no digest) is read with one warning.
 */
export function readEndedRun(dir: string, logger?: Logger): RunData {
  const folder = readTrustedFolder(dir);
  const status = folder.runJson.status;
  if (status === 'incomplete') {
    const have = new Set(folder.planned);
    const missing = runsOf(folder.config)
      .map((r) => `${r.variant.name}/${r.seed}`)
      .filter((k) => !have.has(k));
    const lacks =
      missing.length > 0
        ? `lacks the runs ${missing.join(', ')}: merge it with the folders that hold them`
        : `holds unfinished runs: continue it with bn-repro mnist --resume ${dir}`;
    throw new UserError(`${dir} is unfinished (status "incomplete"): it ${lacks}.`);
  }
  if (status !== 'finished' && status !== 'diverged') {
    throw new UserError(`${dir} is unfinished (status "${status}"): continue it with bn-repro mnist --resume ${dir}.`);
  }
  const ended = new Set((folder.runJson.runs ?? []).filter((r) => !r.interrupted).map((r) => `${r.arm}/${r.seed}`));
  const notEnded = folder.planned.filter((k) => !ended.has(k));
  if (notEnded.length > 0) throw new UserError(`${dir}/run.json is damaged: its status is "${status}", but it has no summary of ${notEnded.join(', ')}.`);
  const data = dataOf(folder);
  if (data.accuracy.length === 0) throw new UserError(`${dir} holds no results (its accuracy.csv has no rows).`);
  if (data.digest === undefined)
    logger?.warn(`${dir} was written by an earlier bn-repro without a config digest: its rows are checked, but not against the config they were made with.`);
  return data;
}

/**
 * What a folder holds so far, whatever its status (plot and report --partial): every row is
 * checked as for --resume, and a row being written right now is left out. Callers mark what they
 * draw from it as unfinished.
 */
export function readPartialRun(dir: string): RunData {
  const data = dataOf(readTrustedFolder(dir), true);
  if (data.accuracy.length === 0) throw new UserError(`${dir} holds no results yet (its accuracy.csv has no rows); try again after the first evaluation.`);
  return data;
}
