/**
 * Run-folder helpers shared by the CLI tests, with no side effects on import: the tiny run config
 * of the robustness tests, byte-for-byte snapshots of a folder, fresh copies of a template
 * folder, the edits a user or a tool makes to run.json, checkpoints and CSVs, and whether a
 * full disk can be staged (a tmpfs).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers.js';

/**
 * `dir`/tiny.json: 600 steps on 600 embedded digits (200 held out), an evaluation every 100, a
 * checkpoint every 200; returns its path.
 */
export function tinyRunConfig(dir: string): string {
  const path = join(dir, 'tiny.json');
  writeFileSync(
    path,
    JSON.stringify({
      train: { steps: 600, checkpointEvery: 200 },
      eval: { every: 100, probeSize: 100 },
      batchNorm: { populationBatches: 3 },
      data: { source: 'embedded', trainSubset: 600, testSubset: 200 },
    }),
  );
  return path;
}

/** Every file under `dir` with its bytes, for "unchanged" checks (empty when `dir` does not exist). */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    if (statSync(path).isFile()) out.set(name, readFileSync(path).toString('base64'));
  }
  return out;
}

/** A fresh copy of a template folder. */
export function copyOf(template: string): string {
  const dir = join(tempDir(), 'run');
  cpSync(template, dir, { recursive: true });
  return dir;
}

// biome-ignore lint/suspicious/noExplicitAny: run.json and checkpoints are edited as plain JSON
export type JsonObject = Record<string, any>;
export const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
export const editJson = (path: string, edit: (v: JsonObject) => void) => {
  const v = readJson(path);
  edit(v);
  writeFileSync(path, JSON.stringify(v, null, 2));
};
export const editText = (path: string, edit: (t: string) => string) => writeFileSync(path, edit(readFileSync(path, 'utf8')));

/** Whether this process may mount a tmpfs (root): the full-disk cases need one. */
export const canMountTmpfs = (() => {
  let known: boolean | undefined;
  return (): boolean => {
    if (known !== undefined) return known;
    try {
      const m = tempDir();
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', m], { stdio: 'ignore' });
      execFileSync('umount', [m]);
      known = true;
    } catch {
      known = false;
    }
    return known;
  };
})();
