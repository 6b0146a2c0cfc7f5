/**
 * What `--resume <run dir>` continues: which runs have ended (their summary is kept), which go on
 * from a checkpoint, which restart from step 0; and the CSV rows to keep so that the resumed
 * files equal those of an uninterrupted run: rows of ended runs, rows up to each checkpoint, and
 * never a partial last line.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isEnded, readCheckpoints } from './checkpoint.js';
import type { ResolvedConfig } from '../config.js';
import { runsOf } from '../runs.js';
import type { RunSpec } from './parallel.js';
import type { RunSummary } from './records.js';
import { ACCURACY_CSV, ACTIVATIONS_CSV } from './recorders.js';
import { readRunJson } from './run-folder.js';

export interface ResumePlan {
  runJson: Record<string, unknown> & { config: ResolvedConfig; seeds: number[] };
  specs: RunSpec[];
  finished: RunSummary[];
  /** "arm/seed" -> last step whose rows are kept (Infinity: all of an ended run's rows). */
  keepUpTo: Map<string, number>;
}

export function planResume(runDir: string): ResumePlan {
  const { runJson, config } = readRunJson(runDir) as { runJson: ResumePlan['runJson']; config: ResolvedConfig };
  const checkpoints = readCheckpoints(runDir);
  const plan: ResumePlan = { runJson: { ...runJson, config }, specs: [], finished: [], keepUpTo: new Map() };
  // Only the runs this folder was planned to hold (a shard holds a share of the experiment's).
  const planned = new Set(Array.isArray(runJson.planned) ? (runJson.planned as string[]) : runsOf(config).map((r) => `${r.variant.name}/${r.seed}`));
  for (const { variant, seed } of runsOf(config)) {
    const key = `${variant.name}/${seed}`;
    if (!planned.has(key)) continue;
    const ckpt = checkpoints.get(key);
    if (ckpt && isEnded(ckpt)) {
      plan.finished.push(ckpt.summary);
      plan.keepUpTo.set(key, Infinity);
    } else if (ckpt && 'params' in ckpt) {
      plan.specs.push({ variant, seed, resume: ckpt });
      plan.keepUpTo.set(key, ckpt.step);
    } else {
      plan.specs.push({ variant, seed });
      plan.keepUpTo.set(key, -1);
    }
  }
  return plan;
}

/** Rewrites each CSV (temp file + rename) keeping only the rows the plan keeps. */
export function trimCsvs(runDir: string, plan: ResumePlan): void {
  for (const name of [ACCURACY_CSV, ACTIVATIONS_CSV]) {
    const path = join(runDir, name);
    if (!existsSync(path)) continue;
    const text = readFileSync(path, 'utf8');
    // A line without its newline was cut by a crash mid-write: drop it.
    const lines = text.split('\n');
    lines.pop();
    const [header, ...rows] = lines;
    if (header === undefined) continue;
    const cols = header.split(',');
    const [armAt, seedAt, stepAt] = ['arm', 'seed', 'step'].map((c) => cols.indexOf(c));
    const kept = rows.filter((line) => {
      const cells = line.split(',');
      if (cells.length !== cols.length) return false;
      const limit = plan.keepUpTo.get(`${cells[armAt]}/${cells[seedAt]}`) ?? -1;
      return Number(cells[stepAt]) <= limit;
    });
    const temp = `${path}.tmp-${process.pid}`;
    writeFileSync(temp, [header, ...kept].map((l) => `${l}\n`).join(''));
    renameSync(temp, path);
  }
}
