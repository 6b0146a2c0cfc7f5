/**
 * Reads a run folder back (run.json, accuracy.csv, activations.csv) into typed rows for the
 * plot, report, sweep-table and merge verbs. A folder that is not a run is a user error.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig } from '../config.js';
import { UserError } from '../errors.js';
import type { RunSummary } from '../run/records.js';
import { ACCURACY_COLUMNS, ACCURACY_CSV, ACTIVATIONS_CSV, activationColumns } from '../run/recorders.js';
import { checkHeader } from '../run/schemas.js';
import { readRunJson } from '../run/run-folder.js';

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
  runJson: Record<string, unknown> & { runs?: RunSummary[]; planned?: string[] };
  config: ResolvedConfig;
  /** Variant names in the experiment's order. */
  arms: string[];
  seeds: number[];
  accuracy: AccuracyRow[];
  activations: ActivationRow[];
}

/**
 * Parses a CSV of our own writing: a header line, then rows of plain comma-separated cells, each
 * line ending in a newline. A cut last line, a row of the wrong width or a non-numeric cell where
 * a number belongs is a damaged file, named with its line.
 */
export function parseCsv(text: string, path = 'the CSV file'): { header: string[]; rows: string[][] } {
  const lines = text.split('\n');
  if (lines.pop() !== '') throw new UserError(`${path} is damaged: its last line is cut off (a run still writing, or a crash); resume or re-run it.`);
  const header = (lines[0] ?? '').split(',');
  const rows = lines.slice(1).map((line, i) => {
    const cells = line.split(',');
    if (cells.length !== header.length) throw new UserError(`${path} is damaged: line ${i + 2} has ${cells.length} cells, the header ${header.length}.`);
    cells.forEach((c, j) => {
      // Every column but `arm` holds numbers: '' (no value yet) and nan/inf as the recorder writes them.
      if (header[j] !== 'arm' && c !== 'nan' && Number.isNaN(cellValue(c) ?? 0)) {
        throw new UserError(`${path} is damaged: line ${i + 2}, column ${header[j]} holds "${c}", not a number.`);
      }
    });
    return cells;
  });
  return { header, rows };
}

/** A CSV cell back to a number: '' -> null, nan/inf as written by the recorder. */
export function cellValue(text: string): number | null {
  if (text === '') return null;
  if (text === 'nan') return NaN;
  if (text === 'inf') return Infinity;
  if (text === '-inf') return -Infinity;
  return Number(text);
}

export function readCsvFile(dir: string, name: string, columns: string[]): { header: string[]; rows: string[][] } {
  const path = join(dir, name);
  if (!existsSync(path)) throw new UserError(`${dir} has no ${name}; is it a finished bn-repro run folder?`);
  const csv = parseCsv(readFileSync(path, 'utf8'), path);
  checkHeader(path, csv.header, columns);
  return csv;
}

/**
 * A run folder's data, for readers that draw conclusions from it (report, plot): refused when its
 * runs have not all ended. (Callers hold the folder's lock, so no writer is at work.)
 */
export function readEndedRun(dir: string): RunData {
  const data = readRunData(dir);
  const status = data.runJson.status as string;
  if (status !== 'finished' && status !== 'diverged') {
    throw new UserError(`${dir} is unfinished (status "${status}"): continue it with bn-repro mnist --resume ${dir}${status === 'incomplete' ? ', or merge the missing shards' : ''}.`);
  }
  if (data.accuracy.length === 0) throw new UserError(`${dir} holds no results (its accuracy.csv has no rows).`);
  return data;
}

export function readRunData(dir: string): RunData {
  const { runJson, config } = readRunJson(dir) as { runJson: RunData['runJson']; config: ResolvedConfig };
  const acc = readCsvFile(dir, ACCURACY_CSV, ACCURACY_COLUMNS);
  const col = (header: string[], name: string) => header.indexOf(name);
  const [a, s, st, tl, tel, ta] = ['arm', 'seed', 'step', 'train_loss', 'test_loss', 'test_accuracy'].map((c) => col(acc.header, c));
  const accuracy = acc.rows.map((r) => ({
    arm: r[a],
    seed: Number(r[s]),
    step: Number(r[st]),
    trainLoss: cellValue(r[tl]),
    testLoss: cellValue(r[tel]) ?? NaN,
    testAccuracy: cellValue(r[ta]) ?? NaN,
  }));
  const act = readCsvFile(dir, ACTIVATIONS_CSV, activationColumns(config.eval.percentiles));
  const pcols = act.header.map((h, i) => [h, i] as const).filter(([h]) => /^p\d/.test(h));
  const [aa, as, ast, au] = ['arm', 'seed', 'step', 'unit'].map((c) => col(act.header, c));
  const activations = act.rows.map((r) => ({
    arm: r[aa],
    seed: Number(r[as]),
    step: Number(r[ast]),
    unit: Number(r[au]),
    p: new Map(pcols.map(([h, i]) => [Number(h.slice(1)), cellValue(r[i]) ?? NaN])),
  }));
  const arms = (runJson.arms as string[] | undefined) ?? [...new Set(accuracy.map((r) => r.arm))];
  const seeds = [...new Set(accuracy.map((r) => r.seed))].sort((x, y) => x - y);
  return { dir, runJson, config, arms, seeds, accuracy, activations };
}
