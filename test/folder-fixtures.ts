/**
 * Shared by the robustness-folder tests (issue 17, families 1, 3, 4, 8, 9): the template folders
 * (int1 of the issue, scaled down: a run SIGTERMed once the baseline has finished and the BN run
 * has checkpointed; the same run uninterrupted; int1 again at --lr 0.2), the edits a user or a
 * tool makes to a copy of one, and the runner that checks a refusal: exit code, exactly one
 * `error:` line naming the part, no stack trace, the folders byte for byte unchanged.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertRefused, runCli, settle, start, tempDir, waitForCheckpoint } from './helpers.js';

export const work = tempDir('bn-repro-folder-');
/** 1,500 steps, an evaluation every 100, a checkpoint every 100, ICS and landscape every 5th evaluation. */
const ck = join(work, 'ck.json');
writeFileSync(ck, JSON.stringify({ train: { checkpointEvery: 100 }, eval: { probeSize: 100, landscape: { every: 5 } }, batchNorm: { populationBatches: 3 } }));
const S = ['--steps', '1500', '--eval-every', '100', '--subset', '600', '--test-subset', '200', '--jobs', '1', '--data', 'embedded'];
const train = (out: string, ...extra: string[]) => ['mnist', '--config', ck, ...S, '--out', out, '--quiet', ...extra];

/** The uninterrupted run, in a new folder. */
export function finishedRun(name: string): string {
  const out = join(work, name);
  assert.equal(runCli(train(out)).code, 0);
  return out;
}

/** int1: SIGTERM once the baseline has finished and the BN run has checkpointed at step >= 300. */
export async function interruptedRun(name: string, ...extra: string[]): Promise<string> {
  const out = join(work, name);
  const child = start(train(out, ...extra), 'ignore');
  await settle(child, async () => {
    await waitForCheckpoint(join(out, 'checkpoints', 'bn-seed0.json'), 300, 120_000);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  });
  return out;
}

/** Every file under `dir` with its bytes, for "unchanged" checks. */
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
type JsonObject = Record<string, any>;
export const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
export const editJson = (path: string, edit: (v: JsonObject) => void) => {
  const v = readJson(path);
  edit(v);
  writeFileSync(path, JSON.stringify(v, null, 2));
};
/** Edits a checkpoint and recomputes its checksum, as a tool that knows the format would. */
export const editCheckpoint = (path: string, edit: (v: JsonObject) => void) =>
  editJson(path, (v) => {
    delete v.sha256;
    edit(v);
    v.sha256 = createHash('sha256').update(JSON.stringify(v)).digest('hex');
  });
export const editText = (path: string, edit: (t: string) => string) => writeFileSync(path, edit(readFileSync(path, 'utf8')));
export const lines = (path: string) => readFileSync(path, 'utf8').split('\n');
/** Replaces cell `column` of the first line starting with `prefix`. */
export const setCell = (path: string, prefix: string, column: string, value: string) =>
  editText(path, (t) => {
    const all = t.split('\n');
    const col = all[0].split(',').indexOf(column);
    const i = all.findIndex((l) => l.startsWith(prefix));
    assert.ok(i > 0 && col >= 0, `${prefix} / ${column} in ${path}`);
    const cells = all[i].split(',');
    cells[col] = value;
    all[i] = cells.join(',');
    return all.join('\n');
  });

export const ckpt = (dir: string, run = 'bn-seed0') => join(dir, 'checkpoints', `${run}.json`);
export const runJson = (dir: string) => join(dir, 'run.json');
export const acc = (d: string) => join(d, 'accuracy.csv');
export const act = (d: string) => join(d, 'activations.csv');

export interface Scene {
  args: string[];
  unchanged?: string[];
  absent?: string[];
}
export type Case = [name: string, scene: () => Scene, code: number, message: RegExp];

/** The experiment digest recomputed the way bn-repro computes it (sorted keys; jobs and seeds left out). */
export function forgedDigest(run: JsonObject): string {
  const canonical = (v: unknown): string =>
    Array.isArray(v)
      ? `[${v.map(canonical).join(',')}]`
      : typeof v === 'object' && v !== null
        ? `{${Object.keys(v)
            .sort()
            .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
            .join(',')}}`
        : JSON.stringify(v);
  const { jobs: _j, tensorboard: _t, seeds: _s, ...config } = run.config;
  return createHash('sha256')
    .update(canonical({ config, data: { source: run.data.source, train: run.data.train, test: run.data.test } }))
    .digest('hex');
}

/** Makes a folder look written before digests: none in run.json or the checkpoints. */
export function stripDigests(dir: string): void {
  editJson(runJson(dir), (v) => delete v.digest);
  for (const f of readdirSync(join(dir, 'checkpoints'))) {
    editCheckpoint(join(dir, 'checkpoints', f), (v) => {
      delete v.digest;
      delete v.rows;
    });
  }
}

/** One test per case: the CLI refuses with one sentence and touches nothing. */
export function runCases(prefix: string, cases: Case[]): void {
  for (const [name, scene, code, message] of cases) {
    test(`${prefix}: ${name}`, (t) => {
      const s = scene();
      const before = (s.unchanged ?? []).map(snapshot);
      const r = runCli(s.args, { timeoutMs: 120_000 });
      t.diagnostic(`exit ${r.code}: ${assertRefused(r, code, message)}`);
      (s.unchanged ?? []).forEach((dir, i) => assert.deepEqual(snapshot(dir), before[i], `${dir} changed`));
      for (const p of s.absent ?? []) assert.equal(existsSync(p), false, `${p} was created`);
    });
  }
}
