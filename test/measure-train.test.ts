/**
 * The Santurkar et al. measurements inside a training run: taken at the configured evaluations
 * with the expected rows, without changing training (same seed, same records with them on or
 * off), without leaking tensors; and the config keys that control them.
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { UsageError } from '../src/core/errors.js';
import { measuresAt } from '../src/config/schedule.js';
import { MemoryRecorder } from '../src/training/records.js';
import { trainRun } from '../src/training/train.js';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runExperiment } from '../src/experiment.js';
import { silentLogger } from '../src/core/logger.js';
import { syntheticDataset, tempDir, testConfig, timelessRows, useTestBackend } from './helpers.js';

before(useTestBackend);

const data = syntheticDataset(600, 200);
const tiny = (landscape: Record<string, unknown>) =>
  testConfig({
    train: { steps: 70, batchSize: 20, learningRate: 0.5 },
    model: { hiddenUnits: [16, 16, 16] },
    eval: { every: 20, units: [0, 3], landscape },
    batchNorm: { populationBatches: 4 },
  });

for (const bn of [false, true]) {
  const variant = { name: bn ? 'bn' : 'baseline', bn, lrMultiplier: 1 };

  test(`${variant.name}: measuring changes no training record, and its rows come at the chosen evaluations`, async () => {
    const off = new MemoryRecorder();
    const on = new MemoryRecorder();
    await trainRun(variant, 4, { config: tiny({ every: 0 }), data, recorder: off });
    await trainRun(variant, 4, { config: tiny({ every: 2, stepMultiples: [0.5, 2] }), data, recorder: on });
    const strip = (r: MemoryRecorder) => [...r.evals.map(({ elapsedS: _e, ...rest }) => rest), ...r.activations];
    assert.deepEqual(strip(on), strip(off));
    assert.equal(off.ics.length + off.landscape.length, 0);
    // Evaluations at 0, 20, 40, 60, 70; every 2nd: 0, 40, and the last step 70.
    assert.deepEqual(
      on.landscape.map((r) => r.step),
      [0, 40, 70],
    );
    assert.deepEqual(
      on.ics.map((r) => `${r.step}/${r.layer}`),
      [0, 40, 70].flatMap((s) => [0, 1, 2, 3].map((l) => `${s}/${l}`)),
    );
    for (const r of on.ics.filter((x) => x.layer === 0)) assert.deepEqual([r.l2, r.cosine], [0, 1]);
    for (const r of on.ics.filter((x) => x.layer > 0)) assert.ok(r.l2 > 0 && r.cosine > 0 && r.cosine <= 1, JSON.stringify(r));
    for (const r of on.landscape) assert.ok(r.lossMin > 0 && r.lossMin < r.lossMax && r.gradChangeMax > 0 && r.betaSmoothness > 0, JSON.stringify(r));
    assert.ok(on.landscape.every((r) => r.arm === variant.name && r.seed === 4));
  });
}

test('the same seed writes identical accuracy.csv and activations.csv with measurements on or off (2 jobs, the CLI path)', async () => {
  const csvs = async (landscape: Record<string, unknown>) => {
    const config = testConfig({
      jobs: 2,
      train: { steps: 120, learningRate: 0.5 },
      eval: { every: 40, probeSize: 100, units: [1], landscape },
      batchNorm: { populationBatches: 3 },
      data: { source: 'embedded', trainSubset: 600, testSubset: 200 },
    });
    const dir = join(tempDir(), 'run');
    await runExperiment(config, dir, { logger: silentLogger, tty: false, quiet: true });
    return { accuracy: timelessRows(dir, 'accuracy.csv'), activations: timelessRows(dir, 'activations.csv'), files: readdirSync(dir).sort() };
  };
  const off = await csvs({ every: 0 });
  const on = await csvs({ every: 1 });
  assert.equal(off.accuracy.length, 2 * 4);
  assert.deepEqual(on.accuracy, off.accuracy);
  assert.deepEqual(on.activations, off.activations);
  assert.deepEqual(
    on.files.filter((f) => !off.files.includes(f)),
    ['ics.csv', 'landscape.csv'],
  );
});

test('a run with measurements releases every tensor it made', async () => {
  const before = tf.memory().numTensors;
  for (const bn of [false, true]) await trainRun({ name: 'x', bn, lrMultiplier: 1 }, 0, { config: tiny({ every: 1 }), data, recorder: new MemoryRecorder() });
  assert.equal(tf.memory().numTensors, before);
});

test('measuresAt: step 0, multiples of every x eval.every, the last step; never when off', () => {
  const config = tiny({ every: 3 });
  assert.deepEqual(
    [0, 20, 40, 60, 70].filter((s) => measuresAt(config, s)),
    [0, 60, 70],
  );
  assert.deepEqual(
    [0, 20, 70].filter((s) => measuresAt(tiny({ every: 0 }), s)),
    [],
  );
});

test('eval.landscape keys: a wrong value is an error naming the key', () => {
  assert.throws(
    () => tiny({ every: -1 }),
    (e: Error) => e instanceof UsageError && /"eval\.landscape\.every" must be a non-negative integer \(0 = off\)/.test(e.message),
  );
  assert.throws(() => tiny({ stepMultiples: [] }), /"eval\.landscape\.stepMultiples" must be a list of at least 1 positive numbers/);
  assert.throws(() => tiny({ stepMultiples: [1, -2] }), /"eval\.landscape\.stepMultiples" must be a list of positive numbers/);
  assert.throws(() => tiny({ often: 1 }), /unknown config key "eval\.landscape\.often"/);
});
