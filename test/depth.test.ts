/**
 * Depth sweeps (issue 20, item 3), from hand-built data: the depth table with known numbers, the
 * accuracy-against-depth figure's points, colours and rendered files, and sweep entries' own
 * hiddenUnits validated like model.hiddenUnits. A depth sweep trained by the CLI, its CSVs, report
 * and plot are in depth-cli.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { baselineLimit, buildDepthTable, depthEntries, isDepthSweep, stepsCell } from '../src/analysis/depth-table.js';
import { depthFigureSpec, depthPoints } from '../src/analysis/depth-figure.js';
import { renderPng, renderSvg } from '../src/analysis/figure.js';
import { NETWORK_PALETTE } from '../src/analysis/figure-style.js';
import type { AccuracyRow, RunData } from '../src/analysis/run-data.js';
import { UsageError } from '../src/core/errors.js';
import { hiddenUnitsOf } from '../src/config/runs.js';
import { testConfig } from './helpers.js';

const three = [100, 100, 100];
const six = [100, 100, 100, 100, 100, 100];
/** network -> per seed, test accuracy at steps 0, 100, 200. */
const CURVES: Record<string, number[][]> = {
  'baseline-3': [
    [0.1, 0.92, 0.95],
    [0.1, 0.85, 0.93],
  ],
  'bn-3': [
    [0.1, 0.95, 0.97],
    [0.1, 0.96, 0.98],
  ],
  'baseline-6': [
    [0.1, 0.1, 0.11],
    [0.1, 0.5, 0.91],
  ],
  'bn-6': [
    [0.1, 0.93, 0.96],
    [0.1, 0.94, 0.97],
  ],
  'baseline-6-std0.05': [
    [0.1, 0.1, 0.1],
    [0.1, 0.1, 0.12],
  ],
};

function depthData(): RunData {
  const sweep = [
    { name: 'baseline-3', bn: false, lrMultiplier: 1, hiddenUnits: three },
    { name: 'bn-3', bn: true, lrMultiplier: 1, hiddenUnits: three },
    { name: 'baseline-6', bn: false, lrMultiplier: 1, hiddenUnits: six },
    { name: 'bn-6', bn: true, lrMultiplier: 1, hiddenUnits: six },
    { name: 'baseline-6-std0.05', bn: false, lrMultiplier: 1, initStd: 0.05, hiddenUnits: six },
  ];
  const config = testConfig({ name: 'depth', seeds: [0, 1], sweep, train: { steps: 200 } });
  const accuracy: AccuracyRow[] = Object.entries(CURVES).flatMap(([arm, seeds]) =>
    seeds.flatMap((values, seed) => values.map((testAccuracy, i) => ({ arm, seed, step: i * 100, trainLoss: 0, testLoss: 0, testAccuracy }))),
  );
  return { dir: '/nowhere', runJson: { runs: [] }, config, arms: sweep.map((v) => v.name), seeds: [0, 1], accuracy, activations: [] };
}

test('the depth table: per depth, steps to 90% and final accuracy of both families (mean ± std over seeds), other settings on their own rows', () => {
  const table = buildDepthTable(depthData()).split('\n');
  // baseline-3: seeds reach 90% at 100 and 200 (150 ± 70.7), end at 0.95 and 0.93 (0.94 ± 0.01414).
  // bn-3: 100 and 100; 0.97, 0.98. baseline-6: one seed never reaches 90%, the other at 200; 0.11, 0.91 (0.51 ± 0.5657).
  assert.ok(table.includes('| 3 | 150 ± 71 | 0.9400 ± 0.0141 | 100 ± 0 | 0.9750 ± 0.0071 |'), table.join('\n'));
  assert.ok(table.includes('| 6 | 200 (1 of 2 seeds) | 0.5100 ± 0.5657 | 100 ± 0 | 0.9650 ± 0.0071 |'), table.join('\n'));
  assert.ok(table.includes('| baseline-6-std0.05 | no | 6 | 0.1 | 0.05 | not reached | 0.1100 ± 0.0141 |'), table.join('\n'));
  assert.equal(table.filter((l) => /^\| \d+ \|/.test(l)).length, 2, 'one row per depth');
  assert.ok(
    table.includes('The baseline stops training at 6 hidden layers (final accuracy 0.5100 ± 0.5657, below 90%); at 3 it still ends at 0.9400 ± 0.0141.'),
    table.join('\n'),
  );
});

