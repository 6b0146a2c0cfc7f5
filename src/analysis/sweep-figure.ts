/**
 * The sweep figure (issue 12): test accuracy against steps, one panel per family (without BN,
 * with BN), one line per setting (mean over seeds) in its network's colour and legend order
 * (figure-style.ts), and the paper's Fig. 1(a) curve of that family drawn in, dashed, within the
 * sweep's steps. Rendered like Figure 1 (figure.ts).
 */
import type * as vl from 'vega-lite';
import { variantsOf } from '../config/runs.js';
import { accuracyFloor } from './figure.js';
import { LAYOUTS, networkColors, orderOf, paperWithin, stepAxis, type Layout } from './figure-style.js';
import { paperCurvesFor } from './paper.js';
import { meanAccuracyCurve } from './report.js';
import type { RunData } from './run-data.js';

const PAPER_LINE = "paper's Fig. 1(a)";

export function sweepFigureSpec(data: RunData, layout: Layout = 'wide', curves = paperCurvesFor(data.config)): vl.TopLevelSpec {
  const style = LAYOUTS[layout];
  const steps = data.config.train.steps;
  const x = stepAxis(steps);
  const order = orderOf(data);
  const panels = [false, true].flatMap((bn) => {
    const settings = order.filter((name) => variantsOf(data.config).some((v) => v.name === name && v.bn === bn));
    if (settings.length === 0) return [];
    const rows = settings.flatMap((name) => meanAccuracyCurve(data, name).map((p) => ({ setting: name, step: p.step, value: p.value })));
    const paper = paperWithin(bn ? curves.bn : curves.baseline, steps).map((p) => ({ setting: PAPER_LINE, step: p.step, value: p.value }));
    const floor = accuracyFloor(settings.map((name) => meanAccuracyCurve(data, name).map((p) => p.value)));
    const y = { field: 'value', type: 'quantitative', title: 'test accuracy', scale: { domain: [floor, 1] } } as const;
    const color = {
      field: 'setting',
      type: 'nominal',
      title: 'setting',
      sort: settings,
      scale: networkColors(order, settings),
      legend: { symbolType: 'stroke' },
    } as const;
    return [
      {
        title: bn ? 'with BN' : 'without BN',
        ...style.panel,
        layer: [
          { data: { values: rows }, mark: { type: 'line', clip: true }, encoding: { x, y, color } },
          ...(paper.length > 0
            ? [{ data: { values: paper }, mark: { type: 'line', clip: true, strokeDash: [4, 3], color: 'black' }, encoding: { x, y } }]
            : []),
        ],
      },
    ];
  });
  const firstPaperStep = Math.min(curves.baseline[0]?.step ?? Infinity, curves.bn[0]?.step ?? Infinity);
  const paperNote = !Number.isFinite(firstPaperStep)
    ? ''
    : firstPaperStep <= steps
      ? `dashed: ${PAPER_LINE}`
      : `${PAPER_LINE} starts at step ${firstPaperStep.toLocaleString('en-US')}`;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    config: style.config,
    title: { text: `${data.config.name}: test accuracy, mean over ${data.seeds.length} seed(s)`, subtitle: paperNote, fontSize: style.titleFontSize },
    [style.concat]: panels,
    resolve: { scale: { color: 'independent', y: 'independent' } },
  } as unknown as vl.TopLevelSpec; // literal mark types widen to string in this nested literal
}
