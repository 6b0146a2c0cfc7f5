/**
 * What `plot` and `report` share when given several run folders: --out is required, outputs
 * already in it are refused (never overwritten), and each folder is read under its lock as the
 * one-folder verbs read it (ended runs only, every row checked).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readEndedRun, type RunData } from '../analysis/run-data.js';
import { UsageError, UserError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { readerBusy, withFolderLock } from '../run/lock.js';

/** The paths of `names` in `out`, none of which may exist yet. */
export function freshOutputs(out: string | undefined, names: string[]): string[] {
  if (out === undefined || out.trim() === '') throw new UsageError('several run folders need --out DIR, the folder for what compares them.');
  const paths = names.map((n) => join(out, n));
  const taken = paths.find(existsSync);
  if (taken) throw new UserError(`${taken} already exists; choose another --out so nothing is overwritten.`);
  return paths;
}

export async function readEndedFolders(dirs: string[], logger: Logger): Promise<RunData[]> {
  const datas: RunData[] = [];
  for (const dir of dirs) datas.push(await withFolderLock(dir, () => readEndedRun(dir, logger), readerBusy));
  return datas;
}
