/**
 * ics.csv and landscape.csv (the Santurkar et al. 2018 measurements) as typed rows, for a run
 * folder whose config had eval.landscape.every > 0; the rows were checked when the folder was read.
 */
import { ICS_CSV, LANDSCAPE_CSV } from '../run/measurement-csv.js';
import { cellValue, type RunData } from './run-data.js';

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
function rowsOf<T>(data: RunData, name: string): T[] {
  const csv = data.csvs?.get(name);
  if (!csv) return [];
  return csv.rows.map((r) => Object.fromEntries(csv.header.map((h, i) => [camel(h), h === 'arm' ? r[i] : (cellValue(r[i]) ?? NaN)])) as T);
}

/** The measurements of a run folder, or undefined when its config did not take them. */
export function readMeasurements(data: RunData): Measurements | undefined {
  if (data.config.eval.landscape.every === 0) return undefined;
  return { ics: rowsOf<IcsRow>(data, ICS_CSV), landscape: rowsOf<LandscapeRow>(data, LANDSCAPE_CSV) };
}
