/**
 * A new run folder appears whole or not at all: its first files (run.json and every CSV header)
 * are written into a temp sibling, `.NAME.tmp-PID`, which is renamed into place. A failure (a full
 * disk, a read-only parent) removes the temp folder and leaves no --out behind, so a run folder
 * always has its headers. The folder appears holding this command's lock (lock.ts). An --out that already exists (empty: see refuseUsedDir) keeps its own
 * inode and permissions: the files are written into it, run.json last (a folder without run.json
 * is not a run), and removed again if one fails.
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError, onFile, systemReason } from '../core/errors.js';
import { lockFolder, lockNewFolder, type FolderLock } from './lock.js';
import { RUN_JSON, makeDirs, refuseUsedDir, writeFileAtomic } from './run-folder.js';

/** [file name, content]; run.json among them. */
export type FolderFile = [name: string, content: string];

/** A failure while creating `outDir` as one sentence naming it; other errors pass through. */
function creationError(outDir: string, err: unknown): unknown {
  const why = systemReason(err);
  return why ? new UserError(`Cannot create the output folder ${outDir}: ${why}.`) : err;
}

/**
 * Creates `outDir` holding `files` and this command's lock, or throws leaving it as it was;
 * returns its absolute path and the lock.
 */
export function createRunFolder(outDir: string, files: FolderFile[]): { dir: string; lock: FolderLock } {
  const dir = resolve(outDir);
  refuseUsedDir(dir);
  const ordered = [...files].sort((a, b) => Number(a[0] === RUN_JSON) - Number(b[0] === RUN_JSON));
  if (existsSync(dir)) {
    const lock = lockFolder(dir);
    try {
      fillInPlace(outDir, dir, ordered);
    } catch (err) {
      lock.release();
      throw err;
    }
    return { dir, lock };
  }
  const temp = join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}`);
  let lock: FolderLock | undefined;
  try {
    makeDirs(dirname(dir));
    mkdirSync(temp);
    for (const [name, content] of ordered) onFile(join(dir, name), () => writeFileSync(join(temp, name), content));
    lock = lockNewFolder(temp, dir);
    renameSync(temp, dir);
  } catch (err) {
    lock?.release();
    removeQuietly(temp);
    // Another process created the folder meanwhile: the usual refusal, never a merge into it.
    if ((err as NodeJS.ErrnoException).code === 'ENOTEMPTY' || (err as NodeJS.ErrnoException).code === 'EEXIST') refuseUsedDir(dir);
    throw creationError(outDir, err);
  }
  return { dir, lock };
}

/** Cleanup after a failure: a path that cannot exist (a parent that is a file) or cannot be removed must not hide the first error. */
function removeQuietly(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch {
    // the first error is the one to report
  }
}

function fillInPlace(outDir: string, dir: string, files: FolderFile[]): void {
  const written: string[] = [];
  try {
    for (const [name, content] of files) {
      writeFileAtomic(join(dir, name), content);
      written.push(name);
    }
  } catch (err) {
    for (const name of written) removeQuietly(join(dir, name));
    throw creationError(outDir, err);
  }
}
