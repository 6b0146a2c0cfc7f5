/**
 * The distance to the paper (its Fig. 1a points shipped in paper/) and the fairly-tuned table:
 * interpolation and RMSE against hand-computed values, the best setting of each family.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { interpolate, readPaperCurves, readPaperPercentiles, rmseToPaper } from '../src/analysis/paper.js';
import type { RunData } from '../src/analysis/run-data.js';
import { familyArm } from '../src/analysis/report.js';
import { bestOf, fairlyTunedTable, sweepHeading, tunedEntries } from '../src/analysis/sweep-table.js';
import { testConfig } from './helpers.js';

test('the shipped Fig. 1(a) points: both curves, sorted, from 3,581 and 4,024 steps, accuracies in (0.7, 1)', () => {
  const { bn, baseline } = readPaperCurves();
  assert.deepEqual([baseline[0].step, bn[0].step], [3581, 4024]);
  assert.equal(baseline[0].value, 0.7117);
  for (const c of [bn, baseline]) {
    assert.ok(c.length > 60);
    assert.ok(c.every((p, i) => i === 0 || p.step > c[i - 1].step));
    assert.ok(c.every((p) => p.value > 0.7 && p.value < 1));
  }
});

test('the shipped Fig. 1(b, c) percentiles: start and end of both networks, as paper/README.md lists them', () => {
  const { baseline, bn } = readPaperPercentiles();
  assert.deepEqual(baseline, { start: [0.76, 0.8, 0.83], end: [-1.86, -0.01, 1.69] });
  assert.deepEqual(bn, { start: [-1.05, -0.15, 1.25], end: [-1.95, 0.02, 1.97] });
});

test("the report table's paper values are the digitized curve interpolated at 10k-40k steps (what the figure shows)", () => {
  const { baseline, bn } = readPaperCurves();
  const at = (c: typeof bn) => [10000, 20000, 30000, 40000].map((s) => Number(interpolate(c, s)?.toFixed(3)));
  // The values once typed into the report by hand from the figure, now read from paper/fig1a.csv.
  assert.deepEqual(at(baseline), [0.926, 0.963, 0.968, 0.972]);
  assert.deepEqual(at(bn), [0.966, 0.974, 0.978, 0.98]);
});

test('interpolation is linear between points and undefined outside them', () => {
  const curve = [
    { step: 100, value: 0.5 },
    { step: 200, value: 0.7 },
    { step: 300, value: 0.9 },
  ];
  assert.equal(interpolate(curve, 100), 0.5);
  assert.ok(Math.abs(interpolate(curve, 150)! - 0.6) < 1e-12);
  assert.ok(Math.abs(interpolate(curve, 275)! - 0.85) < 1e-12);
  assert.equal(interpolate(curve, 99), undefined);
  assert.equal(interpolate(curve, 301), undefined);
});

test("RMSE by hand: steps before the paper's first point and after 40,000 are left out", () => {
  const paper = [
    { step: 100, value: 0.5 },
    { step: 200, value: 0.7 },
    { step: 300, value: 0.9 },
  ];
  const ours = [
    { step: 0, value: 0.1 },
    { step: 100, value: 0.6 },
    { step: 150, value: 0.6 },
    { step: 250, value: 0.8 },
    { step: 50000, value: 0.99 },
  ];
  // Compared: 100 (0.6 vs 0.5), 150 (0.6 vs 0.6), 250 (0.8 vs 0.8): sqrt(0.01 / 3).
  const d = rmseToPaper(ours, paper)!;
  assert.equal(d.points, 3);
  assert.ok(Math.abs(d.rmse - Math.sqrt(0.01 / 3)) < 1e-12, String(d.rmse));
  assert.equal(rmseToPaper([{ step: 50, value: 0.5 }], paper), null);
});

/** A sweep folder's data with made-up curves: steps 0..4 x 1000, one seed. */
function sweepData(curves: Record<string, number[]>, bn: Record<string, boolean>): RunData {
  const sweep = Object.keys(curves).map((name) => ({ name, bn: bn[name], lrMultiplier: 1 }));
  const accuracy = Object.entries(curves).flatMap(([arm, values]) =>
    values.map((v, i) => ({ arm, seed: 0, step: i * 1000, trainLoss: null, testLoss: 0, testAccuracy: v })),
  );
  return { dir: 'x', runJson: {}, config: testConfig({ sweep }), arms: Object.keys(curves), seeds: [0], accuracy, activations: [] };
}

