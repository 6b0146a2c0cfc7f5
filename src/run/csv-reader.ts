/**
 * The one reader of a run folder's CSVs, used by report, plot, merge and --resume: every row is
 * checked against the folder's config before a number is used. Keys (arm, seed, step and, per
 * file, layer or unit) must be unique and name a run the folder holds; steps must lie on the
 * evaluation schedule; every row a run wrote must be there; values must be numbers in their
 * column's range, with nan/inf only at the step where the run's recorded divergence happened.
 * Anything else is one sentence naming the file, the line and the column.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig } from '../config/config.js';
import { UserError } from '../core/errors.js';
import { COSINE_SLACK, type FolderCsv, type ValueRange } from './folder-files.js';
import { evalStepsUpTo } from '../config/schedule.js';
import { checkHeader } from './schemas.js';
import { regularFileText } from './run-folder.js';

/** What the folder says about one run ("arm/seed"): the rows it must hold. */
export interface RunRowsExpected {
  /** Every scheduled row up to this step must be present (-1: none need be). */
  upTo: number;
  /** The run has ended at `upTo`: nothing after it. Else later rows (to be trimmed) may follow. */
  ended: boolean;
  /** The step of a recorded divergence: the only one where nan and inf are allowed. */
  divergedAt?: number;
}

export interface CsvContext {
  dir: string;
  config: ResolvedConfig;
  arms: string[];
  seeds: number[];
  runs: Map<string, RunRowsExpected>;
  /** --resume drops a last line cut by a crash (it rewrites the file); readers refuse it. */
  resuming: boolean;
}

export interface CheckedCsv {
  path: string;
  header: string[];
  rows: string[][];
  /** Each run's lines, with their steps: what checkpoints' row digests cover. */
  linesByRun: Map<string, { step: number; line: string }[]>;
}

const INTEGER = /^(0|[1-9]\d*)$/;
const NUMBER = /^-?\d+(\.\d+)?(e[+-]?\d+)?$/;
const NON_FINITE = new Set(['nan', 'inf', '-inf']);

/** Why `text` does not belong in a column of `range` (undefined when it does). */
function valueProblem(text: string, range: ValueRange, mayDiverge: boolean): string | undefined {
  if (NON_FINITE.has(text)) return mayDiverge && range !== 'seconds' ? undefined : 'but nan and inf are written only where a divergence is recorded';
  if (!NUMBER.test(text)) return 'not a number';
  const v = Number(text);
  if (!Number.isFinite(v)) return 'not a finite number';
  if (range === 'probability' && (v < 0 || v > 1)) return 'outside [0, 1]';
  if ((range === 'nonNegative' || range === 'seconds') && v < 0) return 'below 0';
  if (range === 'cosine' && Math.abs(v) > 1 + COSINE_SLACK) return 'outside [-1, 1]';
  return undefined;
}

/** The lines of `path`; a cut last line is dropped when resuming, else refused. */
function linesOf(path: string, resuming: boolean): string[] | undefined {
  if (!existsSync(path)) return undefined;
  const lines = regularFileText(path).split('\n');
  const last = lines.pop();
  if (last !== '' && !resuming) throw new UserError(`${path} is damaged: its last line is cut off (a run still writing, or a crash); resume or re-run it.`);
  return lines;
}

