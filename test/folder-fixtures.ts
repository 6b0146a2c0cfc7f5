/**
 * Shared by the robustness-folder tests (issue 17, families 1, 3, 4, 8, 9): the template folders
 * (int1 of the issue, scaled down: a run SIGTERMed once the baseline has finished and the BN run
 * has checkpointed; the same run uninterrupted; int1 again at --lr 0.2), the edits a user or a
 * tool makes to a copy of one, and the runner that checks a refusal: exit code, exactly one
 * `error:` line naming the part, no stack trace, the folders byte for byte unchanged.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { editJson, editText, snapshot, type JsonObject } from './folder-helpers.js';
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

/** The two templates both robustness-folder files edit copies of: the uninterrupted run and int1. */
export async function templateFolders(): Promise<{ reference: string; killed: string }> {
  return { reference: finishedRun('reference'), killed: await interruptedRun('int1') };
}

/** Edits a checkpoint and recomputes its checksum, as a tool that knows the format would. */
export const editCheckpoint = (path: string, edit: (v: JsonObject) => void) =>
  editJson(path, (v) => {
    delete v.sha256;
    edit(v);
    v.sha256 = createHash('sha256').update(JSON.stringify(v)).digest('hex');
  });
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

/** The experiment digest recomputed the way bn-repro computes it (sorted keys; jobs, tensorboard, lockstep and seeds left out). */
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
  const { jobs: _j, tensorboard: _t, lockstep: _l, deviceResident: _d, seeds: _s, ...config } = run.config;
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
