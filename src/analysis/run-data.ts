/**
 * The run-folder data that plot, report and the sweep table draw from. The reader itself lives in
 * src/run/folder-data.ts (merge and --resume use the same checks); analysis imports run, never
 * the reverse.
 */
export { cellValue, readEndedRun, readPartialRun, readRunData, type AccuracyRow, type ActivationRow, type RunData } from '../run/folder-data.js';
