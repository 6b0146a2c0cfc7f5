/**
 * Errors a user can cause. The CLI prints their message as one sentence and exits with
 * `exitCode`; anything else is a bug and gets a stack trace only under --debug.
 * Exit codes are decided here and nowhere else.
 */
export const EXIT = {
  ok: 0,
  runtime: 1,
  usage: 2,
  diverged: 3,
  internal: 70,
  interrupted: 130,
} as const;

/** A problem with the user's input or environment that the user can fix. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.runtime,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** A bad flag, flag value, config key or config value (exit code 2). */
export class UsageError extends UserError {
  constructor(message: string) {
    super(message, EXIT.usage);
    this.name = 'UsageError';
  }
}

/** File-system errors a user can cause (a full disk, a read-only mount, a path that is a file...), in plain words. */
const SYSTEM_REASONS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a folder, not a file',
  ENOTDIR: 'a part of the path is a file, not a folder',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'the name is too long',
  ENOENT: 'it does not exist',
  EMFILE: 'too many open files',
  EBUSY: 'it is busy',
};

const VERBS: Record<string, string> = {
  open: 'open',
  read: 'read',
  write: 'write',
  mkdir: 'create',
  rename: 'write',
  scandir: 'read',
  unlink: 'remove',
  rmdir: 'remove',
  copyfile: 'copy',
  fsync: 'write',
  ftruncate: 'write',
};

/**
 * The UserError a thrown value stands for, or undefined for a real bug. A system error with one of
 * the codes above becomes one sentence naming the path and the reason, and exit 1.
 */
export function asUserError(err: unknown): UserError | undefined {
  if (err instanceof UserError) return err;
  const why = systemReason(err);
  if (!why) return undefined;
  const e = err as NodeJS.ErrnoException & { dest?: string };
  // A copy's error names its source; a full disk or a read-only folder is the destination's.
  const what = e.syscall === 'copyfile' && e.dest ? `${e.path} to ${e.dest}` : (e.path ?? 'a file');
  return new UserError(`Cannot ${VERBS[e.syscall ?? ''] ?? 'use'} ${what}: ${why}.`);
}

/**
 * `err` with `path` recorded when it names no file: write, fsync and ftruncate work on a
 * descriptor, so Node's errors for them carry no path, and "Cannot write a file" helps nobody.
 */
export function namingFile(err: unknown, path: string): unknown {
  const e = err as NodeJS.ErrnoException | undefined;
  if (e instanceof Error && typeof e.code === 'string' && e.path === undefined) e.path = path;
  return err;
}

/** Runs `body`; a system error it throws names `path` (see namingFile). */
export function onFile<T>(path: string, body: () => T): T {
  try {
    return body();
  } catch (err) {
    throw namingFile(err, path);
  }
}

/** "reason (CODE)" for a file-system error a user can cause, else undefined. */
export function systemReason(err: unknown): string | undefined {
  const e = err as NodeJS.ErrnoException | undefined;
  const reason = e?.code ? SYSTEM_REASONS[e.code] : undefined;
  if (!reason) return undefined;
  return `${e?.syscall === 'mkdir' && e.code === 'ENOENT' ? 'its parent folder does not accept new folders' : reason} (${e?.code})`;
}
