/**
 * The look every figure shares (figure1, sweep, landscape): one colour per network, keyed by its
 * name through the experiment's legend order, so a network has the same colour in every panel and
 * figure; legends in that order (learning rate, then init std, then name); a step axis spanning
 * exactly the planned steps; and the two layouts, the wide strip and a paper column.
 */
import type { Variant } from '../config/config.js';
import { variantsOf } from '../config/runs.js';
import { interpolate, type CurvePoint } from './paper.js';
import type { RunData } from './run-data.js';

/** Vega's tableau10, cycled past ten networks: distinct at display size and in print. */
export const NETWORK_PALETTE = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2', '#eeca3b', '#9d755d', '#ff9da6', '#bab0ac'];

/** Bundled with the renderer (dejavu-fonts-ttf), so every machine draws the same glyphs. */
export const FONT = 'DejaVu Sans';

/**
 * wide: the panels side by side (the default); column: stacked, at most about 3.3 in wide (an
 * SVG's size is in CSS pixels, 96 to the inch: under 320), legends below the panels.
 */
export const LAYOUTS = {
  wide: {
    panel: { width: 300, height: 220 },
    concat: 'hconcat',
    config: {
      font: FONT,
      title: { fontSize: 14, subtitleFontSize: 11 },
      axis: { labelFontSize: 12, titleFontSize: 12 },
      legend: { labelFontSize: 12, titleFontSize: 12, symbolOpacity: 1, symbolStrokeWidth: 3 },
    },
    titleFontSize: 13,
  },
  column: {
    panel: { width: 180, height: 105 },
    concat: 'vconcat',
    config: {
      font: FONT,
      title: { fontSize: 9, subtitleFontSize: 8 },
      axis: { labelFontSize: 8, titleFontSize: 8, tickCount: 5 },
      legend: {
        orient: 'bottom',
        columns: 3,
        columnPadding: 6,
        labelFontSize: 8,
        titleFontSize: 8,
        symbolOpacity: 1,
        symbolStrokeWidth: 2,
        symbolSize: 60,
        offset: 6,
      },
      concat: { spacing: 12 },
    },
    titleFontSize: 9,
  },
} as const;
export type Layout = keyof typeof LAYOUTS;
export const LAYOUT_NAMES = Object.keys(LAYOUTS) as Layout[];
/** What `plot` draws unless --layout is given: the figure as the paper lays it out. */
export const DEFAULT_LAYOUT: Layout = 'wide';

/** The networks in legend order: by learning-rate multiplier, then init std, then name. */
export function networkOrder(variants: Variant[], defaultStd: number): string[] {
  return [...variants]
    .sort((a, b) => a.lrMultiplier - b.lrMultiplier || (a.initStd ?? defaultStd) - (b.initStd ?? defaultStd) || a.name.localeCompare(b.name))
    .map((v) => v.name);
}

/** A run folder's networks in legend order. */
export function orderOf(data: RunData): string[] {
  const known = networkOrder(variantsOf(data.config), data.config.model.initStd);
  // Folders drawn together (plot DIR1 DIR2) name their networks by folder: they keep their own order.
  if (!known.some((name) => data.arms.includes(name))) return data.arms;
  return [...known, ...data.arms.filter((name) => !known.includes(name))];
}

/**
 * The colour scale of the networks `shown` (in legend order), each with its colour from its place
 * in `order`, the experiment's full legend order: a panel showing some networks keeps every
 * network's colour.
 */
export function networkColors(order: string[], shown: string[] = order): { domain: string[]; range: string[] } {
  const domain = order.filter((name) => shown.includes(name));
  return { domain, range: domain.map((name) => NETWORK_PALETTE[order.indexOf(name) % NETWORK_PALETTE.length]) };
}

/** The x encoding: training steps from 0 to the planned steps exactly, "0" (not "0k") at the origin. */
export function stepAxis(steps: number) {
  return {
    field: 'step',
    type: 'quantitative',
    title: 'training steps',
    scale: { domain: [0, steps], nice: false },
    axis: { format: '~s', labelExpr: "datum.value === 0 ? '0' : datum.label" },
  } as const;
}

/**
 * A paper curve cut to [0, steps] (its end interpolated at `steps`), so that it never widens the
 * axis; empty when fewer than two points remain (resvg cannot draw a fully clipped path).
 */
export function paperWithin(curve: CurvePoint[], steps: number): CurvePoint[] {
  const inside = curve.filter((p) => p.step <= steps);
  const end = interpolate(curve, steps);
  if (end !== undefined && inside.at(-1)?.step !== steps) inside.push({ step: steps, value: end });
  return inside.length >= 2 ? inside : [];
}

/** One y range for several panels: the extent of all their values, widened to halves. */
export function sharedDomain(values: number[]): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [0, 1];
  const [lo, hi] = [Math.floor(Math.min(...finite) * 2) / 2, Math.ceil(Math.max(...finite) * 2) / 2];
  return lo === hi ? [lo - 0.5, hi + 0.5] : [lo, hi];
}
