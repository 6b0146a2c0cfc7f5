/** Seed bands, steps-to-target, stability metrics, shard assignment, and the report on known rows. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { band, meanAndSampleStd, stability, stepsToReach, valueAt } from '../src/analysis/stats.js';
import { parseShard, shardOf } from '../src/run/shard.js';
import { DEFAULTS, type ResolvedConfig } from '../src/config/config.js';
import { runsOf } from '../src/config/runs.js';
import { assertClose } from './helpers.js';

test('band: mean, sample std, min and max over seeds at each step', () => {
  const points = [
    { seed: 0, step: 0, value: 0.1 },
    { seed: 1, step: 0, value: 0.3 },
    { seed: 2, step: 0, value: 0.2 },
    { seed: 0, step: 500, value: 0.9 },
    { seed: 1, step: 500, value: 0.94 },
  ];
  const b = band(points);
  assert.deepEqual(
    b.map((p) => [p.step, p.n]),
    [
      [0, 3],
      [500, 2],
    ],
  );
  assertClose(b[0].mean, 0.2, 1e-12, 'mean at 0');
  assertClose(b[0].std, 0.1, 1e-12, 'sample std at 0'); // sqrt(((-.1)^2 + .1^2 + 0) / 2)
  assert.deepEqual([b[0].min, b[0].max], [0.1, 0.3]);
  assertClose(b[1].mean, 0.92, 1e-12, 'mean at 500');
  assertClose(b[1].std, Math.sqrt(0.0008), 1e-12, 'sample std at 500');
  assert.deepEqual(meanAndSampleStd([5]), { mean: 5, std: 0 });
});

test('steps to target: the first evaluation at or above it, or null', () => {
  const curve = [0.5, 0.9, 0.95, 0.949, 0.97].map((value, i) => ({ step: i * 100, value }));
  assert.equal(stepsToReach(curve, 0.95), 200);
  assert.equal(stepsToReach(curve, 0.96), 400);
  assert.equal(stepsToReach(curve, 0.5), 0);
  assert.equal(stepsToReach(curve, 0.98), null);
  assert.equal(valueAt(curve, 250), 0.95);
  assert.equal(valueAt(curve, 1000), 0.97);
});

test('stability: spread change and median drift after 10% of training', () => {
  // 1000 steps: measurement starts at the first evaluation >= 100, i.e. step 100.
  const trace = [
    { step: 0, p15: -5, p50: 9, p85: 5 }, // before 10%: ignored
    { step: 100, p15: -1, p50: 0, p85: 1 },
    { step: 500, p15: -1.5, p50: 0.4, p85: 2 },
    { step: 1000, p15: -2, p50: -0.1, p85: 2 },
  ];
  const s = stability(trace, 1000)!;
  assert.equal(s.fromStep, 100);
  assert.equal(s.toStep, 1000);
  assert.equal(s.spreadFrom, 2);
  assert.equal(s.spreadTo, 4);
  assert.equal(s.spreadChange, 2);
  assertClose(s.medianDrift, 0.4, 1e-12, 'largest |p50 - p50(100)|');
  assert.equal(stability([], 1000), null);
});

test('shards: every run in exactly one shard, whatever the shard count', () => {
  const config = {
    ...structuredClone(DEFAULTS),
    seeds: [0, 1, 2],
    sweep: ['a', 'b', 'c', 'd', 'e'].map((name) => ({ name, bn: true, lrMultiplier: 1 })),
  } as ResolvedConfig;
  const all = runsOf(config).map((r) => `${r.variant.name}/${r.seed}`);
  assert.equal(all.length, 15);
  for (const n of [1, 2, 4, 7, 15, 20]) {
    const seen = Array.from({ length: n }, (_, i) => shardOf(runsOf(config), { index: i + 1, count: n }).map((r) => `${r.variant.name}/${r.seed}`)).flat();
    assert.deepEqual([...seen].sort(), [...all].sort(), `n = ${n}`);
    assert.equal(new Set(seen).size, all.length);
  }
  assert.deepEqual(shardOf(['r0', 'r1', 'r2', 'r3', 'r4'], { index: 2, count: 2 }), ['r1', 'r3']);
  assert.deepEqual(parseShard('3/8'), { index: 3, count: 8 });
  for (const bad of ['0/4', '5/4', '2', 'a/b', '1/0']) assert.throws(() => parseShard(bad), /--shard must be i\/n/);
});
