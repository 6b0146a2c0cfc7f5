/**
 * What `--resume <run dir>` continues: which runs have ended (their summary is kept), which go on
 * from a checkpoint, which restart from step 0; and the CSV rows to keep so that the resumed
 * files equal those of an uninterrupted run: rows of ended runs, rows up to each checkpoint, and
 * never a partial last line.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkpointPath, isEnded, readCheckpoints, type RunCheckpoint } from './checkpoint.js';
import { CLASSES, IMAGE_PIXELS } from '../data/dataset.js';
import { parameterSizes } from '../model/net.js';
import type { ResolvedConfig } from '../config.js';
import { runsOf } from '../runs.js';
import type { RunSpec } from './parallel.js';
import type { RunSummary } from './records.js';
import { ACCURACY_COLUMNS, ACCURACY_CSV, ACTIVATIONS_CSV, activationColumns } from './recorders.js';
import { measurementFiles } from './measurement-csv.js';
import { measuresAt } from '../measure/probe.js';
import { readRunJson, writeFileAtomic } from './run-folder.js';
import { checkHeader } from './schemas.js';
import { UserError } from '../errors.js';

export interface ResumePlan {
  runJson: Record<string, unknown> & { config: ResolvedConfig; seeds: number[] };
  specs: RunSpec[];
  finished: RunSummary[];
  /** "arm/seed" -> last step whose rows are kept (Infinity: all of an ended run's rows). */
  keepUpTo: Map<string, number>;
  /** "arm/seed" -> the last step whose rows must already be on disk, and whether the run ended there. */
  onDisk: Map<string, { step: number; ended: boolean }>;
}

export function planResume(runDir: string): ResumePlan {
  const { runJson, config } = readRunJson(runDir) as { runJson: ResumePlan['runJson']; config: ResolvedConfig };
  const checkpoints = readCheckpoints(runDir);
  const plan: ResumePlan = { runJson: { ...runJson, config }, specs: [], finished: [], keepUpTo: new Map(), onDisk: new Map() };
  // Only the runs this folder was planned to hold (a shard holds a share of the experiment's).
  const planned = new Set(Array.isArray(runJson.planned) ? (runJson.planned as string[]) : runsOf(config).map((r) => `${r.variant.name}/${r.seed}`));
  for (const { variant, seed } of runsOf(config)) {
    const key = `${variant.name}/${seed}`;
    if (!planned.has(key)) continue;
    const ckpt = checkpoints.get(key);
    if (ckpt && isEnded(ckpt)) {
      plan.finished.push(ckpt.summary);
      plan.keepUpTo.set(key, Infinity);
      plan.onDisk.set(key, { step: ckpt.summary.divergedAtStep ?? ckpt.summary.steps, ended: true });
    } else if (ckpt && 'params' in ckpt) {
      checkShapes(runDir, config, variant.bn, ckpt);
      plan.specs.push({ variant, seed, resume: ckpt });
      plan.keepUpTo.set(key, ckpt.step);
      plan.onDisk.set(key, { step: ckpt.step, ended: false });
    } else {
      plan.specs.push({ variant, seed });
      plan.keepUpTo.set(key, -1);
    }
  }
  return plan;
}

/** A checkpoint whose tensors do not fit the saved config's net (an edited run.json) is refused up front. */
function checkShapes(runDir: string, config: ResolvedConfig, bn: boolean, ckpt: RunCheckpoint): void {
  const sizes = parameterSizes({ inputSize: IMAGE_PIXELS, hiddenUnits: config.model.hiddenUnits, classes: CLASSES }, bn);
  const saved = ckpt.params.map((p) => Buffer.from(p, 'base64').length / Float32Array.BYTES_PER_ELEMENT);
  if (saved.join() !== sizes.join()) {
    throw new UserError(`The checkpoint ${checkpointPath(runDir, ckpt.arm, ckpt.seed)} does not match the network in ${join(runDir, 'run.json')} (hiddenUnits ${JSON.stringify(config.model.hiddenUnits)}); one of the two was edited.`);
  }
}

/** A CSV's complete lines: a last line without its newline was cut by a crash mid-write. */
function completeLines(path: string): string[] | undefined {
  if (!existsSync(path)) return undefined;
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.pop();
  return lines;
}

/** The evaluation steps a run writes up to `end` (Sec. 4.1 protocol: 0, every N, the last step). */
function evalStepsUpTo(config: ResolvedConfig, end: number, ended: boolean): number[] {
  const steps = new Set<number>([0]);
  for (let s = config.eval.every; s <= Math.min(end, config.train.steps); s += config.eval.every) steps.add(s);
  if (ended || end === config.train.steps) steps.add(end);
  return [...steps].sort((a, b) => a - b);
}

/**
 * Before anything is modified: the rows on disk must be exactly those the checkpoints say were
 * written (every evaluation up to each checkpoint, once, with every recorded unit). A deleted,
 * truncated or duplicated file is one sentence naming it, and the folder stays as it was.
 */
export function checkRowsAgree(runDir: string, plan: ResumePlan): void {
  const { config } = plan.runJson;
  // Every evaluation writes accuracy and activation rows; the measurement files only some (measuresAt).
  const files = [
    { name: ACCURACY_CSV, columns: ACCURACY_COLUMNS, perStep: 1, written: (_step: number) => true },
    { name: ACTIVATIONS_CSV, columns: activationColumns(config.eval.percentiles), perStep: config.eval.units.length, written: (_step: number) => true },
    ...measurementFiles(config).map((f) => ({ ...f, written: (step: number) => measuresAt(config, step) })),
  ];
  for (const { name, columns, perStep, written } of files) {
    const path = join(runDir, name);
    const lines = completeLines(path);
    const needed = plan.onDisk.size > 0;
    if (lines === undefined || lines.length === 0) {
      if (needed) throw new UserError(`${path} is missing or empty, but the checkpoints say rows were written; the run folder is damaged.`);
      continue;
    }
    checkHeader(path, lines[0].split(','), columns);
    const counts = new Map<string, number>();
    for (const line of lines.slice(1)) {
      const [arm, seed, step] = line.split(',');
      const k = `${arm}/${seed}/${step}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    for (const [key, { step: end, ended }] of plan.onDisk) {
      for (const step of evalStepsUpTo(config, end, ended).filter(written)) {
        const n = counts.get(`${key}/${step}`) ?? 0;
        if (n !== perStep) {
          const [arm, seed] = key.split('/');
          throw new UserError(`${path} holds ${n} rows for ${arm} seed ${seed} at step ${step}, but its checkpoint says ${perStep} were written; the run folder is damaged.`);
        }
      }
    }
  }
}

/** Rewrites each CSV (temp file + rename) keeping only the rows the plan keeps. */
export function trimCsvs(runDir: string, plan: ResumePlan): void {
  for (const name of [ACCURACY_CSV, ACTIVATIONS_CSV, ...measurementFiles(plan.runJson.config).map((f) => f.name)]) {
    const path = join(runDir, name);
    const lines = completeLines(path);
    if (lines === undefined) continue;
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
    writeFileAtomic(path, [header, ...kept].map((l) => `${l}\n`).join(''));
  }
}
