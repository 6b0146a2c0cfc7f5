/**
 * The Recorder that writes TensorBoard event files as training goes: one events file per run
 * (files.ts), an event per evaluation and per measurement, each written whole with one write so
 * that `tensorboard --logdir DIR` shows the curves live. The files are a view of the CSVs, which
 * hold the results: a file that cannot be written (or read back on --resume) is one warning line,
 * after which no more events are written, and training goes on.
 */
import { closeSync, fsyncSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig } from '../../config/config.js';
import { systemReason } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Recorder, RunId } from '../../training/records.js';
import { EventCodec, type ScalarValue } from './event.js';
import { TENSORBOARD_DIR, openRunEvents } from './files.js';
import { evaluationScalars, measurementScalars } from './tags.js';
import { frameRecord } from './tfrecord.js';

const keyOf = (run: RunId) => `${run.arm}/${run.seed}`;

/**
 * `keepUpTo` ("arm/seed" -> last step kept, from the resume plan) continues the runs' existing
 * files instead of starting new ones.
 */
export function tensorboardRecorder(dir: string, config: ResolvedConfig, logger: Logger, keepUpTo?: ReadonlyMap<string, number>): Recorder {
  if (config.tensorboard === 'off') return { evaluation: () => {}, close: async () => {} };
  const codec = new EventCodec();
  const open = new Map<string, number>();
  let failed = false;
  const closeAll = () => {
    for (const fd of open.values()) {
      try {
        closeSync(fd);
      } catch {
        // already unusable; nothing else depends on it
      }
    }
    open.clear();
  };
  const guarded = (action: () => void) => {
    if (failed) return;
    try {
      action();
    } catch (err) {
      failed = true;
      closeAll();
      const why = systemReason(err) ?? (err as Error).message;
      logger.warn(
        `TensorBoard event files under ${join(dir, TENSORBOARD_DIR)} cannot be written (${why}); training goes on without them, and the CSV files hold every result.`,
      );
    }
  };
  const onDamaged = (path: string, kept: number) =>
    logger.warn(`${path} was damaged after its first ${kept} events; those are kept and the run's events go on after them.`);
  const fdOf = (run: RunId): number => {
    let fd = open.get(keyOf(run));
    if (fd === undefined) {
      fd = openRunEvents(dir, run, codec, keepUpTo?.get(keyOf(run)), onDamaged);
      open.set(keyOf(run), fd);
    }
    return fd;
  };
  const write = (run: RunId, step: number, values: ScalarValue[]) =>
    guarded(() => void writeSync(fdOf(run), frameRecord(codec.scalars(Date.now() / 1000, step, values))));
  const sync = (run: RunId, end: boolean) =>
    guarded(() => {
      const fd = open.get(keyOf(run));
      if (fd === undefined) return;
      fsyncSync(fd);
      if (!end) return;
      closeSync(fd);
      open.delete(keyOf(run));
    });
  return {
    runStarted: (run) => guarded(() => void fdOf(run)),
    evaluation: (r, acts) => write(r, r.step, evaluationScalars(r, acts, config.eval.percentiles)),
    measurement: (ics, l) => write(l, l.step, measurementScalars(ics, l)),
    checkpoint: (state) => sync(state, false),
    runFinished: (summary) => sync(summary, true),
    close: async () => closeAll(),
  };
}
