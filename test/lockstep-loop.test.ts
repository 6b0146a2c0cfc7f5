/**
 * trainLockstep (src/training/lockstep.ts) in process, on ort-cpu, against trainRun run by run: the same
 * evaluations, activations and landscape measurements, bit for bit, for members that differ in
 * arm, learning rate, init std and BN inference (moving averages); a stop request checkpoints
 * every member, and members resumed out of phase (one from its checkpoint, one from step 0) end
 * with the rows of runs that never stopped.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initBackend } from '../src/engines/backend.js';
import type { Variant } from '../src/config/config.js';
import { loadDataset } from '../src/data/load.js';
import { silentLogger } from '../src/core/logger.js';
import type { RunCheckpoint } from '../src/training/checkpoint-state.js';
import { trainLockstep } from '../src/training/lockstep.js';
import type { RunSpec } from '../src/training/records.js';
import { MemoryRecorder } from '../src/training/records.js';
import { trainRun } from '../src/training/train.js';
import { testConfig } from './helpers.js';

const config = testConfig({
  train: { steps: 240, learningRate: 0.5, checkpointEvery: 0 },
  eval: { every: 60, probeSize: 200, units: [0, 2], landscape: { every: 2, stepMultiples: [0.5, 2] } },
  batchNorm: { inference: 'moving', momentum: 0.9 },
  data: { source: 'embedded', trainSubset: 1000, testSubset: 300 },
});
const data = await loadDataset(config, { logger: silentLogger });
await initBackend('ort-cpu', silentLogger);

const VARIANTS: Variant[] = [
  { name: 'baseline', bn: false, lrMultiplier: 1 },
  { name: 'bn', bn: true, lrMultiplier: 1 },
  { name: 'bn-x3-wide', bn: true, lrMultiplier: 3, initStd: 0.3 },
];
const SEED = 4;

/** Everything a recorder got, timing aside, ordered by run so that interleaving does not matter. */
function recorded(r: MemoryRecorder): string {
  const byRun = <T extends { arm: string }>(xs: T[]) => VARIANTS.flatMap((v) => xs.filter((x) => x.arm === v.name));
  return JSON.stringify({
    evals: byRun(r.evals.map(({ elapsedS: _t, ...e }) => e)),
    activations: byRun(r.activations),
    ics: byRun(r.ics),
    landscape: byRun(r.landscape),
  });
}

class CheckpointRecorder extends MemoryRecorder {
  readonly saved = new Map<string, RunCheckpoint>();
  checkpoint(state: RunCheckpoint): void {
    this.saved.set(state.arm, state);
  }
}

const separate = new MemoryRecorder();
for (const v of VARIANTS) await trainRun(v, SEED, { config, data, recorder: separate });

test("trainLockstep gives trainRun's evaluations, activations and landscape measurements bit for bit (moving averages, lr and init std per member)", async () => {
  const stacked = new MemoryRecorder();
  const summaries = await trainLockstep(
    VARIANTS.map((variant) => ({ variant, seed: SEED })),
    { config, data, recorder: stacked },
  );
  assert.deepEqual(
    summaries.map((s) => [s.arm, s.steps]),
    VARIANTS.map((v) => [v.name, 240]),
  );
  assert.ok(separate.landscape.length > 0 && separate.evals.length === 3 * 5);
  assert.equal(recorded(stacked), recorded(separate));
});

test('a stop request checkpoints every member; resumed out of phase, the members end with the rows of runs never stopped', async () => {
  const first = new CheckpointRecorder();
  let polls = 0;
  // Polled every 50 steps: stop at step 100.
  const stopped = await trainLockstep(
    VARIANTS.map((variant) => ({ variant, seed: SEED })),
    { config, data, recorder: first, shouldStop: () => ++polls === 2 },
  );
  assert.deepEqual(
    stopped.map((s) => [s.interrupted, s.steps]),
    VARIANTS.map(() => [true, 100]),
  );
  assert.deepEqual(
    [...first.saved.values()].map((c) => c.step),
    [100, 100, 100],
  );
  // The baseline starts over from step 0, the BN members continue from step 100: steps out of phase.
  const rest = new MemoryRecorder();
  const specs: RunSpec[] = VARIANTS.map((variant) => ({ variant, seed: SEED, resume: variant.bn ? first.saved.get(variant.name) : undefined }));
  await trainLockstep(specs, { config, data, recorder: rest });
  const joined = new MemoryRecorder();
  for (const r of [first, rest]) {
    const keep = <T extends { arm: string; step: number }>(x: T) => x.arm !== 'baseline' || r === rest;
    joined.evals.push(...r.evals.filter(keep));
    joined.activations.push(...r.activations.filter(keep));
    joined.ics.push(...r.ics.filter(keep));
    joined.landscape.push(...r.landscape.filter(keep));
  }
  assert.equal(recorded(joined), recorded(separate));
});
