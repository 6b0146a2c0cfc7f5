/** Every CSV a run folder of a config holds, with its columns, in one list (folder creation uses it). */
import type { ResolvedConfig } from '../config.js';
import { measurementFiles } from './measurement-csv.js';
import { ACCURACY_COLUMNS, ACCURACY_CSV, ACTIVATIONS_CSV, activationColumns } from './recorders.js';

export function csvFilesOf(config: ResolvedConfig): { name: string; columns: string[] }[] {
  return [
    { name: ACCURACY_CSV, columns: ACCURACY_COLUMNS },
    { name: ACTIVATIONS_CSV, columns: activationColumns(config.eval.percentiles) },
    ...measurementFiles(config).map(({ name, columns }) => ({ name, columns })),
  ];
}
