/**
 * The CSV files of a run folder, as one table: each file's columns, the columns that key a row
 * (arm, seed, step and, per file, layer or unit), the sub-keys every evaluation writes, when rows
 * are written, and the range each value column must lie in. The reader (csv-reader.ts), resume's
 * trimming and the row digests of checkpoints all go by this table.
 */
import type { Arm, ResolvedConfig } from '../config/config.js';
import { hiddenUnitsOfArm } from '../config/runs.js';
import { measuresAt } from '../config/schedule.js';
import { weightLayersOf } from '../model/weight-layers.js';
import { ICS_COLUMNS, ICS_CSV, LANDSCAPE_COLUMNS, LANDSCAPE_CSV } from './measurement-csv.js';
import { ACCURACY_COLUMNS, ACCURACY_CSV, ACTIVATIONS_CSV, activationColumns } from './recorders.js';

/** What a value column may hold (outside a recorded divergence, where nan and inf are allowed too). */
export type ValueRange = 'probability' | 'nonNegative' | 'finite' | 'cosine' | 'seconds';

export interface FolderCsv {
  name: string;
  columns: string[];
  /** Key columns after arm, seed and step ([] when one row per evaluation). */
  subKeyColumns: string[];
  /** The sub-key values ("layer/unit", joined by "/") each evaluation of network `arm` writes a row for. */
  subKeysOf: (arm: Arm) => string[];
  /** Whether the evaluation at `step` writes rows to this file. */
  writtenAt: (step: number) => boolean;
  /** Range of each value column (every column that is not a key). */
  ranges: Record<string, ValueRange>;
}

/** Float32 rounding lets a cosine pass 1 by a hair; more than this is not a cosine. */
export const COSINE_SLACK = 1e-6;

const always = () => true;

/** The CSV files a run folder of `config` holds, in the order they are written. */
export function folderCsvs(config: ResolvedConfig): FolderCsv[] {
  // Networks of a depth sweep differ in depth: each run's layer indices are its own network's.
  const depth = (arm: Arm) => hiddenUnitsOfArm(config, arm).length;
  const one = () => [''];
  const activations = activationColumns(config.eval.percentiles);
  const percentileRanges = Object.fromEntries(activations.filter((c) => /^p\d/.test(c)).map((c) => [c, 'finite' as const]));
  const files: FolderCsv[] = [
    {
      name: ACCURACY_CSV,
      columns: ACCURACY_COLUMNS,
      subKeyColumns: [],
      subKeysOf: one,
      writtenAt: always,
      ranges: { train_loss: 'nonNegative', test_loss: 'nonNegative', test_accuracy: 'probability', elapsed_s: 'seconds' },
    },
    {
      name: ACTIVATIONS_CSV,
      columns: activations,
      subKeyColumns: ['layer', 'unit'],
      subKeysOf: (arm) => config.eval.units.map((u) => `${depth(arm) - 1}/${u}`),
      writtenAt: always,
      ranges: { ...percentileRanges, mean: 'finite', std: 'nonNegative' },
    },
  ];
  if (config.eval.landscape.every === 0) return files;
  const measured = (step: number) => measuresAt(config, step);
  return [
    ...files,
    {
      name: ICS_CSV,
      columns: ICS_COLUMNS,
      subKeyColumns: ['layer'],
      // One row per weight layer (the CNN's conv stages first), numbered as weight-layers.ts defines.
      subKeysOf: (arm) => weightLayersOf(config, hiddenUnitsOfArm(config, arm)).map((_, i) => `${i}`),
      writtenAt: measured,
      ranges: { l2: 'nonNegative', cosine: 'cosine' },
    },
    {
      name: LANDSCAPE_CSV,
      columns: LANDSCAPE_COLUMNS,
      subKeyColumns: [],
      subKeysOf: one,
      writtenAt: measured,
      ranges: { loss_min: 'nonNegative', loss_max: 'nonNegative', grad_change_max: 'nonNegative', beta_smoothness: 'nonNegative' },
    },
  ];
}
