/**
 * The landscape figure, in the manner of Santurkar et al. (2018): row 1 as their Fig. 4 (the
 * range of the loss along the gradient as a band, gradient predictiveness, effective
 * beta-smoothness), rows 2 and 3 as their Fig. 5 (ICS per layer: ||G - G'|| and cos(G, G')),
 * BN against the baseline, means over seeds, in the colours and on the step axis of every figure (figure-style.ts). Lines on log axes drop values <= 0. Layer 1 is left out: its ICS is 0 by definition.
 */
import type * as vl from 'vega-lite';
import { hiddenUnitsOfArm } from '../config/runs.js';
import { weightLayersOf, weightLayerTitle } from '../model/weight-layers.js';
import { LAYOUTS, networkColors, orderOf, stepAxis } from './figure-style.js';
import type { Measurements } from './measurement-data.js';
import type { RunData } from './run-data.js';
import { band } from './stats.js';

type Row = { arm: string; seed: number; step: number };

/** Per arm and step, the mean over seeds of `value`. */
function meanCurve<R extends Row>(rows: R[], arms: string[], value: (r: R) => number): { arm: string; step: number; value: number }[] {
  return arms.flatMap((arm) =>
    band(rows.filter((r) => r.arm === arm).map((r) => ({ seed: r.seed, step: r.step, value: value(r) }))).map((b) => ({ arm, step: b.step, value: b.mean })),
  );
}

/** The step axis and network colours every panel shares (figure-style.ts). */
interface Axes {
  x: ReturnType<typeof stepAxis>;
  color: { field: 'arm'; type: 'nominal'; title: string; sort: string[]; scale: { domain: string[]; range: string[] }; legend: { symbolType: 'stroke' } };
}
const PANEL = LAYOUTS.wide.panel;

/** A line panel; `log` drops values <= 0, which a log axis cannot show. */
function linePanel({ x, color }: Axes, title: string, yTitle: string, values: { arm: string; step: number; value: number }[], log: boolean) {
  const shown = values.filter((v) => Number.isFinite(v.value) && (!log || v.value > 0));
  return {
    title,
    ...PANEL,
    data: { values: shown },
    mark: { type: 'line', clip: true },
    encoding: { x, y: { field: 'value', type: 'quantitative', title: yTitle, scale: log ? { type: 'log' } : { zero: false } }, color },
  };
}

export function landscapeFigureSpec(m: Measurements, data: RunData): vl.TopLevelSpec {
  const { arms } = data;
  // Networks of different depths (a depth sweep) share a panel per layer index: name it by index alone.
  const depths = new Set(arms.map((arm) => hiddenUnitsOfArm(data.config, arm).length));
  const named = depths.size === 1 ? weightLayersOf(data.config, hiddenUnitsOfArm(data.config, arms[0])) : undefined;
  const order = orderOf(data);
  const axes: Axes = {
    x: stepAxis(data.config.train.steps),
    color: { field: 'arm', type: 'nominal', title: 'network', sort: order, scale: networkColors(order, arms), legend: { symbolType: 'stroke' } },
  };
  const { x, color } = axes;
  const lo = meanCurve(m.landscape, arms, (r) => r.lossMin);
  const hi = meanCurve(m.landscape, arms, (r) => r.lossMax);
  const range = lo.map((p, i) => ({ ...p, lo: p.value, hi: hi[i].value })).filter((p) => Number.isFinite(p.lo) && Number.isFinite(p.hi));
  const lossBand = {
    title: '(a) loss along the gradient: range over step sizes',
    ...PANEL,
    data: { values: range },
    mark: { type: 'area', opacity: 0.45, clip: true },
    encoding: { x, y: { field: 'lo', type: 'quantitative', title: 'training loss on the batch', scale: { type: 'log' } }, y2: { field: 'hi' }, color },
  };
  const fig4 = [
    lossBand,
    linePanel(
      axes,
      '(b) gradient predictiveness',
      'max ‖∇L(θ) - ∇L(θ - ηg)‖',
      meanCurve(m.landscape, arms, (r) => r.gradChangeMax),
      true,
    ),
    linePanel(
      axes,
      '(c) effective β-smoothness',
      'max ‖Δ∇L‖ / ‖ηg‖',
      meanCurve(m.landscape, arms, (r) => r.betaSmoothness),
      true,
    ),
  ];
  const layers = [...new Set(m.ics.map((r) => r.layer))].filter((l) => l > 0).sort((a, b) => a - b);
  const name = (l: number) => (named?.[l] === undefined ? `weight layer ${l + 1}` : weightLayerTitle(named[l]));
  const ofLayer = (l: number) => m.ics.filter((r) => r.layer === l);
  const l2 = layers.map((l, i) =>
    linePanel(
      axes,
      `(${String.fromCharCode(100 + i)}) ICS ‖G - G'‖, ${name(l)}`,
      "‖G - G'‖₂",
      meanCurve(ofLayer(l), arms, (r) => r.l2),
      true,
    ),
  );
  // 1 - cos on a log axis: the cosines sit so close to 1 that a linear cos axis shows flat lines.
  const cos = layers.map((l, i) =>
    linePanel(
      axes,
      `(${String.fromCharCode(100 + layers.length + i)}) 1 - cos(G, G'), ${name(l)}`,
      "1 - cos(G, G')",
      meanCurve(ofLayer(l), arms, (r) => 1 - r.cosine),
      true,
    ),
  );
  const seeds = new Set(m.landscape.map((r) => r.seed)).size;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    config: LAYOUTS.wide.config,
    title: { text: `Loss landscape and internal covariate shift (Santurkar et al. 2018, Figs. 4-5), mean over ${seeds} seed(s)`, fontSize: 13 },
    vconcat: [{ hconcat: fig4 }, { hconcat: l2 }, { hconcat: cos }],
    resolve: { scale: { y: 'independent' } },
  } as unknown as vl.TopLevelSpec;
}
