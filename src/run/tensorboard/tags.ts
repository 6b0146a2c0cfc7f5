/**
 * The scalars of an evaluation or a measurement, tagged for TensorBoard: one tag per value column
 * of accuracy.csv, activations.csv, ics.csv and landscape.csv, grouped by the part before the first
 * "/" (TensorBoard's tag groups). Each value is the number the CSV holds (recorders.ts `cell`), so
 * an event and its CSV cell agree up to float32 rounding; an empty cell (no training loss at step
 * 0) has no event value. The table of tags is in the README (TensorBoard).
 */
import { activationColumns, cell } from '../recorders.js';
import { ICS_COLUMNS, LANDSCAPE_COLUMNS } from '../measurement-csv.js';
import type { ActivationRecord, EvalRecord, IcsRecord, LandscapeRecord } from '../../training/records.js';
import type { ScalarValue } from './event.js';

/** accuracy.csv's value columns -> tags. */
export const ACCURACY_TAGS: Record<string, string> = {
  train_loss: 'loss/train',
  test_loss: 'loss/test',
  test_accuracy: 'accuracy/test',
  elapsed_s: 'time/elapsed_s',
};

export const activationTag = (layer: number, unit: number, column: string) => `activations/layer${layer}_unit${unit}/${column}`;
export const icsTag = (layer: number, column: string) => `ics/layer${layer}/${column}`;
export const landscapeTag = (column: string) => `landscape/${column}`;

/** A CSV cell as a number: '' (no value) is undefined; nan, inf and -inf are their floats. */
function numberOf(v: string | number): number | undefined {
  if (v === '') return undefined;
  if (typeof v === 'number') return v;
  return v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : Number(v);
}

function scalars(pairs: [string, string | number][]): ScalarValue[] {
  return pairs.flatMap(([tag, raw]) => {
    const value = numberOf(raw);
    return value === undefined ? [] : [{ tag, value }];
  });
}

export function evaluationScalars(r: EvalRecord, acts: ActivationRecord[], percentiles: number[]): ScalarValue[] {
  const accuracy: [string, string | number][] = [
    [ACCURACY_TAGS.train_loss, cell(r.trainLoss)],
    [ACCURACY_TAGS.test_loss, cell(r.testLoss)],
    [ACCURACY_TAGS.test_accuracy, cell(r.testAccuracy)],
    [ACCURACY_TAGS.elapsed_s, r.elapsedS.toFixed(3)],
  ];
  const valueColumns = activationColumns(percentiles).slice(5); // after arm, seed, step, layer, unit
  const activations = acts.flatMap((a) => {
    const values = [...a.percentiles, a.mean, a.std];
    return valueColumns.map((c, i): [string, string | number] => [activationTag(a.layer, a.unit, c), cell(values[i])]);
  });
  return scalars([...accuracy, ...activations]);
}

export function measurementScalars(ics: IcsRecord[], l: LandscapeRecord): ScalarValue[] {
  const [l2, cosine] = ICS_COLUMNS.slice(4);
  const [lossMin, lossMax, gradChange, beta] = LANDSCAPE_COLUMNS.slice(3);
  return scalars([
    ...ics.flatMap((r): [string, string | number][] => [
      [icsTag(r.layer, l2), cell(r.l2)],
      [icsTag(r.layer, cosine), cell(r.cosine)],
    ]),
    [landscapeTag(lossMin), cell(l.lossMin)],
    [landscapeTag(lossMax), cell(l.lossMax)],
    [landscapeTag(gradChange), cell(l.gradChangeMax)],
    [landscapeTag(beta), cell(l.betaSmoothness)],
  ]);
}
