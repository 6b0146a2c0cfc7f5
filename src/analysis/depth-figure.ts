/**
 * The depth figure (issue 20, item 3): final test accuracy against the number of hidden layers,
 * one line per family (without BN, with BN: the settings at the config's own learning rate and
 * init std), the mean over seeds with a bar from mean - std to mean + std, and every other setting
 * (a rescue of the deep baseline) as a lone point at its depth. `plot` draws it for a sweep whose
 * networks differ in depth (isDepthSweep). Colours from the project's palette, in legend order.
 */
import type * as vl from 'vega-lite';
import { DEPTH_TARGET, depthEntries } from './depth-table.js';
import { LAYOUTS, NETWORK_PALETTE, type Layout } from './figure-style.js';
import type { RunData } from './run-data.js';
import { meanAndSampleStd } from './stats.js';

export const FAMILY_NAMES = { baseline: 'without BN', bn: 'with BN' } as const;

/** One point of the figure: a series (family or setting), a depth, and the seeds' mean ± std. */
export interface DepthPoint {
  series: string;
  depth: number;
  mean: number;
  lo: number;
  hi: number;
  seeds: number;
}

/** The points drawn, families first (by depth), then the other settings in the sweep's order. */
export function depthPoints(data: RunData): { families: DepthPoint[]; others: DepthPoint[] } {
  const point = (series: string, depth: number, finals: number[]): DepthPoint[] => {
    const finite = finals.filter(Number.isFinite);
    if (finite.length === 0) return [];
    const { mean, std } = meanAndSampleStd(finite);
    return [{ series, depth, mean, lo: mean - std, hi: mean + std, seeds: finite.length }];
  };
  const entries = depthEntries(data);
  const families = entries
    .filter((e) => e.family)
    .sort((a, b) => Number(a.variant.bn) - Number(b.variant.bn) || a.depth - b.depth)
    .flatMap((e) => point(e.variant.bn ? FAMILY_NAMES.bn : FAMILY_NAMES.baseline, e.depth, e.finals));
  const others = entries.filter((e) => !e.family).flatMap((e) => point(e.variant.name, e.depth, e.finals));
  return { families, others };
}

export function depthFigureSpec(data: RunData, layout: Layout = 'wide'): vl.TopLevelSpec {
  const style = LAYOUTS[layout];
  const { families, others } = depthPoints(data);
  const all = [...families, ...others];
  const domain = [...new Set(all.map((p) => p.series))];
  const color = {
    field: 'series',
    type: 'nominal',
    title: 'network',
    sort: domain,
    scale: { domain, range: domain.map((_, i) => NETWORK_PALETTE[i % NETWORK_PALETTE.length]) },
    // A rescue setting's name ("baseline-6-std0.05") is read whole, not cut to vega's 160 px.
    legend: { labelLimit: 400 },
  } as const;
  const depths = [...new Set(all.map((p) => p.depth))].sort((a, b) => a - b);
  const x = {
    field: 'depth',
    type: 'quantitative',
    title: 'hidden layers',
    scale: { domain: [0, Math.max(1, ...depths)], nice: false },
    axis: { values: depths },
  } as const;
  const y = { field: 'mean', type: 'quantitative', title: 'final test accuracy', scale: { domain: [0, 1] } } as const;
  const panel = {
    ...style.panel,
    layer: [
      { data: { values: families }, mark: { type: 'line', point: true }, encoding: { x, y, color } },
      { data: { values: all }, mark: { type: 'rule' }, encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color } },
      { data: { values: others }, mark: { type: 'point', shape: 'diamond', filled: true, size: 70 }, encoding: { x, y, color } },
      {
        data: { values: [{ target: DEPTH_TARGET }] },
        mark: { type: 'rule', strokeDash: [4, 3], color: 'gray' },
        encoding: { y: { field: 'target', type: 'quantitative' } },
      },
    ],
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    config: style.config,
    title: {
      text: `${data.config.name}: final test accuracy against depth, mean ± std over ${data.seeds.length} seed(s)`,
      subtitle: `${data.config.train.steps.toLocaleString('en-US')} steps; dashed: ${DEPTH_TARGET * 100}%`,
      fontSize: style.titleFontSize,
    },
    ...panel,
  } as unknown as vl.TopLevelSpec; // literal mark types widen to string in this nested literal
}
