/**
 * Figure 1 of the paper from a run folder: (a) test accuracy vs. steps for each network, mean over
 * seeds with a min-max band, the paper's curves dashed; (b, c) the 15th/50th/85th percentiles of
 * one last-hidden-layer unit's sigmoid input for the network of each family (without BN, with BN)
 * at the config's setting (mean over seeds), on one y range. Colours and axes: figure-style.ts. A Vega-Lite spec, rendered to
 * SVG by Vega in Node and to PNG by resvg with a bundled DejaVu Sans, so no browser is needed.
 */
import { Resvg } from '@resvg/resvg-js';
import { createRequire } from 'node:module';
import type * as vl from 'vega-lite';
import { UserError } from '../core/errors.js';
import { variantsOf } from '../config/runs.js';
import { FONT, LAYOUTS, networkColors, orderOf, paperWithin, sharedDomain, stepAxis, type Layout } from './figure-style.js';
import { paperCurvesFor } from './paper.js';
import { familyArm } from './report.js';
import type { RunData } from './run-data.js';
import { band } from './stats.js';

/** The min-max band over seeds: 0.25 was lost under the mean line at display size. */
export const SEED_BAND_OPACITY = 0.4;
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

/** Panel (a)'s title; in a column the seeds move to a subtitle line, so the title fits the width. */
function accuracyTitle(seeds: number, paperNote: string, layout: Layout): { text: string; subtitle: string | string[] } {
  const band = seeds > 1 ? `mean and min-max of ${seeds} seeds` : '';
  if (layout === 'column' && band) return { text: '(a) test accuracy', subtitle: [band, paperNote].filter((line) => line !== '') };
  return { text: `(a) test accuracy${band ? `, ${band}` : ''}`, subtitle: paperNote };
}

/** "learning rate 0.5, init std 0.1": the setting a panel of one network shows. */
function settingOf(data: RunData, arm: string): string {
  const v = variantsOf(data.config).find((x) => x.name === arm);
  const lr = data.config.train.learningRate * (v?.lrMultiplier ?? 1);
  return `learning rate ${Number(lr.toPrecision(6))}, init std ${v?.initStd ?? data.config.model.initStd}`;
}

/**
 * Figure 1: (a) accuracy, the paper's curve of each family dashed in its network's colour; (b, c)
 * the sigmoid-input percentiles of the family arms (familyArm), on one shared y range.
 */
/** A panel of (b, c): the network drawn and its title (comparisons across folders name their own). */
export interface TracePanel {
  arm: string;
  title: string;
  subtitle?: string;
}

export function figureSpec(data: RunData, unit: number, layout: Layout = 'wide', curves = paperCurvesFor(data.config), panels?: TracePanel[]): vl.TopLevelSpec {
  const units = new Set(data.activations.map((r) => r.unit));
  if (!units.has(unit)) throw new UserError(`Unit ${unit} was not recorded in ${data.dir}; recorded units: ${[...units].join(', ')}.`);
  const style = LAYOUTS[layout];
  const steps = data.config.train.steps;
  const x = stepAxis(steps);
  const order = orderOf(data);
  const rows = accuracyRows(data);
  const floor = accuracyFloor(data.arms.map((arm) => rows.filter((r) => r.arm === arm).map((r) => r.mean)));
  const y = { type: 'quantitative', scale: { domain: [floor, 1] } } as const;
  const color = {
    field: 'arm',
    type: 'nominal',
    title: 'network',
    sort: order,
    scale: networkColors(order, data.arms),
    legend: { symbolType: 'stroke' },
  } as const;
  const families = [false, true].flatMap((bn) => {
    const arm = familyArm(data, bn);
    return arm === undefined ? [] : [{ bn, arm }];
  });
  const paper = families.flatMap(({ bn, arm }) => paperWithin(bn ? curves.bn : curves.baseline, steps).map((p) => ({ arm, step: p.step, value: p.value })));
  const firstPaperStep = Math.min(curves.baseline[0]?.step ?? Infinity, curves.bn[0]?.step ?? Infinity);
  const paperNote =
    paper.length > 0
      ? "dashed: the paper's Fig. 1(a)"
      : Number.isFinite(firstPaperStep)
        ? `the paper's curve starts at step ${firstPaperStep.toLocaleString('en-US')}`
        : '';
  const accuracy = {
    title: accuracyTitle(data.seeds.length, paperNote, layout),
    ...style.panel,
    layer: [
      // The line comes first so that the legend draws line symbols rather than band swatches.
      {
        data: { values: rows },
        mark: { type: 'line', clip: true, strokeWidth: 1.5 },
        encoding: { x, y: { ...y, field: 'mean', title: 'test accuracy' }, color },
      },
      // The seed band: opaque enough to show at display size under the mean line.
      {
        data: { values: rows },
        mark: { type: 'area', opacity: SEED_BAND_OPACITY, clip: true },
        encoding: { x, y: { ...y, field: 'min' }, y2: { field: 'max' }, color },
      },
      ...(paper.length > 0
        ? [
            {
              data: { values: paper },
              mark: { type: 'line', clip: true, strokeDash: [4, 3], strokeWidth: 1.5 },
              encoding: { x, y: { ...y, field: 'value' }, color },
            },
          ]
        : []),
    ],
  };
  const traceArms = panels ?? families.map(({ bn, arm }) => ({ arm, title: bn ? 'with BN' : 'without BN', subtitle: `${arm}, ${settingOf(data, arm)}` }));
  const traceRows = traceArms.map(({ arm }) => percentileRows(data, arm, unit));
  const traceY = {
    field: 'value',
    type: 'quantitative',
    title: `input to ${data.config.model.activation}`,
    scale: { domain: sharedDomain(traceRows.flat().map((r) => r.value)) },
  } as const;
  const traces = traceArms.map(({ title, subtitle }, i) => ({
    title: { text: `(${String.fromCharCode(98 + i)}) ${title}: ${data.config.model.activation} input, unit ${unit}`, ...(subtitle ? { subtitle } : {}) },
    ...style.panel,
    data: { values: traceRows[i] },
    mark: 'line',
    encoding: {
      x,
      y: traceY,
      color: { field: 'percentile', type: 'nominal', title: 'percentile', sort: 'descending', scale: { scheme: 'dark2' } },
    },
  }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    config: style.config,
    [style.concat]: [accuracy, ...traces],
    resolve: { scale: { color: 'independent', y: 'independent' } },
  } as unknown as vl.TopLevelSpec; // literal mark types widen to string in this nested literal
}

export async function renderSvg(spec: vl.TopLevelSpec): Promise<string> {
  // Loaded here, not at the top: Vega and Vega-Lite cost every bn-repro process ~0.4 s of CPU to
  // import (measured), and only `plot` renders.
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
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
