/**
 * Combines run folders that hold disjoint runs of one experiment (the shards of a sweep, or runs
 * of other seeds) into one run folder that plot, report and --resume accept. The configs must
 * agree (jobs and seeds aside; the merged seeds are the union) and no run may appear twice. Rows
 * are written in the experiment's run order, then by step (and unit), so the merged files do not
 * depend on how the runs were spread. Each folder is read and checked whole first (folder-data.ts:
 * digests, checkpoints, every row), so no damaged, duplicated or non-finite row is copied. The
 * folder is built under a temporary name and renamed into place at the end: a failed merge leaves
 * nothing behind.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { readRunData, type RunData } from './folder-data.js';
import { folderCsvs } from './folder-files.js';
import { CHECKPOINT_DIR } from './checkpoint.js';
import { runsOf } from '../config/runs.js';
import { UserError, onFile } from '../core/errors.js';
import type { RunSummary } from '../training/records.js';
import { activeLock } from './lock.js';
import { RUN_JSON, prepareRunDir, refuseUsedDir, writeJsonAtomic } from './run-folder.js';
import { copyRunEvents } from './tensorboard/files.js';

// Keys that change no result (jobs, tensorboard, lockstep) may differ between the parts, as the digest lets them.
const comparable = (d: RunData) => JSON.stringify({ ...d.config, jobs: 0, tensorboard: 'on', lockstep: 'auto', seeds: [] });

/**
 * One CSV of the merged folder: each part's checked rows (already in run order, then step, then
 * unit), parts taken in the order of their first run, so the rows of disjoint runs stay ordered.
 */
function mergedCsv(parts: RunData[], name: string, columns: string[], order: Map<string, number>): string {
  const firstRun = (p: RunData) => Math.min(...(p.planned ?? []).map((k) => order.get(k) ?? Infinity));
  const rows = [...parts].sort((a, b) => firstRun(a) - firstRun(b)).flatMap((p) => p.csvs?.get(name)?.rows ?? []);
  const [arm, seed] = ['arm', 'seed'].map((c) => columns.indexOf(c));
  const rank = (r: string[]) => order.get(`${r[arm]}/${r[seed]}`) ?? Infinity;
  // A stable sort by run keeps each run's rows in their checked (step, unit) order.
  rows.sort((a, b) => rank(a) - rank(b));
  return [columns, ...rows].map((r) => `${r.join(',')}\n`).join('');
}

/**
 * `alongside`: names that may already be in `outDir` and stay there (the slurm/ folder of a
 * `sweep --slurm` whose merged results land beside it); anything else there is refused.
 */
export function mergeRunFolders(dirs: string[], outDir: string, alongside: string[] = []): { dir: string; runs: number; status: string } {
  if (dirs.length < 1) throw new UserError('merge needs at least one run folder.');
  for (const d of dirs) {
    const holder = activeLock(d);
    if (holder) throw new UserError(`${d} is being written by ${holder}; merge it once it has ended.`);
  }
  const parts = dirs.map(readRunData);
  const first = parts[0];
  for (const p of parts.slice(1)) {
    if (comparable(p) !== comparable(first) || p.digest !== first.digest)
      throw new UserError(`${p.dir} was run with a different config than ${first.dir}; only runs of one experiment can be merged.`);
  }
  const owner = new Map<string, string>();
  for (const p of parts) {
    for (const key of p.planned ?? []) {
      if (owner.has(key)) throw new UserError(`The run ${key} is in both ${owner.get(key)} and ${p.dir}; merge each shard once.`);
      owner.set(key, p.dir);
    }
  }
  const seeds = [...new Set(parts.flatMap((p) => p.config.seeds))].sort((a, b) => a - b);
  const config = { ...first.config, seeds };
  const order = new Map(runsOf(config).map((r, i) => [`${r.variant.name}/${r.seed}`, i]));
  const planned = [...owner.keys()].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
  const runs = parts
    .flatMap((p) => p.runJson.runs ?? [])
    .sort((a: RunSummary, b: RunSummary) => (order.get(`${a.arm}/${a.seed}`) ?? 0) - (order.get(`${b.arm}/${b.seed}`) ?? 0));
  const complete = runs.length === planned.length && planned.length === order.size && runs.every((r) => !r.interrupted);
  const status = !complete ? 'incomplete' : runs.some((r) => r.divergedAtStep !== undefined) ? 'diverged' : 'finished';
  const { shard: _shard, ...base } = first.runJson;

  const dir = resolve(outDir);
  const present = existsSync(dir) && alongside.length > 0 ? readdirSync(dir) : [];
  if (present.some((n) => !alongside.includes(n)) || present.length === 0) refuseUsedDir(outDir);
  const temp = prepareRunDir(join(dirname(dir), `.${basename(dir)}.merging-${process.pid}`));
  try {
    for (const { name, columns } of folderCsvs(config)) onFile(join(dir, name), () => writeFileSync(join(temp, name), mergedCsv(parts, name, columns, order)));
    mkdirSync(join(temp, CHECKPOINT_DIR));
    for (const p of parts) {
      const ck = join(p.dir, CHECKPOINT_DIR);
      if (existsSync(ck))
        for (const f of readdirSync(ck).filter((n) => n.endsWith('.json')))
          copyNamingOut(join(ck, f), join(temp, CHECKPOINT_DIR, f), join(dir, CHECKPOINT_DIR, f));
      copyRunEvents(p.dir, temp, p.planned ?? []);
    }
    // The digest leaves seeds out, so the parts' common digest is the merged folder's too, over the
    // config as the parts hold it (a key added to bn-repro since is not in it).
    writeJsonAtomic(join(temp, RUN_JSON), {
      ...base,
      config: { ...(first.savedConfig ?? config), seeds },
      seeds,
      status,
      planned,
      runs,
      ...(first.digest ? { digest: first.digest } : {}),
      mergedFrom: dirs,
      mergedAt: new Date().toISOString(),
    });
    if (present.length > 0) {
      // Beside what is kept: each entry renamed in, run.json last, so the folder is a run only when whole.
      const entries = readdirSync(temp).sort((a, b) => Number(a === RUN_JSON) - Number(b === RUN_JSON));
      for (const e of entries) renameSync(join(temp, e), join(dir, e));
      rmdirSync(temp);
    } else {
      // An empty --out folder may already exist (refuseUsedDir allows it): make way for the rename.
      if (existsSync(dir)) rmdirSync(dir);
      renameSync(temp, dir);
    }
  } catch (err) {
    rmSync(temp, { recursive: true, force: true });
    throw err;
  }
  return { dir, runs: runs.length, status };
}

/** copyFileSync whose error names `shown` (the file's place in --out), not the temp folder it was going to. */
function copyNamingOut(from: string, to: string, shown: string): void {
  try {
    copyFileSync(from, to);
  } catch (err) {
    throw Object.assign(err as Error, { dest: shown });
  }
}
