/**
 * Recorders that write: accuracy.csv and activations.csv (schemas in the README), and progress
 * on the terminal (a bar per run) or, when stderr is not a terminal, one log line per evaluation.
 * Rows are appended synchronously by the one writer thread; a failed append leaves the file whole.
 */
import { createObjectCsvStringifier } from 'csv-writer';
import { MultiBar, Presets, SingleBar } from 'cli-progress';
import { appendFileSync, closeSync, existsSync, fsyncSync, openSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { namingFile, onFile } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { writeFileAtomic } from './run-folder.js';
import type { ActivationRecord, EvalRecord, Recorder, RunId, RunSummary } from '../training/records.js';

export const ACCURACY_CSV = 'accuracy.csv';
export const ACTIVATIONS_CSV = 'activations.csv';

export const ACCURACY_COLUMNS = ['arm', 'seed', 'step', 'train_loss', 'test_loss', 'test_accuracy', 'elapsed_s'];

/** Column names of activations.csv for the configured percentiles (15 -> p15, 2.5 -> p2.5). */
export function activationColumns(ps: number[]): string[] {
  return ['arm', 'seed', 'step', 'layer', 'unit', ...ps.map((p) => `p${p}`), 'mean', 'std'];
}

/**
 * null (no value yet, e.g. the training loss at step 0) is an empty cell; a diverged value is
 * nan / inf / -inf (as pandas and NumPy read them). Values computed in float32 are written with
 * 9 significant digits, which round-trip any float32 exactly.
 */
export function cell(v: number | null): string | number {
  if (v === null) return '';
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  return Number(v.toPrecision(9));
}

/** Forces written rows to disk, so a checkpoint never claims rows a crash could lose. */
export function fsyncFile(path: string): void {
  if (!existsSync(path)) return;
  onFile(path, () => {
    const fd = openSync(path, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  });
}

/** A CSV file's first line. */
export const csvHeaderLine = (cols: string[]): string => `${cols.join(',')}\n`;

export interface CsvAppender {
  writeRecords(records: Record<string, string | number>[]): void;
}

/**
 * A writer of whole rows to `path`. The header is written at once, atomically (a folder whose runs
 * never evaluate, e.g. an empty shard, still holds well-formed CSVs), unless `append` continues a
 * file that exists. An append that fails (a full disk) truncates the file back to its last whole
 * row and throws an error naming it: the file is as it was before the write.
 */
export function openCsv(path: string, cols: string[], append: boolean): CsvAppender {
  if (!(append && existsSync(path))) writeFileAtomic(path, csvHeaderLine(cols));
  const stringifier = createObjectCsvStringifier({ header: cols.map((c) => ({ id: c, title: c })) });
  let size = onFile(path, () => statSync(path).size);
  return {
    writeRecords: (records) => {
      const text = Buffer.from(stringifier.stringifyRecords(records));
      try {
        appendFileSync(path, text);
      } catch (err) {
        try {
          truncateSync(path, size);
        } catch {
          // the first error is the one to report; resume drops a cut last line anyway
        }
        throw namingFile(err, path);
      }
      size += text.length;
    },
  };
}

/** Appends whole rows to accuracy.csv and activations.csv; `append` continues existing files. */
export function csvRecorder(dir: string, ps: number[], append = false): Recorder {
  const paths = [join(dir, ACCURACY_CSV), join(dir, ACTIVATIONS_CSV)];
  const open = (path: string, cols: string[]) => openCsv(path, cols, append);
  const accuracy = open(paths[0], ACCURACY_COLUMNS);
  const activations = open(paths[1], activationColumns(ps));
  return {
    checkpoint: () => paths.forEach(fsyncFile),
    runFinished: () => paths.forEach(fsyncFile),
    evaluation: (r: EvalRecord, acts: ActivationRecord[]) => {
      accuracy.writeRecords([
        {
          arm: r.arm,
          seed: r.seed,
          step: r.step,
          train_loss: cell(r.trainLoss),
          test_loss: cell(r.testLoss),
          test_accuracy: cell(r.testAccuracy),
          elapsed_s: r.elapsedS.toFixed(3),
        },
      ]);
      activations.writeRecords(
        acts.map((a) => {
          const row: Record<string, string | number> = { arm: a.arm, seed: a.seed, step: a.step, layer: a.layer, unit: a.unit };
          ps.forEach((p, i) => (row[`p${p}`] = cell(a.percentiles[i])));
          row.mean = cell(a.mean);
          row.std = cell(a.std);
          return row;
        }),
      );
    },
    close: async () => paths.forEach(fsyncFile),
  };
}

const label = (run: RunId) => `${run.arm.padEnd(8)} seed ${run.seed}`;

/** A progress bar per run on a terminal; one line per evaluation otherwise. */
export function progressRecorder(logger: Logger, options: { tty: boolean; quiet: boolean }): Recorder {
  const bars = new Map<string, SingleBar>();
  const started = new Map<string, number>();
  const startSteps = new Map<string, number>();
  let multi: MultiBar | undefined;
  const key = (run: RunId) => `${run.arm}/${run.seed}`;
  const useBars = options.tty && !options.quiet;
  return {
    runStarted: (run, total, from) => {
      if (!useBars) return;
      multi ??= new MultiBar(
        {
          format: '{label} [{bar}] {value}/{total} steps | {speed} steps/s | ETA {eta_formatted} | test acc {acc}',
          hideCursor: true,
          clearOnComplete: false,
          stream: process.stderr,
        },
        Presets.shades_classic,
      );
      started.set(key(run), Date.now());
      startSteps.set(key(run), from);
      bars.set(key(run), multi.create(total, from, { label: label(run), speed: '-', acc: '-' }));
    },
    stepDone: (run, step) => {
      const bar = bars.get(key(run));
      if (!bar) return;
      const elapsed = (Date.now() - (started.get(key(run)) ?? Date.now())) / 1000;
      const done = step - (startSteps.get(key(run)) ?? 0);
      bar.update(step, { speed: elapsed > 0 ? (done / elapsed).toFixed(0) : '-' });
    },
    evaluation: (r) => {
      const bar = bars.get(key(r));
      if (bar) bar.update(r.step, { acc: r.testAccuracy.toFixed(4) });
      else if (!options.quiet) {
        const loss = r.trainLoss === null ? '-' : r.trainLoss.toFixed(4);
        logger.info(
          `${label(r)} step ${r.step}: train loss ${loss}, test loss ${r.testLoss.toFixed(4)}, test acc ${r.testAccuracy.toFixed(4)} (${r.elapsedS.toFixed(1)} s)`,
        );
      }
    },
    runFinished: (s: RunSummary) => {
      if (s.interrupted) logger.info(`${label(s)} stopped at step ${s.steps}; checkpoint saved`);
      else if (s.divergedAtStep !== undefined) logger.warn(`${label(s)} diverged (loss NaN or Inf) by step ${s.divergedAtStep}; run stopped`);
      else if (!useBars)
        logger.info(
          `${label(s)} done: ${s.steps} steps in ${s.wallS.toFixed(1)} s (${s.stepsPerSecond.toFixed(1)} steps/s), final test acc ${s.finalTestAccuracy.toFixed(4)}`,
        );
    },
    close: async () => {
      multi?.stop();
    },
  };
}

/** A download progress bar per file on a terminal; nothing otherwise (the logger names each file). */
export function downloadProgress(tty: boolean): ((file: string, received: number, total: number) => void) | undefined {
  if (!tty) return undefined;
  let bar: SingleBar | undefined;
  let current = '';
  return (file, received, total) => {
    if (file !== current) {
      bar?.stop();
      current = file;
      bar = new SingleBar({ format: `${file} [{bar}] {percentage}% | {value}/{total} bytes`, stream: process.stderr }, Presets.shades_classic);
      bar.start(total || received, 0);
    }
    if (total === 0) bar?.setTotal(received);
    bar?.update(received);
    if (total > 0 && received >= total) bar?.stop();
  };
}
