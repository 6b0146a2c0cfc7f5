/**
 * Checkpoint files: a run's state (training/checkpoint-state.ts: everything it needs to continue
 * bit for bit), or, once a run is over, its summary. One JSON file per run in <run dir>/checkpoints/, written
 * through a temp file and a rename so a crash leaves the previous checkpoint intact. Each file
 * carries the sha256 of its content: an edited or damaged checkpoint is refused, never resumed.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Arm } from '../config/config.js';
import { UserError } from '../core/errors.js';
import type { RunCheckpoint } from '../training/checkpoint-state.js';
import type { RunSummary } from '../training/records.js';
import { regularFileText, writeJsonAtomic } from './run-folder.js';
import { checkpointSchema, endedRunSchema, parseWith } from './schemas.js';

export const CHECKPOINT_DIR = 'checkpoints';

/** What ties a saved run to its folder: the experiment digest and the digests of its rows on disk. */
export interface MadeWith {
  /** experimentDigest of the config and data (digest.ts). */
  digest?: string;
  /** CSV file name -> rowsDigest of this run's rows in it when the checkpoint was saved. */
  rows?: Record<string, string>;
}

/** What is kept of a run that has ended (finished or diverged): its summary, no weights. */
export interface EndedRun {
  arm: Arm;
  seed: number;
  summary: RunSummary;
}

export type SavedRun = (RunCheckpoint | EndedRun) & MadeWith;

export function isEnded(saved: SavedRun): saved is EndedRun {
  return 'summary' in saved && !saved.summary.interrupted;
}

/** sha256 of a checkpoint's content (every field but the checksum itself), as written. */
function contentHash(content: object): string {
  return createHash('sha256').update(JSON.stringify(content)).digest('hex');
}

export function checkpointPath(runDir: string, arm: Arm, seed: number): string {
  return join(runDir, CHECKPOINT_DIR, `${arm}-seed${seed}.json`);
}

export function writeCheckpoint(runDir: string, ckpt: SavedRun): void {
  const dir = join(runDir, CHECKPOINT_DIR);
  if (!existsSync(dir)) mkdirSync(dir);
  writeJsonAtomic(checkpointPath(runDir, ckpt.arm, ckpt.seed), { ...ckpt, sha256: contentHash(ckpt) });
}

/** Reads one checkpoint file: JSON, schema, checksum and name; anything wrong is one sentence naming it. */
export function readCheckpoint(path: string): SavedRun {
  const damaged = (why: string) => new UserError(`The checkpoint ${path} ${why}; delete it to restart that run from step 0.`);
  let value: unknown;
  try {
    value = JSON.parse(regularFileText(path));
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw damaged('is not valid JSON');
  }
  const ended = typeof value === 'object' && value !== null && 'summary' in value;
  const { sha256, ...content } = ended ? parseWith(endedRunSchema, value, path) : parseWith(checkpointSchema, value, path);
  // Hash the file's own fields in their written order (the schema's output may order them otherwise).
  const { sha256: _written, ...asWritten } = value as Record<string, unknown>;
  if (contentHash(asWritten) !== sha256) throw damaged('fails its checksum (edited or damaged)');
  if (!path.endsWith(`${content.arm}-seed${content.seed}.json`)) throw damaged(`holds ${content.arm} seed ${content.seed}, not the run its name says`);
  return content as SavedRun;
}

/** Every checkpoint of a run folder, keyed "arm/seed"; a damaged file is an error naming it. */
export function readCheckpoints(runDir: string): Map<string, SavedRun> {
  const dir = join(runDir, CHECKPOINT_DIR);
  const out = new Map<string, SavedRun>();
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const ckpt = readCheckpoint(join(dir, name));
    out.set(`${ckpt.arm}/${ckpt.seed}`, ckpt);
  }
  return out;
}
