/**
 * The recorder that saves each run's checkpoints, and a summary-only file once a run has ended.
 * Every saved file carries the experiment digest and the digests of the run's rows then on disk
 * (the CSV writers come first in the fan-out, so those rows are written before the checkpoint),
 * so that rows edited, deleted or replaced afterwards are refused when the folder is read back.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig } from '../config/config.js';
import { writeCheckpoint, type MadeWith } from './checkpoint.js';
import { rowsDigest } from './digest.js';
import { folderCsvs } from './folder-files.js';
import type { Recorder, RunId } from '../training/records.js';

/** rowsDigest of the run's complete lines with step <= upTo, per CSV file of the folder. */
export function runRowDigests(dir: string, config: ResolvedConfig, run: RunId, upTo: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const file of folderCsvs(config)) {
    const path = join(dir, file.name);
    if (!existsSync(path)) continue;
    const lines = readFileSync(path, 'utf8').split('\n');
    lines.pop(); // a last line without its newline is another run's row being written right now
    const prefix = `${run.arm},${run.seed},`;
    out[file.name] = rowsDigest(lines.slice(1).filter((l) => l.startsWith(prefix) && Number(l.slice(prefix.length).split(',')[0]) <= upTo));
  }
  return out;
}

export function checkpointRecorder(dir: string, config: ResolvedConfig, digest: string): Recorder {
  const madeWith = (run: RunId, upTo: number): MadeWith => ({ digest, rows: runRowDigests(dir, config, run, upTo) });
  return {
    evaluation: () => {},
    checkpoint: (state) => writeCheckpoint(dir, { ...state, ...madeWith(state, state.step) }),
    runFinished: (summary) => {
      if (!summary.interrupted) writeCheckpoint(dir, { arm: summary.arm, seed: summary.seed, summary, ...madeWith(summary, Infinity) });
    },
    close: async () => {},
  };
}
