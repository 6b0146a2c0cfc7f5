/**
 * Reads a run folder back (run.json, accuracy.csv, activations.csv) into typed rows for the
 * plot, report, sweep-table and merge verbs. A folder that is not a run is a user error.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig } from '../config.js';
import { UserError } from '../errors.js';
import type { RunSummary } from '../run/records.js';
import { ACCURACY_CSV, ACTIVATIONS_CSV } from '../run/recorders.js';
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

/** Parses a CSV of our own writing: a header line, then rows of plain comma-separated cells. */
export function parseCsv(text: string): { header: string[]; rows: string[][] } {
  const lines = text.split('\n').filter((l) => l !== '');
  return { header: (lines[0] ?? '').split(','), rows: lines.slice(1).map((l) => l.split(',')) };
}

/** A CSV cell back to a number: '' -> null, nan/inf as written by the recorder. */
export function cellValue(text: string): number | null {
  if (text === '') return null;
  if (text === 'nan') return NaN;
  if (text === 'inf') return Infinity;
  if (text === '-inf') return -Infinity;
  return Number(text);
}

function readCsvFile(dir: string, name: string): { header: string[]; rows: string[][] } {
  const path = join(dir, name);
  if (!existsSync(path)) throw new UserError(`${dir} has no ${name}; is it a finished bn-repro run folder?`);
  return parseCsv(readFileSync(path, 'utf8'));
}

export function readRunData(dir: string): RunData {
  const { runJson, config } = readRunJson(dir) as { runJson: RunData['runJson']; config: ResolvedConfig };
  const acc = readCsvFile(dir, ACCURACY_CSV);
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
  const act = readCsvFile(dir, ACTIVATIONS_CSV);
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
