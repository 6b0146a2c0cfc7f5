/**
 * plot --partial and report --partial: a look at a folder whose runs have not all ended (one
 * being trained right now, or interrupted). They read without the folder's lock (the writer holds
 * it), write only files named *.partial.* (a final figure1.svg or report.md is never replaced by
 * a partial one), and mark every output unfinished with the steps reached.
 */
import { readRunJson } from '../run/run-folder.js';
import { activeLock } from '../run/lock.js';
import type { RunData } from '../analysis/run-data.js';

/** True when the folder's runs have all ended and nobody writes it: --partial then changes nothing. */
export function hasEnded(dir: string): boolean {
  const status = readRunJson(dir).runJson.status;
  return (status === 'finished' || status === 'diverged') && activeLock(dir) === undefined;
}

/** `name.ext` -> `name.partial.ext`. */
export const partialName = (file: string) => file.replace(/(\.[^.]+)$/, '.partial$1');

/** "UNFINISHED (status "running", being written): runs at steps 300-600 of 600; not a final result." */
export function unfinishedMark(data: RunData, dir: string): string {
  const last = new Map<string, number>();
  for (const r of data.accuracy) last.set(`${r.arm}/${r.seed}`, Math.max(last.get(`${r.arm}/${r.seed}`) ?? 0, r.step));
  const steps = [...last.values()];
  const [lo, hi] = [Math.min(...steps), Math.max(...steps)];
  const planned = data.planned?.length ?? last.size;
  const started = last.size < planned ? `, ${planned - last.size} of ${planned} runs not started` : '';
  const writer = activeLock(dir) ? ', being written' : '';
  return `UNFINISHED (status "${String(data.runJson.status)}"${writer}): ${last.size > 1 ? 'runs at steps' : 'at step'} ${lo}${hi > lo ? `-${hi}` : ''} of ${data.config.train.steps}${started}; not a final result.`;
}
