/**
 * run.json's status over a command's life: `running` while runs train, then how the command
 * ended (finished, diverged, interrupted, failed). The end must be recorded even on a full disk,
 * where the atomic write (a second copy of the file) fails. So the `running` file is written with
 * trailing spaces (JSON ignores them) that reserve room for the end state, which can then be
 * written in place, over bytes the file already holds, needing no new space.
 */
import { closeSync, fsyncSync, ftruncateSync, openSync, statSync, writeSync } from 'node:fs';
import { writeFileAtomic, writeJsonAtomic } from './run-folder.js';

/** Room for what the end state adds (status, error, endedAt, peak memory) plus one summary per run. */
const RESERVE_BYTES = 1024;
const RESERVE_BYTES_PER_RUN = 512;

/** run.json's text while `runs` runs may still be added to it. */
export function runningText(value: Record<string, unknown>, runs: number): string {
  return `${JSON.stringify({ ...value, status: 'running' }, null, 2)}\n${' '.repeat(RESERVE_BYTES + RESERVE_BYTES_PER_RUN * runs)}`;
}

export function writeRunningState(path: string, value: Record<string, unknown>, runs: number): void {
  writeFileAtomic(path, runningText(value, runs));
}

/**
 * Records how the command ended: atomically where there is room, else in place over the reserve
 * (compact, so it fits). Never throws: this runs after a failure whose error is the one to report.
 */
export function writeEndState(path: string, value: Record<string, unknown>): void {
  try {
    writeJsonAtomic(path, value);
    return;
  } catch {
    // no room for a second copy: see below
  }
  try {
    const text = Buffer.from(`${JSON.stringify(value)}\n`);
    // Overwriting bytes a file holds needs no new blocks; writing past its end would.
    if (text.length > statSync(path).size) return;
    const fd = openSync(path, 'r+');
    try {
      writeSync(fd, text, 0, text.length, 0);
      ftruncateSync(fd, text.length);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // nothing more can be written; run.json still says `running`, which --resume accepts
  }
}
