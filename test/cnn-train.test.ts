/**
 * The CNN in the train loop (src/training/train.ts through src/model/model.ts and the tfjs engine): every
 * tensor a run makes is released, both inference modes learn a learnable synthetic task, a
 * sweep entry's activation reaches the net, and seeded runs repeat exactly.
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { Variant } from '../src/config/config.js';
import { createModel, disposeModel, isConvNet } from '../src/model/model.js';
import { MemoryRecorder } from '../src/training/records.js';
import { trainRun } from '../src/training/train.js';
import { Rng } from '../src/core/random.js';
import { syntheticDataset, testConfig, useTestBackend } from './helpers.js';
import { TINY_CNN_MODEL } from './net-fixtures.js';

before(useTestBackend);

const data = syntheticDataset(600, 200);
const cnn = (extra: Record<string, unknown> = {}) =>
  testConfig({
    model: TINY_CNN_MODEL,
    train: { steps: 60, batchSize: 20, learningRate: 0.2 },
    eval: { every: 30, units: [0, 3], probeSize: 50 },
    batchNorm: { populationBatches: 2 },
    ...extra,
  });
const BN: Variant = { name: 'bn', bn: true, lrMultiplier: 1 };
const BASELINE: Variant = { name: 'baseline', bn: false, lrMultiplier: 1 };

test('a whole CNN run releases every tensor it made (both arms, both inference modes)', async () => {
  const before = tf.memory().numTensors;
  for (const inference of ['population', 'moving']) {
    for (const variant of [BN, BASELINE])
      await trainRun(variant, 0, { config: cnn({ batchNorm: { populationBatches: 2, inference } }), data, recorder: new MemoryRecorder() });
  }
  assert.equal(tf.memory().numTensors, before);
});

for (const inference of ['population', 'moving']) {
  test(`CNN with ${inference} statistics: rows at 0, 30, 60; one activation row per unit of hidden layer 0; learns`, async () => {
    const rec = new MemoryRecorder();
    const config = cnn({ train: { steps: 60, batchSize: 20, learningRate: 0.2 }, batchNorm: { populationBatches: 2, inference } });
    await trainRun(BN, 1, { config, data, recorder: rec });
    assert.deepEqual(
      rec.evals.map((r) => r.step),
      [0, 30, 60],
    );
    assert.equal(rec.activations.length, 3 * 2);
    for (const a of rec.activations) assert.equal(a.layer, 0);
    // Four classes by which quarter holds the most ink (helpers.ts): chance is 0.25.
    assert.ok(rec.evals[2].testAccuracy > 0.5, `accuracy ${rec.evals[2].testAccuracy}`);
  });
}

test("the same seed gives identical CNN records; a sweep entry's activation reaches the net", async () => {
  const run = async (variant: Variant) => {
    const rec = new MemoryRecorder();
    await trainRun(variant, 2, { config: cnn(), data, recorder: rec });
    return rec.evals.map((e) => [e.step, e.trainLoss, e.testLoss, e.testAccuracy]);
  };
  assert.deepEqual(await run(BN), await run(BN));
  const sigmoid = { ...BN, name: 'bn-sigmoid', activation: 'sigmoid' as const };
  assert.notDeepEqual(await run(sigmoid), await run(BN));
  const { net } = createModel(cnn(), sigmoid, Rng.stream(0, 'init'));
  assert.ok(isConvNet(net) && net.activation === 'sigmoid');
  disposeModel(net);
});