test('depth entries, steps cells and the baseline limit', () => {
  const entries = depthEntries(depthData());
  assert.deepEqual(
    entries.map((e) => [e.variant.name, e.depth, e.family, e.steps]),
    [
      ['baseline-3', 3, true, [100, 200]],
      ['bn-3', 3, true, [100, 100]],
      ['baseline-6', 6, true, [null, 200]],
      ['bn-6', 6, true, [100, 100]],
      ['baseline-6-std0.05', 6, false, [null, null]],
    ],
  );
  assert.equal(stepsCell([1000, 2000, 4000]), '2,333 ± 1,528');
  assert.equal(stepsCell([500]), '500');
  assert.equal(stepsCell([null, null]), 'not reached');
  assert.equal(stepsCell([]), '–');
  const trained = entries.map((e) => ({ ...e, finals: [0.95, 0.97] }));
  assert.equal(baselineLimit(trained), 'The baseline ends at or above 90% at every depth trained (up to 6 hidden layers).');
  // A depth without rows (a shard holding other runs) is not where the baseline stops.
  const unrun = entries.map((e) => (e.depth === 3 ? { ...e, finals: [], steps: [] } : e));
  assert.equal(baselineLimit(unrun), 'The baseline stops training at 6 hidden layers (final accuracy 0.5100 ± 0.5657, below 90%).');
  assert.equal(isDepthSweep(depthData()), true);
  assert.equal(
    isDepthSweep({
      config: testConfig({
        sweep: [
          { name: 'a', bn: false, lrMultiplier: 1 },
          { name: 'b', bn: true, lrMultiplier: 5 },
        ],
      }),
    }),
    false,
  );
});

test('the depth figure: a line per family, the other settings as points, mean ± std bars, the palette in legend order; SVG and PNG render', async () => {
  const data = depthData();
  const { families, others } = depthPoints(data);
  const round = (p: { series: string; depth: number; mean: number; lo: number; hi: number }) => [
    p.series,
    p.depth,
    ...[p.mean, p.lo, p.hi].map((x) => Number(x.toFixed(4))),
  ];
  assert.deepEqual(families.map(round), [
    ['without BN', 3, 0.94, 0.9259, 0.9541],
    ['without BN', 6, 0.51, -0.0557, 1.0757],
    ['with BN', 3, 0.975, 0.9679, 0.9821],
    ['with BN', 6, 0.965, 0.9579, 0.9721],
  ]);
  assert.deepEqual(others.map(round), [['baseline-6-std0.05', 6, 0.11, 0.0959, 0.1241]]);
  const spec = depthFigureSpec(data) as unknown as { layer: { encoding: { color?: { scale: { domain: string[]; range: string[] } } } }[] };
  const scale = spec.layer[0].encoding.color!.scale;
  assert.deepEqual(scale.domain, ['without BN', 'with BN', 'baseline-6-std0.05']);
  assert.deepEqual(scale.range, NETWORK_PALETTE.slice(0, 3));
  const svg = await renderSvg(depthFigureSpec(data));
  assert.match(svg, /^<svg[^>]* width="\d+" height="\d+"/);
  for (const label of ['hidden layers', 'final test accuracy', 'without BN', 'with BN', 'baseline-6-std0.05'])
    assert.ok(svg.includes(`>${label}</text>`), label);
  const png = renderPng(svg);
  assert.deepEqual([...png.subarray(1, 4)].map((b) => String.fromCharCode(b)).join(''), 'PNG');
  assert.ok(png.readUInt32BE(16) > 300 && png.readUInt32BE(20) > 200, 'a PNG of the figure size');
});

test("a sweep entry's hiddenUnits is validated like model.hiddenUnits: one sentence naming the key", () => {
  const entry = (hiddenUnits: unknown) => ({ sweep: [{ name: 'deep', bn: false, lrMultiplier: 1, hiddenUnits }] });
  const refused = (overrides: Record<string, unknown>, sentence: string) =>
    assert.throws(
      () => testConfig(overrides),
      (err: Error) => err instanceof UsageError && err.message === sentence,
      sentence,
    );
  const list = 'test: config key "sweep" must be a list of { name, bn, lrMultiplier, initStd?, activation?, hiddenUnits? } entries (an entry hiddenUnits';
  refused(
    entry([0]),
    `${list} must be a list of layer widths (integers in [1, 10000])) (got [{"name":"deep","bn":false,"lrMultiplier":1,"hiddenUnits":[0]}]).`,
  );
  refused(
    entry([]),
    `${list} must be a list of at least 1 layer widths (integers in [1, 10000])) (got [{"name":"deep","bn":false,"lrMultiplier":1,"hiddenUnits":[]}]).`,
  );
  const tooDeep = new Array(21).fill(10);
  assert.throws(() => testConfig(entry(tooDeep)), /an entry hiddenUnits must be a list of at most 20 layer widths/);
  assert.throws(() => testConfig(entry('100')), /an entry hiddenUnits must be a list of layer widths/);
  // The recorded units must lie in every network's last hidden layer.
  refused(entry([100, 3]), 'test: config key "eval.units" holds unit 3, outside the last hidden layer of sweep entry "deep" of 3 units.');
  // And every network must fit the memory bounds, each named.
  // 784 x 10,000 + 2 x 10,000 x 10,000 + 10,000 x 10 weights, 10 output biases, 2 x 30,000 per-unit parameters.
  refused(
    entry([10000, 10000, 10000]),
    `test: the hiddenUnits of sweep entry "deep" holds 208,000,010 parameters, more than the 50,000,000 that a checkpoint and the wasm backend's 4 GiB heap hold.`,
  );
  assert.deepEqual(hiddenUnitsOf(testConfig(entry([7, 7])), testConfig(entry([7, 7])).sweep[0]), [7, 7]);
  assert.deepEqual(hiddenUnitsOf(testConfig({}), { name: 'x', bn: false, lrMultiplier: 1 }), [100, 100, 100]);
});
