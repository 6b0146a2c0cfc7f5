/**
 * One writer per run folder. A command that writes a folder (train, resume, sweep, merge, plot,
 * report) first creates DIR/.lock exclusively (O_EXCL), holding who it is: pid, host, command,
 * start time. A second writer is refused with one sentence naming the holder. The holder
 * refreshes the file's mtime every HEARTBEAT_MS; a lock is stale, and taken over, when its
 * holder is a dead process on this host, or when its heartbeat stopped longer than STALE_MS ago
 * (a holder on another host, e.g. a Slurm node that was shut down). A lock file that could not be
 * written whole is removed at once, and the lock is released on every exit, a signal's included
 * (see signals.ts), so no command leaves one behind unless it is killed outright.
 */
import { closeSync, existsSync, lstatSync, openSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UserError, namingFile } from '../core/errors.js';
import { specialKind } from '../core/user-file.js';

export const LOCK_FILE = '.lock';
const HEARTBEAT_MS = 10_000;
const STALE_MS = 60_000;
/** A lock file holds one line of JSON; a bigger one is not bn-repro's and is not read whole. */
const LOCK_MAX_BYTES = 64 * 1024;

export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  startedAt: string;
}

export interface FolderLock {
  /** Removes the lock if it is still this process's; safe to call twice. */
  release: () => void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): LockHolder | undefined {
  try {
    if (statSync(path).size > LOCK_MAX_BYTES) return undefined;
    const h = JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
    return typeof h.pid === 'number' && typeof h.host === 'string' ? h : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Refuses a `.lock` that is not a regular file: reading a FIFO there would wait forever, a link
 * to /dev/zero would fill memory, and a folder cannot be taken over; bn-repro never made one.
 */
function refuseForeignLock(dir: string, path: string): void {
  let kind: string | undefined;
  try {
    const stats = lstatSync(path);
    kind = stats.isSymbolicLink() ? 'a symbolic link' : specialKind(stats);
  } catch {
    return; // gone meanwhile: the caller tries again
  }
  if (kind) throw new UserError(`${path} is ${kind}, not a lock file bn-repro wrote; remove it if no bn-repro command is using ${dir}.`);
}

/** Why the lock at `path` no longer protects anything, or undefined while its holder lives. */
function staleness(path: string, holder: LockHolder | undefined, now: number): string | undefined {
  let ageMs: number;
  try {
    ageMs = now - statSync(path).mtimeMs;
  } catch {
    return 'gone';
  }
  if (holder?.host === hostname() && !isAlive(holder.pid)) return `its holder, pid ${holder.pid}, has exited`;
  if (ageMs > STALE_MS) return `its heartbeat stopped ${Math.round(ageMs / 1000)} s ago`;
  if (!holder && ageMs > HEARTBEAT_MS) return 'it is unreadable';
  return undefined;
}

function describe(h: LockHolder | undefined): string {
  return h ? `\`${h.command}\` (pid ${h.pid} on ${h.host}, since ${h.startedAt})` : 'another bn-repro process';
}

/** What this process is, as a lock holder sees it. */
export const thisCommand = (): string => ['bn-repro', ...process.argv.slice(2)].join(' ');

/** How a refusal reads; readers (report, plot) say the folder is unfinished. */
export type BusyMessage = (dir: string, holder: string) => string;
const writerBusy: BusyMessage = (dir, holder) => `${dir} is being written by ${holder}; wait for it to end (one writer per run folder).`;
export const readerBusy: BusyMessage = (dir, holder) => `${dir} is unfinished: it is being written by ${holder}; wait for it to end.`;

/** Takes the lock of `dir` for this command, or refuses naming the holder. */
export function lockFolder(dir: string, busy: BusyMessage = writerBusy): FolderLock {
  if (!existsSync(dir)) throw new UserError(`${dir} does not exist.`);
  const target = statSync(dir);
  if (!target.isDirectory()) throw new UserError(`${dir} is ${target.isFile() ? 'a file' : specialKind(target)}, not a bn-repro run folder.`);
  const path = join(dir, LOCK_FILE);
  const command = thisCommand();
  const me: LockHolder = { pid: process.pid, host: hostname(), command, startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      refuseForeignLock(dir, path);
      const holder = readHolder(path);
      const why = staleness(path, holder, Date.now());
      if (why === undefined) throw new UserError(busy(dir, describe(holder)));
      // Move the stale lock aside atomically: of two processes breaking it, one wins the rename.
      try {
        renameSync(path, `${path}.stale-${process.pid}`);
        rmSync(`${path}.stale-${process.pid}`, { force: true });
      } catch {
        // another process broke it first; try again
      }
      continue;
    }
    writeHolder(fd, path, me);
    return holdLock(path);
  }
  throw new UserError(`Could not take the lock ${path}: other processes keep taking it.`);
}

/**
 * Writes the holder into the new lock file. A lock that could not be written whole (a full disk)
 * is removed: an empty lock would block the folder for a minute with nobody holding it.
 */
function writeHolder(fd: number, path: string, me: LockHolder): void {
  const text = Buffer.from(`${JSON.stringify(me)}\n`);
  try {
    try {
      if (writeSync(fd, text) !== text.length) throw Object.assign(new Error(`short write to ${path}`), { code: 'ENOSPC', syscall: 'write' });
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    rmSync(path, { force: true });
    throw namingFile(err, path);
  }
}

function holdLock(path: string): FolderLock {
  const beat = setInterval(() => {
    try {
      const t = new Date();
      utimesSync(path, t, t);
    } catch {
      // the folder went away or the disk is read-only: nothing to refresh
    }
  }, HEARTBEAT_MS);
  beat.unref();
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    clearInterval(beat);
    process.off('exit', release);
    if (readHolder(path)?.pid === process.pid) rmSync(path, { force: true });
  };
  // process.exit() (a second Ctrl-C) skips finally blocks; the exit event still runs.
  process.on('exit', release);
  return { release };
}

/**
 * The lock of a folder being built under the temp name `temp` and then renamed to `dir` (see
 * new-run-folder.ts): written into `temp`, so the folder appears already locked, and held at its
 * place in `dir`. Nobody else can know `temp`, so there is nothing to wait for.
 */
export function lockNewFolder(temp: string, dir: string): FolderLock {
  const path = join(temp, LOCK_FILE);
  const me: LockHolder = { pid: process.pid, host: hostname(), command: thisCommand(), startedAt: new Date().toISOString() };
  writeHolder(openSync(path, 'wx'), path, me);
  return holdLock(join(dir, LOCK_FILE));
}

/** Who holds `dir`'s lock right now, or undefined when nobody does (for readers: report, plot). */
export function activeLock(dir: string): string | undefined {
  const path = join(dir, LOCK_FILE);
  if (!existsSync(path)) return undefined;
  refuseForeignLock(dir, path);
  const holder = readHolder(path);
  return staleness(path, holder, Date.now()) === undefined ? describe(holder) : undefined;
}

/** Runs `body` holding `dir`'s lock. */
export async function withFolderLock<T>(dir: string, body: () => Promise<T> | T, busy?: BusyMessage): Promise<T> {
  const lock = lockFolder(dir, busy);
  try {
    return await body();
  } finally {
    lock.release();
  }
}
