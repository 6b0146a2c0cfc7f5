/**
 * Combines run folders that hold disjoint runs of one experiment (the shards of a sweep) into one
 * run folder that plot, report and --resume accept. The configs must agree (jobs aside) and no run
 * may appear twice. Rows are written in the experiment's run order, then by step (and unit), so
 * the merged files do not depend on how the runs were spread.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCsv, readRunData, type RunData } from '../analysis/run-data.js';
import { CHECKPOINT_DIR } from './checkpoint.js';
import { runsOf } from '../runs.js';
import { UserError } from '../errors.js';
import { ACCURACY_CSV, ACTIVATIONS_CSV } from './recorders.js';
import type { RunSummary } from './records.js';
import { RUN_JSON, prepareRunDir, writeJsonAtomic } from './run-folder.js';

const comparable = (d: RunData) => JSON.stringify({ ...d.config, jobs: 0 });

/** Sorts CSV rows by (run order, step, unit) and joins them under one header. */
function mergedCsv(dirs: string[], name: string, order: Map<string, number>): string {
  const parts = dirs.map((d) => parseCsv(readFileSync(join(d, name), 'utf8')));
  const header = parts[0].header;
  if (parts.some((p) => p.header.join(',') !== header.join(','))) throw new UserError(`The ${name} files have different columns; they are not from one experiment.`);
  const [arm, seed, step, unit] = ['arm', 'seed', 'step', 'unit'].map((c) => header.indexOf(c));
  const rank = (r: string[]) => [order.get(`${r[arm]}/${r[seed]}`) ?? Infinity, Number(r[step]), unit >= 0 ? Number(r[unit]) : 0];
  const rows = parts.flatMap((p) => p.rows);
  rows.sort((a, b) => {
    const [x, y] = [rank(a), rank(b)];
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
  });
  return [header, ...rows].map((r) => `${r.join(',')}\n`).join('');
}

export function mergeRunFolders(dirs: string[], outDir: string): { dir: string; runs: number; status: string } {
  if (dirs.length < 1) throw new UserError('merge needs at least one run folder.');
  const parts = dirs.map(readRunData);
  const first = parts[0];
  for (const p of parts.slice(1)) {
    if (comparable(p) !== comparable(first)) throw new UserError(`${p.dir} was run with a different config than ${first.dir}; only shards of one experiment can be merged.`);
  }
  const owner = new Map<string, string>();
  for (const p of parts) {
    for (const key of p.runJson.planned ?? []) {
      if (owner.has(key)) throw new UserError(`The run ${key} is in both ${owner.get(key)} and ${p.dir}; merge each shard once.`);
      owner.set(key, p.dir);
    }
  }
  const dir = prepareRunDir(outDir);
  const order = new Map(runsOf(first.config).map((r, i) => [`${r.variant.name}/${r.seed}`, i]));
  for (const name of [ACCURACY_CSV, ACTIVATIONS_CSV]) writeFileSync(join(dir, name), mergedCsv(dirs, name, order));
  mkdirSync(join(dir, CHECKPOINT_DIR), { recursive: true });
  for (const p of parts) {
    const ck = join(p.dir, CHECKPOINT_DIR);
    if (existsSync(ck)) for (const f of readdirSync(ck).filter((n) => n.endsWith('.json'))) copyFileSync(join(ck, f), join(dir, CHECKPOINT_DIR, f));
  }
  const planned = [...owner.keys()].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
  const runs = parts.flatMap((p) => p.runJson.runs ?? []).sort((a: RunSummary, b: RunSummary) => (order.get(`${a.arm}/${a.seed}`) ?? 0) - (order.get(`${b.arm}/${b.seed}`) ?? 0));
  const allPlanned = runsOf(first.config).length;
  const complete = runs.length === planned.length && planned.length === allPlanned && runs.every((r) => !r.interrupted);
  const status = !complete ? 'incomplete' : runs.some((r) => r.divergedAtStep !== undefined) ? 'diverged' : 'finished';
  const { shard: _shard, ...base } = first.runJson;
  writeJsonAtomic(join(dir, RUN_JSON), { ...base, status, planned, runs, mergedFrom: dirs, mergedAt: new Date().toISOString() });
  return { dir, runs: runs.length, status };
}
