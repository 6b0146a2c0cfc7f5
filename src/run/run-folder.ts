/**
 * The run folder: default name, the refusal to write where results already are, folder creation
 * that cannot loop, and run.json (resolved config, seeds, backend, versions, times, speed, final
 * numbers), written atomically and validated when read back.
 */
import {
  accessSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { constants as bufferConstants } from 'node:buffer';
import { dirname, join, resolve } from 'node:path';
import { DEFAULTS, type ResolvedConfig } from '../config/config.js';
import { applyOverrides, migrateSavedConfig } from '../config/resolve.js';
import { UsageError, UserError, systemReason } from '../core/errors.js';
import { parseWith, runJsonSchema, type RunJson } from './schemas.js';

export const RUN_JSON = 'run.json';

/** results/<name>-<UTC timestamp>, e.g. results/paper-20261124T191106Z. */
export function defaultRunDir(name: string, date: Date): string {
  const stamp = date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return join('results', `${name}-${stamp}`);
}

/** A folder that already holds anything is refused, never reused (checked before slow work too). */
export function refuseUsedDir(dir: string): void {
  if (dir.trim() === '') throw new UsageError('--out must name a folder (got an empty string).');
  if (!existsSync(dir)) {
    // A dangling link: the folder would be renamed over the link itself (ENOTDIR), so say what it is.
    if (isLink(dir))
      throw new UserError(`${dir} is a symbolic link to ${readlinkSync(dir)}, which does not exist; create that folder or choose another --out.`);
    return;
  }
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    throw new UserError(`${dir} exists and is not a folder that can be read.`);
  }
  if (entries.length > 0) throw new UserError(`${dir} already holds files; choose another --out so no results are overwritten.`);
}

/** True when `path` is a symbolic link; a path that cannot be looked at (ENOTDIR...) is not one. */
function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * Creates `dir` and its missing parents one level at a time. Node's recursive mkdir loops forever
 * where procfs answers ENOENT (/proc/x/run); here every failure surfaces as an error.
 */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let p = resolve(dir); !existsSync(p); p = dirname(p)) {
    missing.unshift(p);
    if (dirname(p) === p) break;
  }
  for (const p of missing) mkdirSync(p);
}

/**
 * The text of a file of a run folder. It must be a regular file of the folder's own: a symbolic
 * link (to another run's file, say) or a device is refused, since its content is not this run's.
 */
export function regularFileText(path: string): string {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) throw new UserError(`${path} is a symbolic link; a run folder's files must be its own, not links to others.`);
  if (!stat.isFile()) throw new UserError(`${path} is not a regular file.`);
  // Node cannot hold a longer file as one string (it would be exit 70, "Cannot create a string").
  const most = bufferConstants.MAX_STRING_LENGTH;
  if (stat.size > most)
    throw new UserError(
      `${path} is ${stat.size.toLocaleString('en-US')} bytes, more than the ${most.toLocaleString('en-US')} bn-repro can read back; the run folder is damaged or too large to read.`,
    );
  return readFileSync(path, 'utf8');
}

/**
 * Reads a run folder's run.json and its config, both validated; a damaged file is exit 1, naming
 * it. `savedConfig` is the config as the file holds it: what its digest covers, and what a resume
 * writes back (a key added to bn-repro later is in `config`, at its default, but not in the file).
 */
export function readRunJson(dir: string): { runJson: RunJson; config: ResolvedConfig; savedConfig: Record<string, unknown> } {
  const path = join(dir, RUN_JSON);
  let raw: unknown;
  try {
    raw = JSON.parse(regularFileText(path));
  } catch (err) {
    if (err instanceof UserError) throw err;
    if (err instanceof SyntaxError) throw new UserError(`${path} is damaged: not valid JSON.`);
    throw new UserError(`${dir} is not a bn-repro run folder (no readable ${RUN_JSON}).`);
  }
  const parsed = parseWith(runJsonSchema, raw, path);
  try {
    const config = applyOverrides(structuredClone(DEFAULTS) as ResolvedConfig, migrateSavedConfig(parsed.config), path);
    // The file's own values (the schema validated them; its parse would drop keys it does not name).
    return { runJson: { ...(raw as object), config } as RunJson, config, savedConfig: parsed.config };
  } catch (err) {
    // A saved config that breaks the rules is a damaged folder (exit 1), not a usage error.
    if (err instanceof UsageError) throw new UserError(`${err.message.replace(/\.$/, '')} (${path} is damaged).`);
    throw err;
  }
}

/** Creates `dir` for a new run; a folder that already holds anything is refused, never reused. */
export function prepareRunDir(dir: string): string {
  const abs = resolve(dir);
  refuseUsedDir(abs);
  try {
    makeDirs(abs);
    if (!statSync(abs).isDirectory()) throw new UserError(`${dir} is a file, not a folder.`);
    accessSync(abs, constants.W_OK);
  } catch (err) {
    const why = systemReason(err);
    if (why) throw new UserError(`Cannot create the output folder ${dir}: ${why}.`);
    throw err;
  }
  return abs;
}

/** Writes through a temp file and a rename, so a reader never sees half a file; a failed write leaves no temp file. */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  const temp = join(dirname(path), `.${path.split('/').pop()}.tmp-${process.pid}`);
  try {
    writeFileSync(temp, content);
    renameSync(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    // The message names the file being written, not the temp file (nor none, as write() errors do).
    const e = err as NodeJS.ErrnoException;
    if (e.path === undefined || e.path === temp) e.path = path;
    throw err;
  }
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}
