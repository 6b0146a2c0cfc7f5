/**
 * The distance to the paper: Figure 1(a) of Ioffe & Szegedy (2015), Sec. 4.1, as digitized points
 * (paper/fig1a.csv, provenance in paper/README.md), and the RMSE between one of our across-seed
 * mean accuracy curves and the paper's curve, interpolated linearly at our evaluation steps from
 * the paper curve's first digitized step to 40,000 (the figure's last labelled step).
 */
import { readFileSync } from 'node:fs';
import type { ResolvedConfig } from '../config/config.js';

export interface CurvePoint {
  step: number;
  value: number;
}

/** The step up to which curves are compared (Fig. 1a's last labelled tick). */
export const PAPER_LAST_STEP = 40_000;

/** The paper's numbers live in paper/ only (provenance in paper/README.md); the code reads them. */
const paperFile = (name: string) => new URL(`../../../paper/${name}`, import.meta.url);

/** The data rows of one of paper/'s small CSVs, split at commas (no quoting in those files). */
function paperRows(path: URL): string[][] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','));
}

/** Fig. 1(b, c): start and end percentiles [p15, p50, p85] of one network's sigmoid input. */
export interface PaperPercentiles {
  start: number[];
  end: number[];
}

/** Fig. 1(b, c) start and end percentiles per network, from paper/fig1bc.csv. */
export function readPaperPercentiles(path = paperFile('fig1bc.csv')): { bn: PaperPercentiles; baseline: PaperPercentiles } {
  const rows = paperRows(path);
  const of = (arm: string, point: string) =>
    rows
      .find((r) => r[0] === arm && r[1] === point)
      ?.slice(2)
      .map(Number) ?? [];
  return {
    baseline: { start: of('without_bn', 'start'), end: of('without_bn', 'end') },
    bn: { start: of('with_bn', 'start'), end: of('with_bn', 'end') },
  };
}

/** The paper's Fig. 1(a) curves: `with_bn` and `without_bn`, each sorted by step. */
export function readPaperCurves(path = paperFile('fig1a.csv')): { bn: CurvePoint[]; baseline: CurvePoint[] } {
  const rows = paperRows(path);
  const curve = (arm: string) =>
    rows
      .filter((r) => r[0] === arm)
      .map((r) => ({ step: Number(r[1]), value: Number(r[2]) }))
      .sort((a, b) => a.step - b.step);
  return { bn: curve('with_bn'), baseline: curve('without_bn') };
}

/**
 * The Fig. 1(a) curves a folder's figures draw beside its own: the paper's, for its Sec. 4.1 MLP;
 * none for the CNN (the paper's convnet results are on ImageNet, docs/cnn.md).
 */
export function paperCurvesFor(config: ResolvedConfig): { bn: CurvePoint[]; baseline: CurvePoint[] } {
  return config.model.kind === 'mlp' ? readPaperCurves() : { bn: [], baseline: [] };
}

/** Linear interpolation of `curve` at `step`; undefined outside its steps. */
export function interpolate(curve: CurvePoint[], step: number): number | undefined {
  if (curve.length === 0 || step < curve[0].step || step > curve[curve.length - 1].step) return undefined;
  const i = curve.findIndex((p) => p.step >= step);
  const hi = curve[i];
  if (hi.step === step || i === 0) return hi.value;
  const lo = curve[i - 1];
  return lo.value + ((step - lo.step) / (hi.step - lo.step)) * (hi.value - lo.value);
}

/**
 * sqrt(mean over our steps s in [paper's first step, 40,000] of (ours(s) - paper(s))^2), and how
 * many steps it averages; null when no step of ours falls in that range.
 */
export function rmseToPaper(ours: CurvePoint[], paper: CurvePoint[]): { rmse: number; points: number } | null {
  const pairs = ours
    .filter((p) => p.step >= (paper[0]?.step ?? Infinity) && p.step <= PAPER_LAST_STEP && Number.isFinite(p.value))
    .map((p) => [p.value, interpolate(paper, p.step)] as const)
    .filter((pair): pair is readonly [number, number] => pair[1] !== undefined);
  if (pairs.length === 0) return null;
  return { rmse: Math.sqrt(pairs.reduce((s, [a, b]) => s + (a - b) ** 2, 0) / pairs.length), points: pairs.length };
}
