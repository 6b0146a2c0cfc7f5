/**
 * What `--resume <run dir>` continues: which runs have ended (their summary is kept), which go on
 * from a checkpoint, which restart from step 0; and the CSV rows to keep so that the resumed
 * files equal those of an uninterrupted run: rows of ended runs, rows up to each checkpoint, and
 * never a partial last line. The folder is checked whole first (folder-trust.ts), so a row of a
 * run that has ended is never dropped, and nothing is trimmed from a folder whose parts disagree.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkpointPath, isEnded } from './checkpoint.js';
import type { RunCheckpoint } from '../training/checkpoint-state.js';
import { modelParameterSizes } from '../model/model.js';
import type { ResolvedConfig } from '../config/config.js';
import { hiddenUnitsOfArm, runsOf } from '../config/runs.js';
import type { RunSpec } from '../training/records.js';
import type { RunSummary } from '../training/records.js';
import { folderCsvs } from './folder-files.js';
import { readTrustedCsvs, readTrustedFolder, type TrustedFolder } from './folder-trust.js';
import type { RunJson } from './schemas.js';
import { dataIdentityOf, type DataIdentity } from './digest.js';
import { writeFileAtomic } from './run-folder.js';
import { UserError } from '../core/errors.js';

export interface ResumePlan {
  runJson: RunJson;
  folder: TrustedFolder;
  specs: RunSpec[];
  finished: RunSummary[];
  /** "arm/seed" -> last step whose rows are kept (Infinity: all of an ended run's rows). */
  keepUpTo: Map<string, number>;
}

export function planResume(runDir: string): ResumePlan {
  const folder = readTrustedFolder(runDir);
  const { config, runJson } = folder;
  // Without a digest nothing shows that the checkpoints were made with this config: refused, not guessed.
  if (folder.digest === undefined) {
    throw new UserError(
      `${runDir} was written by an earlier bn-repro, without the digest that ties its checkpoints to its config, so it cannot be resumed safely; report and plot still read it.`,
    );
  }
  const plan: ResumePlan = { runJson, folder, specs: [], finished: [], keepUpTo: new Map() };
  for (const { variant, seed } of runsOf(config)) {
    const key = `${variant.name}/${seed}`;
    if (!folder.planned.includes(key)) continue;
    const ckpt = folder.checkpoints.get(key);
    if (ckpt && isEnded(ckpt)) {
      plan.finished.push(ckpt.summary);
      plan.keepUpTo.set(key, Infinity);
    } else if (ckpt && 'params' in ckpt) {
      checkShapes(runDir, config, variant.bn, ckpt);
      plan.specs.push({ variant, seed, resume: ckpt });
      plan.keepUpTo.set(key, ckpt.step);
    } else {
      plan.specs.push({ variant, seed });
      plan.keepUpTo.set(key, -1);
    }
  }
  const missing = runsOf(config)
    .map((r) => `${r.variant.name}/${r.seed}`)
    .filter((k) => !folder.planned.includes(k));
  if (plan.specs.length === 0 && runJson.mergedFrom !== undefined && missing.length > 0) {
    throw new UserError(
      `${runDir} is a merge that lacks the runs ${missing.join(', ')}, which --resume cannot train: merge it with the folders that hold them (bn-repro merge ${runDir} <their folders> --out DIR).`,
    );
  }
  return plan;
}

/** A checkpoint whose tensors do not fit the saved config's net (an edited run.json) is refused up front. */
function checkShapes(runDir: string, config: ResolvedConfig, bn: boolean, ckpt: RunCheckpoint): void {
  const hiddenUnits = hiddenUnitsOfArm(config, ckpt.arm);
  const sizes = modelParameterSizes(config, bn, hiddenUnits);
  const saved = ckpt.params.map((p) => Buffer.from(p, 'base64').length / Float32Array.BYTES_PER_ELEMENT);
  if (saved.join() !== sizes.join()) {
    throw new UserError(
      `The checkpoint ${checkpointPath(runDir, ckpt.arm, ckpt.seed)} does not match the network in ${join(runDir, 'run.json')} (hiddenUnits ${JSON.stringify(hiddenUnits)}); one of the two was edited.`,
    );
  }
}

/**
 * Before anything is modified: every CSV row is checked (csv-reader.ts) and the rows on disk must
 * be exactly those the checkpoints say were written. A deleted, edited or duplicated row is one
 * sentence naming the file, and the folder stays as it was.
 */
export function checkRowsAgree(_runDir: string, plan: ResumePlan): void {
  readTrustedCsvs(plan.folder, true);
}

/** The data loaded to resume must be the data the run trained on (source `auto` may now find other MNIST). */
export function checkSameData(plan: ResumePlan, loaded: DataIdentity): void {
  const saved = dataIdentityOf(plan.runJson.data);
  if (saved && (saved.source !== loaded.source || saved.train !== loaded.train || saved.test !== loaded.test)) {
    throw new UserError(
      `${plan.folder.dir} trained on ${saved.source} MNIST (${saved.train} / ${saved.test} examples), but the data found now is ${loaded.source} (${loaded.train} / ${loaded.test}); resume it where that data is.`,
    );
  }
}

/** A CSV's complete lines: a last line without its newline was cut by a crash mid-write. */
function completeLines(path: string): string[] | undefined {
  if (!existsSync(path)) return undefined;
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.pop();
  return lines;
}

/**
 * Rewrites each CSV (temp file + rename) keeping only the rows the plan keeps. A file that is
 * missing or empty (a disk that filled before its header was written) gets its header back.
 */
export function trimCsvs(runDir: string, plan: ResumePlan): void {
  for (const { name, columns } of folderCsvs(plan.runJson.config)) {
    const path = join(runDir, name);
    const [, ...rows] = completeLines(path) ?? [];
    const [armAt, seedAt, stepAt] = ['arm', 'seed', 'step'].map((c) => columns.indexOf(c));
    const kept = rows.filter((line) => {
      const cells = line.split(',');
      const limit = plan.keepUpTo.get(`${cells[armAt]}/${cells[seedAt]}`);
      // Every row was checked to belong to a planned run; one that does not is kept, never dropped.
      return limit === undefined || Number(cells[stepAt]) <= limit;
    });
    writeFileAtomic(path, [columns.join(','), ...kept].map((l) => `${l}\n`).join(''));
  }
}
