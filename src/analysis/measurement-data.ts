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

/** Rows of `name` as objects keyed by column, numbers parsed (arm stays text). */
function rowsOf(dir: string, name: string, columns: string[]): Record<string, string | number>[] {
  const csv = readCsvFile(dir, name, columns);
  return csv.rows.map((r) => Object.fromEntries(csv.header.map((h, i) => [h, h === 'arm' ? r[i] : (cellValue(r[i]) ?? NaN)])));
}

/** The measurements of a run folder, or undefined when its config did not take them. */
export function readMeasurements(dir: string, config: ResolvedConfig): Measurements | undefined {
  if (config.eval.landscape.every === 0) return undefined;
  const ics = rowsOf(dir, ICS_CSV, ICS_COLUMNS).map((r) => ({
    arm: r.arm as string,
    seed: r.seed as number,
    step: r.step as number,
    layer: r.layer as number,
    l2: r.l2 as number,
    cosine: r.cosine as number,
  }));
  const landscape = rowsOf(dir, LANDSCAPE_CSV, LANDSCAPE_COLUMNS).map((r) => ({
    arm: r.arm as string,
    seed: r.seed as number,
    step: r.step as number,
    lossMin: r.loss_min as number,
    lossMax: r.loss_max as number,
    gradChangeMax: r.grad_change_max as number,
    betaSmoothness: r.beta_smoothness as number,
  }));
  return { ics, landscape };
}
