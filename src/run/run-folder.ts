/**
 * The run folder: default name, the refusal to write where results already are, and run.json
 * (resolved config, seeds, backend, versions, times, speed, final numbers), written atomically.
 */
import { accessSync, constants, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { DEFAULTS, applyOverrides, migrateSavedConfig, type ResolvedConfig } from '../config.js';
import { join, resolve } from 'node:path';
import { UserError } from '../errors.js';

export const RUN_JSON = 'run.json';

/** results/<name>-<UTC timestamp>, e.g. results/paper-20261124T191106Z. */
export function defaultRunDir(name: string, date: Date): string {
  const stamp = date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return join('results', `${name}-${stamp}`);
}

/** A folder that already holds anything is refused, never reused (checked before slow work too). */
export function refuseUsedDir(dir: string): void {
  if (!existsSync(dir)) return;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    throw new UserError(`${dir} exists and is not a folder that can be read.`);
  }
  if (entries.length > 0) throw new UserError(`${dir} already holds files; choose another --out so no results are overwritten.`);
}

/** Reads a run folder's run.json and its config, validated like any config file. */
export function readRunJson(dir: string): { runJson: Record<string, unknown>; config: ResolvedConfig } {
  const path = join(dir, RUN_JSON);
  let runJson: Record<string, unknown>;
  try {
    runJson = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new UserError(`${dir} is not a bn-repro run folder (no readable ${RUN_JSON}).`);
  }
  if (typeof runJson?.config !== 'object' || runJson.config === null || !Array.isArray(runJson.seeds)) {
    throw new UserError(`${path} does not describe a bn-repro run (no config or seeds).`);
  }
  const saved = migrateSavedConfig(runJson.config as Record<string, unknown>);
  return { runJson, config: applyOverrides(structuredClone(DEFAULTS) as ResolvedConfig, saved, path) };
}

/** Creates `dir` for a new run; a folder that already holds anything is refused, never reused. */
export function prepareRunDir(dir: string): string {
  const abs = resolve(dir);
  refuseUsedDir(abs);
  if (!existsSync(abs)) {
    try {
      mkdirSync(abs, { recursive: true });
    } catch (err) {
      throw new UserError(`Cannot create the output folder ${dir} (${(err as NodeJS.ErrnoException).code ?? 'error'}).`);
    }
  }
  try {
    accessSync(abs, constants.W_OK);
  } catch {
    throw new UserError(`The output folder ${dir} is not writable.`);
  }
  return abs;
}

/** Writes JSON through a temp file and a rename, so a reader never sees half a file. */
export function writeJsonAtomic(path: string, value: unknown): void {
  const temp = `${path}.tmp-${process.pid}`;
  writeFileSync(temp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(temp, path);
}
