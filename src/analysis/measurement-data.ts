/**
 * Reads ics.csv and landscape.csv (the Santurkar et al. 2018 measurements) back into typed rows,
 * for a run folder whose config had eval.landscape.every > 0.
 */
import type { ResolvedConfig } from '../config.js';
import { ICS_COLUMNS, ICS_CSV, LANDSCAPE_COLUMNS, LANDSCAPE_CSV } from '../run/measurement-csv.js';
import { cellValue, readCsvFile } from './run-data.js';

export interface IcsRow {
  arm: string;
  seed: number;
  step: number;
  layer: number;
  l2: number;
  cosine: number;
}

export interface LandscapeRow {
  arm: string;
  seed: number;
  step: number;
  lossMin: number;
  lossMax: number;
  gradChangeMax: number;
  betaSmoothness: number;
}

export interface Measurements {
  ics: IcsRow[];
  landscape: LandscapeRow[];
}

/** loss_min -> lossMin: the CSV columns become the row fields. */
const camel = (column: string) => column.replace(/_(\w)/g, (_, c: string) => c.toUpperCase());

/** Rows of `name` as objects with a field per column, numbers parsed (arm stays text). */
function rowsOf<T>(dir: string, name: string, columns: string[]): T[] {
  const csv = readCsvFile(dir, name, columns);
  return csv.rows.map((r) => Object.fromEntries(csv.header.map((h, i) => [camel(h), h === 'arm' ? r[i] : (cellValue(r[i]) ?? NaN)])) as T);
}

/** The measurements of a run folder, or undefined when its config did not take them. */
export function readMeasurements(dir: string, config: ResolvedConfig): Measurements | undefined {
  if (config.eval.landscape.every === 0) return undefined;
  return { ics: rowsOf<IcsRow>(dir, ICS_CSV, ICS_COLUMNS), landscape: rowsOf<LandscapeRow>(dir, LANDSCAPE_CSV, LANDSCAPE_COLUMNS) };
}
