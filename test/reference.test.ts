/** The fast training step gives the same training trajectory as the straightforward tfjs loop. */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { BatchSampler } from '../src/model/batches.js';
import { createNet, disposeNet, netVariables } from '../src/model/net.js';
import { ReferenceTrainer } from '../src/model/reference.js';
import { sgdStep } from '../src/model/sgd.js';
import { variable } from '../src/model/net.js';
import { Rng } from '../src/core/random.js';
import { syntheticSplit, useTestBackend } from './helpers.js';

before(useTestBackend);

const train = syntheticSplit(1200, 1);
const shape = { inputSize: 784, hiddenUnits: [100, 100, 100], classes: 10 };

for (const bn of [false, true]) {
  test(`${bn ? 'BN' : 'baseline'}: 300 fast steps match 300 optimizer.minimize steps to float tolerance`, () => {
    const opts = { bn, initStd: 0.1, epsilon: 1e-3 };
    const fast = createNet(shape, opts, Rng.stream(0, 'init'));
    const ref = createNet(shape, opts, Rng.stream(0, 'init'));
    const fastBatches = new BatchSampler(train, 60, Rng.stream(0, 'shuffle'));
    const refBatches = new BatchSampler(train, 60, Rng.stream(0, 'shuffle'));
    const trainer = new ReferenceTrainer(ref, train, 0.5);
    const lossSum = variable(tf.scalar(0));
    let previous = 0;
    for (let step = 1; step <= 300; step++) {
      const b = fastBatches.next();
      sgdStep(fast, b, 0.5, lossSum);
      tf.dispose([b.x, b.xT, b.y]);
      const refLoss = trainer.step(refBatches.nextIndices());
      const total = lossSum.dataSync()[0];
      assert.ok(Math.abs(total - previous - refLoss) <= 1e-4 + 1e-3 * refLoss, `step ${step}: loss ${total - previous} vs ${refLoss}`);
      previous = total;
    }
    const a = netVariables(fast);
    const r = netVariables(ref);
    a.forEach((v, i) => {
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(v, r[i]))).dataSync()[0]);
      const scale = tf.tidy(() => tf.max(tf.abs(r[i])).dataSync()[0]);
      assert.ok(diff <= 1e-3 * Math.max(1, scale), `${v.name}: max |fast - reference| = ${diff}`);
    });
    assert.ok(previous / 300 < 2.2, 'and the run actually trained');
    trainer.dispose();
    disposeNet(fast);
    disposeNet(ref);
    lossSum.dispose();
  });
}