test("fairly tuned: each family's best by steps to 97% and by final accuracy, and BN's lead between them", () => {
  const data = sweepData(
    {
      slowBase: [0.1, 0.9, 0.95, 0.97, 0.975],
      fastBase: [0.1, 0.95, 0.97, 0.968, 0.969],
      bnA: [0.1, 0.97, 0.975, 0.978, 0.98],
      bnB: [0.1, 0.96, 0.98, 0.985, 0.986],
    },
    { slowBase: false, fastBase: false, bnA: true, bnB: true },
  );
  const base = bestOf(tunedEntries(data).filter((e) => !e.variant.bn))!;
  assert.deepEqual([base.bySpeed.variant.name, base.bySpeed.steps97, base.byAccuracy.variant.name], ['fastBase', 2000, 'slowBase']);
  const bn = bestOf(tunedEntries(data).filter((e) => e.variant.bn))!;
  assert.deepEqual([bn.bySpeed.variant.name, bn.bySpeed.steps97, bn.byAccuracy.variant.name, bn.byAccuracy.final], ['bnA', 1000, 'bnB', 0.986]);
  const table = fairlyTunedTable(data).join('\n');
  assert.match(table, /\| baseline \| fastBase \| 2,000 \| slowBase \| 0\.9750 \|/);
  assert.match(table, /\| BN \| bnA \| 1,000 \| bnB \| 0\.9860 \|/);
  // 2,000 - 1,000 steps (2.0x); 0.986 - 0.975 = +0.0110.
  assert.match(
    table,
    /: bnA reaches 97% 1,000 steps sooner than fastBase \(step 1,000 against step 2,000, 2\.0x\); by final accuracy, bnB ends \+0\.0110 against slowBase\.$/,
  );
});

test('the sweep heading names what varies', () => {
  const v = (lrMultiplier: number, initStd?: number) => ({ name: 'x', bn: true, lrMultiplier, initStd });
  assert.equal(sweepHeading([v(1), v(5)], 0.1), "## Learning-rate sweep (cf. the paper's Fig. 3)");
  assert.equal(sweepHeading([v(1, 0.03), v(1, 0.1)], 0.1), '## Init-scale sweep');
  assert.equal(sweepHeading([v(1, 0.1), v(1)], 0.1), '## Network sweep', 'initStd 0.1 is the default');
  assert.equal(sweepHeading([v(2, 0.03), v(1)], 0.1), "## Learning-rate and init-scale sweep (cf. the paper's Fig. 3)");
});

test("the network set beside the paper: the arm named baseline/bn, else the family's setting at the config's lr and init std", () => {
  const sweep = [
    { name: 'bn-lr0.5', bn: true, lrMultiplier: 5 },
    { name: 'bn-lr0.1', bn: true, lrMultiplier: 1 },
    { name: 'base-std0.3', bn: false, lrMultiplier: 1, initStd: 0.3 },
    { name: 'base-std0.1', bn: false, lrMultiplier: 1, initStd: 0.1 },
  ];
  const data: RunData = { dir: 'x', runJson: {}, config: testConfig({ sweep }), arms: sweep.map((v) => v.name), seeds: [0], accuracy: [], activations: [] };
  assert.deepEqual([familyArm(data, true), familyArm(data, false)], ['bn-lr0.1', 'base-std0.1']);
  const only = { ...data, config: testConfig({ sweep: sweep.slice(0, 1) }), arms: ['bn-lr0.5'] };
  assert.deepEqual([familyArm(only, true), familyArm(only, false)], [undefined, undefined]);
  const plain = { ...data, config: testConfig({}), arms: ['baseline', 'bn'] };
  assert.deepEqual([familyArm(plain, true), familyArm(plain, false)], ['bn', 'baseline']);
});
