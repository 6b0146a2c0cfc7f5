/**
 * Where a run folder keeps its TensorBoard event files, one log folder per run,
 * DIR/tensorboard/<arm>-seed<seed>/events.out.tfevents.<seconds>.<host> (the names TensorBoard
 * looks for), and what --resume and merge do to them: resume cuts a run's file back to its whole
 * records up to the checkpoint (as it trims the CSVs) and appends to it; merge copies each run's.
 */
import { closeSync, copyFileSync, existsSync, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, truncateSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { RunId } from '../../training/records.js';
import type { EventCodec } from './event.js';
import { frameRecord, readRecords } from './tfrecord.js';

export const TENSORBOARD_DIR = 'tensorboard';
export const EVENTS_PREFIX = 'events.out.tfevents.';

/** The log folder of one run: TensorBoard's run name is its path under DIR/tensorboard. */
export const runLogName = (run: RunId) => `${run.arm}-seed${run.seed}`;
export const runLogDir = (dir: string, run: RunId) => join(dir, TENSORBOARD_DIR, runLogName(run));

/** The event files of a log folder, in the name order TensorBoard reads them in. */
export function eventFilesOf(logDir: string): string[] {
  if (!existsSync(logDir)) return [];
  return readdirSync(logDir)
    .filter((n) => n.startsWith(EVENTS_PREFIX))
    .sort()
    .map((n) => join(logDir, n));
}

/** A file of the folder's own: a link (to another run's file, say) is never cut or appended to. */
function refuseLink(path: string): void {
  if (!lstatSync(path).isFile()) throw new Error(`${path} is not a regular file`);
}

/** The folder's own folders too (a linked log folder would have another run's files cut): the first that is not. */
function notOwnFolder(dir: string, run: RunId): string | undefined {
  return [join(dir, TENSORBOARD_DIR), runLogDir(dir, run)].find((d) => existsSync(d) && !lstatSync(d).isDirectory());
}

/**
 * Cuts `path` to its whole records whose step is at most `keepUpTo` (the file_version event
 * stays). Events are written in step order, so this keeps a prefix of the file. Returns how many
 * records were kept when the file was damaged (a record whose CRC fails), else undefined.
 */
export function trimEvents(path: string, keepUpTo: number, codec: EventCodec): number | undefined {
  refuseLink(path);
  const { records, stop } = readRecords(readFileSync(path));
  let end = 0;
  let kept = 0;
  for (const r of records) {
    const { step, isVersion } = codec.stepOf(r.data);
    if (!isVersion && step > keepUpTo) break;
    end = r.end;
    kept += 1;
  }
  truncateSync(path, end);
  return stop === 'damaged' && kept === records.length ? kept : undefined;
}

/**
 * Opens the run's events file for appending. Continuing (`keepUpTo` given: --resume), the run's
 * existing files are cut back to the checkpoint and the last one goes on; otherwise a new file
 * starts with its file_version event. `onDamaged` hears of a file cut at a damaged record.
 */
export function openRunEvents(
  dir: string,
  run: RunId,
  codec: EventCodec,
  keepUpTo: number | undefined,
  onDamaged: (path: string, kept: number) => void,
): number {
  const logDir = runLogDir(dir, run);
  const foreign = notOwnFolder(dir, run);
  if (foreign) throw new Error(`${foreign} is not a folder of the run's own`);
  const existing = keepUpTo === undefined ? [] : eventFilesOf(logDir);
  for (const path of existing) {
    const kept = trimEvents(path, keepUpTo!, codec);
    if (kept !== undefined) onDamaged(path, kept);
  }
  for (const d of [join(dir, TENSORBOARD_DIR), logDir]) if (!existsSync(d)) mkdirSync(d);
  const now = Date.now();
  const path = existing.length > 0 ? existing[existing.length - 1] : join(logDir, `${EVENTS_PREFIX}${Math.floor(now / 1000)}.${hostname()}`);
  const fd = openSync(path, existing.length > 0 ? 'a' : 'wx');
  try {
    // A new file, or one whose first record was damaged (cut to nothing), starts with its version.
    if (fstatSync(fd).size === 0) writeSync(fd, frameRecord(codec.fileVersion(now / 1000)));
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}

/** merge: the event files of the runs `planned` ("arm/seed") of `from`, copied into `to`. */
export function copyRunEvents(from: string, to: string, planned: string[]): void {
  for (const key of planned) {
    const slash = key.lastIndexOf('/');
    const run = { arm: key.slice(0, slash), seed: Number(key.slice(slash + 1)) };
    const files = notOwnFolder(from, run) === undefined ? eventFilesOf(runLogDir(from, run)).filter((p) => lstatSync(p).isFile()) : [];
    if (files.length === 0) continue;
    for (const d of [join(to, TENSORBOARD_DIR), runLogDir(to, run)]) if (!existsSync(d)) mkdirSync(d);
    for (const path of files) copyFileSync(path, join(runLogDir(to, run), path.slice(path.lastIndexOf('/') + 1)));
  }
}