/** Reads `file` of the folder and checks every row; undefined when it is absent and no row is needed. */
export function readFolderCsv(file: FolderCsv, ctx: CsvContext): CheckedCsv | undefined {
  const path = join(ctx.dir, file.name);
  const lines = linesOf(path, ctx.resuming);
  const needed = [...ctx.runs.values()].some((r) => r.upTo >= 0);
  if (lines === undefined || lines.length === 0) {
    if (!needed) return undefined;
    throw new UserError(
      ctx.resuming
        ? `${path} is missing or empty, but the checkpoints say rows were written; the run folder is damaged.`
        : `${ctx.dir} has no ${file.name} with rows; is it a finished bn-repro run folder?`,
    );
  }
  const header = lines[0].split(',');
  checkHeader(path, header, file.columns);
  const at = (c: string) => header.indexOf(c);
  const [armAt, seedAt, stepAt] = [at('arm'), at('seed'), at('step')];
  const subAt = file.subKeyColumns.map(at);
  const valueColumns = Object.entries(file.ranges).map(([c, range]) => ({ c, range, i: at(c) }));
  const seen = new Map<string, number>();
  const linesByRun = new Map<string, { step: number; line: string }[]>();
  const rows: string[][] = [];
  const schedules = new Map<string, Set<number>>();
  // An ended run writes up to its end; one still going may have written any step of the protocol.
  const scheduleOf = (key: string, run: RunRowsExpected) => {
    if (!schedules.has(key))
      schedules.set(key, new Set(run.ended ? evalStepsUpTo(ctx.config, run.upTo, true) : evalStepsUpTo(ctx.config, ctx.config.train.steps, false)));
    return schedules.get(key)!;
  };
  if (lines.length === 1 && needed && !ctx.resuming) throw new UserError(`${ctx.dir} holds no results (its ${file.name} has no rows).`);
  lines.slice(1).forEach((line, i) => {
    const n = i + 2;
    const bad = (why: string) => new UserError(`${path} is damaged: line ${n}${why}.`);
    if (line.endsWith('\r')) throw bad(' ends in a carriage return (CRLF line endings; bn-repro writes plain newlines)');
    const cells = line.split(',');
    if (cells.length !== header.length) throw bad(` has ${cells.length} cells, the header ${header.length}`);
    const cellBad = (col: number, why: string) => bad(`, column ${header[col]} holds ${JSON.stringify(cells[col])}, ${why}`);
    const [arm, seedText, stepText] = [cells[armAt], cells[seedAt], cells[stepAt]];
    if (!ctx.arms.includes(arm)) throw cellBad(armAt, `not a network of this run (${ctx.arms.join(', ')})`);
    if (!INTEGER.test(seedText) || !ctx.seeds.includes(Number(seedText))) throw cellBad(seedAt, `not a seed of this run (${ctx.seeds.join(', ')})`);
    const key = `${arm}/${seedText}`;
    const run = ctx.runs.get(key);
    if (!run) throw bad(` holds a row of ${arm} seed ${seedText}, a run this folder does not hold`);
    if (!INTEGER.test(stepText)) throw cellBad(stepAt, 'not a step');
    const step = Number(stepText);
    if (!scheduleOf(key, run).has(step) || !file.writtenAt(step)) throw cellBad(stepAt, `not a step at which ${arm} seed ${seedText} writes to ${file.name}`);
    for (const j of subAt) if (!INTEGER.test(cells[j])) throw cellBad(j, 'not an index');
    const sub = subAt.map((j) => cells[j]).join('/');
    if (!file.subKeysOf(arm).includes(sub)) throw bad(`, ${file.subKeyColumns.join('/')} ${sub} is not one this run records`);
    const rowKey = `${key}/${step}/${sub}`;
    const first = seen.get(rowKey);
    if (first !== undefined)
      throw new UserError(
        `${path} holds 2 rows for ${arm} seed ${seedText} at step ${step}${sub ? ` (${file.subKeyColumns.join('/')} ${sub})` : ''}: lines ${first} and ${n}; the run folder is damaged.`,
      );
    seen.set(rowKey, n);
    const mayDiverge = run.divergedAt === step;
    for (const { c, range, i: j } of valueColumns) {
      // No training loss before the first step: the recorder leaves that cell empty, and only that one.
      if (c === 'train_loss' && (step === 0) !== (cells[j] === '')) throw cellBad(j, step === 0 ? 'but step 0 has no training loss yet' : 'not a number');
      if (c === 'train_loss' && step === 0) continue;
      const problem = valueProblem(cells[j], range, mayDiverge);
      if (problem) throw cellBad(j, problem);
    }
    rows.push(cells);
    if (!linesByRun.has(key)) linesByRun.set(key, []);
    linesByRun.get(key)!.push({ step, line });
  });
  checkComplete(path, file, ctx, seen);
  return { path, header, rows, linesByRun };
}

/** Every row each run has written (by the folder's own account) is present. */
function checkComplete(path: string, file: FolderCsv, ctx: CsvContext, seen: Map<string, number>): void {
  for (const [key, run] of ctx.runs) {
    if (run.upTo < 0) continue;
    const [arm, seed] = key.split('/');
    for (const step of evalStepsUpTo(ctx.config, run.upTo, run.ended).filter(file.writtenAt)) {
      for (const sub of file.subKeysOf(arm)) {
        if (!seen.has(`${key}/${step}/${sub}`)) {
          throw new UserError(
            `${path} holds 0 rows for ${arm} seed ${seed} at step ${step}${sub ? ` (${file.subKeyColumns.join('/')} ${sub})` : ''}, where the run wrote one; the run folder is damaged.`,
          );
        }
      }
    }
  }
}
