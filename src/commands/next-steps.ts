/**
 * What a user does next, told on stdout as one line (also under --quiet, which silences only
 * the progress on stderr): after a run ends, its folder and the plot / report commands; and, when
 * plot or report is given a folder of run folders (results/), the run folders inside it.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';
import { RUN_JSON } from '../run/run-folder.js';
import { shellQuote } from '../slurm/quote.js';

/** Most run folders named in one error sentence; the rest are counted. */
export const MAX_LISTED_RUN_FOLDERS = 10;

/** A folder as typed into a shell: plain paths as they are, anything else single-quoted. */
const asTyped = (dir: string): string => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(dir) ? dir : shellQuote(dir));

/** "results: DIR; next: bn-repro plot DIR && bn-repro report DIR" (a run whose runs all ended). */
export function nextStepsLine(dir: string): string {
  const d = asTyped(dir);
  return `results: ${dir}; next: bn-repro plot ${d} && bn-repro report ${d}`;
}

/** The line for a shard, or a merge that still lacks runs: merge comes before plot and report. */
export function mergeNextLine(dir: string): string {
  return `results: ${dir}; next: bn-repro merge ${asTyped(dir)} <the other shard folders> --out DIR, then bn-repro plot DIR && bn-repro report DIR`;
}

/** Prints a next-steps line on stdout. */
export function printNext(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** "a, b and 3 more" */
function listed(names: string[]): string {
  const shown = names.slice(0, MAX_LISTED_RUN_FOLDERS);
  const more = names.length - shown.length;
  return more > 0 ? `${shown.join(', ')} and ${more} more` : shown.join(', ');
}

/**
 * Refuses a folder without run.json that holds run folders (e.g. results/), naming them, before
 * plot or report locks it. A folder that holds none is left to the run-folder reader's error.
 */
export function refuseFolderOfRunFolders(dir: string, verb: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory() || existsSync(join(dir, RUN_JSON))) return;
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch {
    return; // unreadable: the reader's own error says so
  }
  const runs = entries.filter((name) => existsSync(join(dir, name, RUN_JSON)));
  if (runs.length === 0) return;
  const example = asTyped(join(dir, runs[runs.length - 1]));
  throw new UserError(
    `${dir} is not a run folder but holds ${runs.length} run folder${runs.length === 1 ? '' : 's'}: ${listed(runs)}; give one of them, e.g. bn-repro ${verb} ${example}.`,
  );
}
