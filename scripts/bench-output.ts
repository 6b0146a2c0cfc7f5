/**
 * The bench's JSON file, results/bench-<UTC timestamp>.json, with what every bench file says of
 * the machine (date, CPU, cores, package versions). A file already there (two benches in one
 * second) is never overwritten: the new one gets -2, -3, ...
 */
import { existsSync, mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { versions } from '../src/engines/backend.js';
import { defaultRunDir, writeJsonAtomic } from '../src/run/run-folder.js';

/** Writes `body` beside the machine's description; returns the file's path. */
export function writeBenchJson(body: Record<string, unknown>, now = new Date()): string {
  mkdirSync('results', { recursive: true });
  const base = defaultRunDir('bench', now);
  let file = `${base}.json`;
  for (let n = 2; existsSync(file); n++) file = `${base}-${n}.json`;
  writeJsonAtomic(file, { date: now.toISOString(), cpu: cpus()[0]?.model, cores: cpus().length, versions: versions(), ...body });
  return file;
}
