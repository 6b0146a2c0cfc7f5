/**
 * CNN lockstep on the engine under test (BN_REPRO_ORT_BACKEND, default ort-cpu; `npm run
 * test:webgpu` runs it on ort-webgpu through SwiftShader, where `lockstep: auto` stacks CNN runs by
 * default): two CNN members stacked in one graph (the copies layout on every provider) write the
 * rows of the same runs trained alone on that engine. lockstep-cnn.test.ts holds the ort-cpu cases
 * (bit for bit, divergence, resume, momentum); this one is small enough for SwiftShader.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Variant } from '../src/config/config.js';
import { silentLogger } from '../src/core/logger.js';
import { loadDataset } from '../src/data/load.js';
import { initBackend } from '../src/engines/backend.js';
import { trainLockstep } from '../src/training/lockstep.js';
import { MemoryRecorder } from '../src/training/records.js';
import { trainRun } from '../src/training/train.js';
import { ENGINE, cnnConfig } from './ort-cnn-fixture.js';

/** SwiftShader takes ~0.9 s a step of this net: a few steps, one evaluation after step 0. */
const STEPS = Number(process.env.BN_REPRO_ORT_STEPS ?? 20);
const config = cnnConfig(STEPS, { inference: 'moving' });
const data = await loadDataset(config, { logger: silentLogger });
await initBackend(ENGINE, silentLogger);
const VARIANTS: Variant[] = [
  { name: 'baseline', bn: false, lrMultiplier: 1 },
  { name: 'bn-x5-sigmoid', bn: true, lrMultiplier: 5, activation: 'sigmoid' },
];

/** Rows timing aside, ordered by run. */
function rows(r: MemoryRecorder) {
  const byRun = <T extends { arm: string }>(xs: T[]) => VARIANTS.flatMap((v) => xs.filter((x) => x.arm === v.name));
  return { evals: byRun(r.evals.map(({ elapsedS: _t, ...e }) => e)), activations: byRun(r.activations) };
}

test(`${ENGINE}: two CNN runs stacked in lockstep write the rows of the same runs trained alone`, async () => {
  const alone = new MemoryRecorder();
  for (const v of VARIANTS) await trainRun(v, 1, { config, data, recorder: alone });
  const stacked = new MemoryRecorder();
  const summaries = await trainLockstep(
    VARIANTS.map((variant) => ({ variant, seed: 1 })),
    { config, data, recorder: stacked },
  );
  assert.deepEqual(
    summaries.map((s) => [s.arm, s.steps]),
    VARIANTS.map((v) => [v.name, STEPS]),
  );
  const a = rows(stacked);
  const b = rows(alone);
  assert.equal(a.evals.length, b.evals.length);
  assert.ok(a.evals.length >= 2 * VARIANTS.length, 'step 0 and at least one later evaluation per run');
  // The same kernels on the same inputs: equal on the CPU provider; held to 1e-6 on a GPU provider.
  const tol = ENGINE === 'ort-cpu' ? 0 : 1e-6;
  a.evals.forEach((e, i) => {
    const w = b.evals[i];
    assert.deepEqual([e.arm, e.step], [w.arm, w.step]);
    assert.ok(Math.abs(e.testLoss - w.testLoss) <= tol * Math.abs(w.testLoss), `${e.arm} step ${e.step}: test loss ${e.testLoss} vs ${w.testLoss}`);
    assert.equal(e.testAccuracy, w.testAccuracy, `${e.arm} step ${e.step}: accuracy`);
    if (w.trainLoss !== null) assert.ok(Math.abs(e.trainLoss! - w.trainLoss) <= tol * Math.abs(w.trainLoss), `${e.arm} step ${e.step}: train loss`);
  });
  // Both runs trained: each one's test loss moved from its step-0 value.
  for (const v of VARIANTS) {
    const mine = a.evals.filter((e) => e.arm === v.name);
    assert.notEqual(mine.at(-1)!.testLoss, mine[0].testLoss, `${v.name} trained`);
  }
  assert.equal(a.activations.length, b.activations.length);
  a.activations.forEach((x, i) => {
    const y = b.activations[i];
    for (const [p, q] of x.percentiles.map((p, j) => [p, y.percentiles[j]])) assert.ok(Math.abs(p - q) <= 1e-5 + tol, `${x.arm} step ${x.step}: ${p} vs ${q}`);
  });
});
