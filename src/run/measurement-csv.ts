/**
 * ics.csv and landscape.csv (schemas in the README), written when eval.landscape.every > 0:
 * the Santurkar et al. (2018) measurements, one row per layer and one row per measurement.
 */
import { join } from 'node:path';
import { cell, fsyncFile, openCsv } from './recorders.js';
import type { IcsRecord, LandscapeRecord, Recorder } from '../training/records.js';

export const ICS_CSV = 'ics.csv';
export const LANDSCAPE_CSV = 'landscape.csv';
export const ICS_COLUMNS = ['arm', 'seed', 'step', 'layer', 'l2', 'cosine'];
export const LANDSCAPE_COLUMNS = ['arm', 'seed', 'step', 'loss_min', 'loss_max', 'grad_change_max', 'beta_smoothness'];

export function measurementCsvRecorder(dir: string, append = false): Recorder {
  const paths = [join(dir, ICS_CSV), join(dir, LANDSCAPE_CSV)];
  const ics = openCsv(paths[0], ICS_COLUMNS, append);
  const landscape = openCsv(paths[1], LANDSCAPE_COLUMNS, append);
  const sync = () => paths.forEach(fsyncFile);
  return {
    evaluation: () => {},
    measurement: async (rows: IcsRecord[], l: LandscapeRecord) => {
      await ics.writeRecords(rows.map((r) => ({ arm: r.arm, seed: r.seed, step: r.step, layer: r.layer, l2: cell(r.l2), cosine: cell(r.cosine) })));
      await landscape.writeRecords([
        {
          arm: l.arm,
          seed: l.seed,
          step: l.step,
          loss_min: cell(l.lossMin),
          loss_max: cell(l.lossMax),
          grad_change_max: cell(l.gradChangeMax),
          beta_smoothness: cell(l.betaSmoothness),
        },
      ]);
    },
    checkpoint: sync,
    runFinished: sync,
    close: async () => sync(),
  };
}
