/**
 * The sweep figure (issue 12): test accuracy against steps, one panel per family (without BN,
 * with BN), one line per setting (mean over seeds), and the paper's Fig. 1(a) curve of that
 * family drawn in, dashed. Rendered like Figure 1 (figure.ts).
 */
import type * as vl from 'vega-lite';
import { variantsOf } from '../runs.js';
import { accuracyFloor, FIGURE_CONFIG, PANEL } from './figure.js';
import { readPaperCurves } from './paper.js';
import { meanAccuracyCurve } from './report.js';
import type { RunData } from './run-data.js';

const PAPER_LINE = "paper's Fig. 1(a)";

export function sweepFigureSpec(data: RunData, curves = readPaperCurves()): vl.TopLevelSpec {
  const x = { field: 'step', type: 'quantitative', title: 'training steps', axis: { format: '~s' } } as const;
  const panels = [false, true].flatMap((bn) => {
    const settings = variantsOf(data.config).filter((v) => v.bn === bn);
    if (settings.length === 0) return [];
    const rows = settings.flatMap((v) => meanAccuracyCurve(data, v.name).map((p) => ({ setting: v.name, step: p.step, value: p.value })));
    const paper = (bn ? curves.bn : curves.baseline).map((p) => ({ setting: PAPER_LINE, step: p.step, value: p.value }));
    const floor = accuracyFloor(settings.map((v) => meanAccuracyCurve(data, v.name).map((p) => p.value)));
    const y = { field: 'value', type: 'quantitative', title: 'test accuracy', scale: { domain: [floor, 1] } } as const;
    const color = { field: 'setting', type: 'nominal', title: 'setting', legend: { symbolType: 'stroke' } } as const;
    return [
      {
        title: bn ? 'with BN' : 'without BN',
        ...PANEL,
        layer: [
          { data: { values: rows }, mark: { type: 'line', clip: true }, encoding: { x, y, color } },
          { data: { values: paper }, mark: { type: 'line', clip: true, strokeDash: [4, 3], color: 'black' }, encoding: { x, y } },
        ],
      },
    ];
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    config: FIGURE_CONFIG,
    title: { text: `${data.config.name}: test accuracy, mean over ${data.seeds.length} seed(s); dashed: ${PAPER_LINE}`, fontSize: 13 },
    hconcat: panels,
    resolve: { scale: { color: 'independent', y: 'independent' } },
  } as unknown as vl.TopLevelSpec; // literal mark types widen to string in this nested literal
}
