/**
 * Figure 1 of the paper from a run folder: (a) test accuracy vs. steps for each network, mean over
 * seeds with a min-max band; (b, c) the 15th/50th/85th percentiles of one last-hidden-layer unit's
 * sigmoid input for the baseline and the BN net (mean over seeds). A Vega-Lite spec, rendered to
 * SVG by Vega in Node and to PNG by resvg with a bundled DejaVu Sans, so no browser is needed.
 */
import { Resvg } from '@resvg/resvg-js';
import { createRequire } from 'node:module';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { UserError } from '../errors.js';
import type { RunData } from './run-data.js';
import { band } from './stats.js';

const FONT = 'DejaVu Sans';
export const PANEL = { width: 300, height: 220 };
export const FIGURE_CONFIG = { font: FONT, title: { fontSize: 14 }, axis: { labelFontSize: 12, titleFontSize: 12 }, legend: { labelFontSize: 12, titleFontSize: 12, symbolOpacity: 1, symbolStrokeWidth: 3 } };
/** PNG pixels per SVG unit: sharp enough for a paper-sized figure. */
export const PNG_SCALE = 2;

function accuracyRows(data: RunData) {
  return data.arms.flatMap((arm) =>
    band(data.accuracy.filter((r) => r.arm === arm).map((r) => ({ seed: r.seed, step: r.step, value: r.testAccuracy }))).map((b) => ({
      arm,
      step: b.step,
      mean: b.mean,
      min: b.min,
      max: b.max,
    })),
  );
}

function percentileRows(data: RunData, arm: string, unit: number) {
  const rows = data.activations.filter((r) => r.arm === arm && r.unit === unit);
  const ps = [...(rows[0]?.p.keys() ?? [])];
  return ps.flatMap((p) =>
    band(rows.map((r) => ({ seed: r.seed, step: r.step, value: r.p.get(p)! }))).map((b) => ({ percentile: `${p}th`, step: b.step, value: b.mean })),
  );
}

/**
 * The lower end of panel (a): 0.7 as in the paper's Fig. 1(a), earlier points clipped as there;
 * lower (to the tenth below the lowest value after the first evaluation) when some network never
 * gets above 0.7, so that every line has points to draw (resvg panics on a fully clipped path).
 */
export function accuracyFloor(meansPerNetwork: number[][]): number {
  const curves = meansPerNetwork.map((m) => m.filter(Number.isFinite)).filter((m) => m.length > 0);
  if (curves.every((m) => Math.max(...m) > 0.7)) return 0.7;
  const lowest = Math.min(...curves.map((m) => Math.min(...m.slice(1).concat(m.length === 1 ? m : []))));
  return Math.max(0, Math.floor(lowest * 10) / 10);
}

/** The networks panels (b) and (c) are drawn for, with their titles: the baseline and the BN net. */
export function defaultTraces(data: RunData): { arm: string; title: string }[] {
  return ['baseline', 'bn'].filter((a) => data.arms.includes(a)).map((arm) => ({ arm, title: arm === 'bn' ? 'with BN' : 'without BN' }));
}

export function figureSpec(data: RunData, unit: number, traceArms = defaultTraces(data)): vl.TopLevelSpec {
  const units = new Set(data.activations.map((r) => r.unit));
  if (!units.has(unit)) throw new UserError(`Unit ${unit} was not recorded in ${data.dir}; recorded units: ${[...units].join(', ')}.`);
  const x = { field: 'step', type: 'quantitative', title: 'training steps', axis: { format: '~s', labelExpr: "datum.value === 0 ? '0' : datum.label" } } as const;
  const rows = accuracyRows(data);
  const floor = accuracyFloor(data.arms.map((arm) => rows.filter((r) => r.arm === arm).map((r) => r.mean)));
  const y = { type: 'quantitative', scale: { domain: [floor, 1] } } as const;
  const accuracy = {
    title: `(a) test accuracy${data.seeds.length > 1 ? `, mean and min-max of ${data.seeds.length} seeds` : ''}`,
    ...PANEL,
    data: { values: rows },
    layer: [
      // Line: the mean over seeds; band: min to max over seeds (empty for one seed). The line comes
      // first so that the legend draws line symbols rather than faint band swatches.
      { mark: { type: 'line', clip: true }, encoding: { x, y: { ...y, field: 'mean', title: 'test accuracy' }, color: { field: 'arm', type: 'nominal', title: 'network', legend: { symbolType: 'stroke' } } } },
      { mark: { type: 'area', opacity: 0.25, clip: true }, encoding: { x, y: { ...y, field: 'min' }, y2: { field: 'max' }, color: { field: 'arm', type: 'nominal' } } },
    ],
  };
  const traces = traceArms.map(({ arm, title }, i) => ({
    title: `(${String.fromCharCode(98 + i)}) ${title}: sigmoid input, unit ${unit}`,
    ...PANEL,
    data: { values: percentileRows(data, arm, unit) },
    mark: 'line',
    encoding: {
      x,
      y: { field: 'value', type: 'quantitative', title: 'input to sigmoid' },
      color: { field: 'percentile', type: 'nominal', title: 'percentile', sort: 'descending', scale: { scheme: 'dark2' } },
    },
  }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    config: FIGURE_CONFIG,
    hconcat: [accuracy, ...traces],
    resolve: { scale: { color: 'independent', y: 'independent' } },
  } as vl.TopLevelSpec;
}

export async function renderSvg(spec: vl.TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

export function renderPng(svg: string): Buffer {
  const fontFile = createRequire(import.meta.url).resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf');
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: PNG_SCALE },
    background: 'white',
    font: { fontFiles: [fontFile], loadSystemFonts: false, defaultFontFamily: FONT },
  });
  return resvg.render().asPng();
}
