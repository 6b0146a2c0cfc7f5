/**
 * CNN members of a lockstep stack share their evaluation (issue 20): one ORT session per distinct
 * evaluation graph (arm and chunk size; a learning rate or seed is not in it), one copy of the
 * test set's chunks and one of a seed's population batches (ort-eval-share.ts), released once when
 * the stack ends; a member alone owns its own. Sessions are counted by wrapping ORT's
 * InferenceSession.create and release in this process; the numbers are held equal, bit for bit on
 * ort-cpu, to the same runs trained alone.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { InferenceSession } from 'onnxruntime-node';
import type { Variant } from '../src/config/config.js';
import { silentLogger } from '../src/core/logger.js';
import { loadDataset } from '../src/data/load.js';
import { initBackend } from '../src/engines/backend.js';
import { OrtConvMember } from '../src/engines/ort/conv-member.js';
import { loadOrt } from '../src/engines/ort/runtime.js';
import { EvalShare } from '../src/engines/ort-eval-share.js';
import { OrtStackedEngine } from '../src/engines/ort-stacked-engine.js';
import type { ConvNet } from '../src/model/conv-net.js';
import { trainLockstep } from '../src/training/lockstep.js';
import { MemoryRecorder } from '../src/training/records.js';
import { RunLoop } from '../src/training/run-loop.js';
import type { EngineContext } from '../src/engines/train-engine.js';
import { trainRun } from '../src/training/train.js';
import { syntheticSplit, testConfig } from './helpers.js';
import { HIDDEN, LAYERS } from './ort-cnn-fixture.js';

const STEPS = 20;
/** 1,200 held-out digits: chunks of 1,000 and 200 (CNN_EVAL_CHUNK), so two chunk sizes per graph. */
const TEST_IMAGES = 1200;
const configOf = (testImages: number) =>
  testConfig({
    backend: 'ort-cpu',
    model: { kind: 'cnn', activation: 'relu', hiddenUnits: HIDDEN, convLayers: LAYERS },
    train: { steps: STEPS, batchSize: 20, learningRate: 0.1, checkpointEvery: 0 },
    eval: { every: STEPS / 2, units: [0, 5], probeSize: 100 },
    batchNorm: { populationBatches: 3 },
    data: { source: 'embedded', trainSubset: 600, testSubset: testImages },
  });
const config = configOf(TEST_IMAGES);
const data = await loadDataset(config, { logger: silentLogger });
await initBackend('ort-cpu', silentLogger);

/** 4 arms, 3 distinct evaluation graphs: bn and bn-x5 differ in learning rate only; 2 of them BN. */
const VARIANTS: Variant[] = [
  { name: 'baseline', bn: false, lrMultiplier: 1 },
  { name: 'bn', bn: true, lrMultiplier: 1 },
  { name: 'bn-x5', bn: true, lrMultiplier: 5 },
  { name: 'bn-sigmoid', bn: true, lrMultiplier: 1, activation: 'sigmoid' },
];
const SEEDS = [0, 1];
const RUNS = SEEDS.flatMap((seed) => VARIANTS.map((variant) => ({ variant, seed })));
/** Graphs: (baseline, bn, bn-sigmoid) x 2 chunk sizes, plus the batch-moments graph of the 2 BN ones. */
const STACK_SESSIONS = 3 * 2 + 2;

/** Counts the ORT sessions this process creates and releases (ORT's own class, wrapped for the file). */
const ort = await loadOrt();
const sessions = { created: 0, released: 0 };
/** ORT's InferenceSession value is its class (typed as a factory): its prototype holds release. */
const sessionClass = ort.InferenceSession as unknown as { prototype: InferenceSession };
const { create } = ort.InferenceSession;
const { release } = sessionClass.prototype;
ort.InferenceSession.create = (async (...args: Parameters<typeof create>) => {
  const session = await create(...args);
  sessions.created++;
  return session;
}) as typeof create;
sessionClass.prototype.release = async function (this: InferenceSession) {
  sessions.released++;
  return release.call(this);
};
after(() => {
  ort.InferenceSession.create = create;
  sessionClass.prototype.release = release;
});
const counted = async (body: () => Promise<void>) => {
  const [created, released] = [sessions.created, sessions.released];
  await body();
  return { created: sessions.created - created, released: sessions.released - released };
};

test(`ort-cpu: ${RUNS.length} CNN members of ${VARIANTS.length} arms share ${STACK_SESSIONS} evaluation sessions, one set of test chunks and one population set per seed; their evaluations are those of the members alone`, async () => {
  const loops = RUNS.map((r) => new RunLoop(r.variant, r.seed, { config, data, recorder: new MemoryRecorder() }));
  const ctxs = loops.map((l) => l.engineContext());
  let stacked: unknown[] = [];
  const stack = await counted(async () => {
    const engine = await OrtStackedEngine.create(ctxs, 'cpu');
    assert.deepEqual(engine.evalCounts(), { sessions: STACK_SESSIONS, testFeedSets: 1, populationSets: SEEDS.length });
    stacked = await Promise.all(RUNS.map((_, i) => engine.member(i).evaluate()));
    await engine.dispose();
  });
  // No step was taken, so no step session: every session is an evaluation one, each released once.
  assert.deepEqual(stack, { created: STACK_SESSIONS, released: STACK_SESSIONS });
  // Alone, each member builds its own: 2 chunk sizes, and the batch-moments graph when it has BN.
  const alone: unknown[] = [];
  for (const ctx of ctxs) {
    const own = await counted(async () => {
      const member = await OrtConvMember.create(ctx as EngineContext<ConvNet>, 'cpu');
      alone.push(await member.evaluate());
      await member.dispose();
    });
    const expected = ctx.net.bn ? 3 : 2;
    assert.deepEqual(own, { created: expected, released: expected });
  }
  assert.deepEqual(stacked, alone, 'the shared sessions and feeds give the numbers of a member alone, bit for bit');
  // Initial nets differ by seed and graph (bn and bn-x5 start alike): the equality above is not of one evaluation repeated.
  assert.equal(new Set(stacked.map((e) => JSON.stringify(e))).size, 3 * SEEDS.length);
  for (const l of loops) l.dispose();
});

test('ort-cpu: a lockstep stack of CNN members sharing sessions trains to the rows of the same runs alone, bit for bit', async () => {
  // 300 held-out digits, one chunk (the first test covers two chunk sizes): a quarter of the evaluation time.
  const config = configOf(300);
  const data = await loadDataset(config, { logger: silentLogger });
  const rows = (r: MemoryRecorder) => ({ evals: r.evals.map(({ elapsedS: _t, ...e }) => e), activations: r.activations });
  // One seed: its 3 BN members share one population set, bn and bn-x5 one session (the first test counts seeds).
  const runs = RUNS.filter((r) => r.seed === SEEDS[0]);
  const byRun = <T extends { arm: string; seed: number }>(xs: T[]) =>
    runs.flatMap(({ variant, seed }) => xs.filter((x) => x.arm === variant.name && x.seed === seed));
  const alone = new MemoryRecorder();
  for (const r of runs) await trainRun(r.variant, r.seed, { config, data, recorder: alone });
  const stacked = new MemoryRecorder();
  const run = await counted(async () => {
    await trainLockstep(runs, { config, data, recorder: stacked });
  });
  // 3 evaluation graphs of one chunk size, 2 batch-moments graphs, and the one step graph (no member ended early).
  assert.deepEqual(run, { created: 3 + 2 + 1, released: 3 + 2 + 1 });
  const [a, b] = [rows(stacked), rows(alone)];
  assert.equal(a.evals.length, runs.length * 3, 'evaluations at steps 0, 10 and 20');
  assert.deepEqual(byRun(a.evals), byRun(b.evals));
  assert.deepEqual(byRun(a.activations), byRun(b.activations));
  for (const { variant, seed } of runs) {
    const mine = a.evals.filter((e) => e.arm === variant.name && e.seed === seed);
    assert.notEqual(mine.at(-1)!.testLoss, mine[0].testLoss, `${variant.name} seed ${seed} trained`);
  }
});

test('EvalShare: one copy of the test chunks (1,000 + 200 rows of the split), one population set per seed, and a second data set refused as a bug', () => {
  const share = new EvalShare(ort, 'cpu');
  const test = syntheticSplit(1200, 3);
  const chunks = share.testChunks(test, 1000);
  assert.deepEqual(
    chunks.map((c) => [c.start, c.count, c.feeds.testX.dims, c.feeds.testY.dims, c.feeds.testLabels.dims]),
    [
      [0, 1000, [1000, 784], [1000, 10], [1000]],
      [1000, 200, [200, 784], [200, 10], [200]],
    ],
  );
  assert.equal(share.testChunks(test, 1000), chunks, 'the second member gets the same chunks, not a copy');
  // Row 1,000 of the split is row 0 of the second chunk: its pixels, its one-hot label, its label.
  const row = test.images.subarray(1000 * 784, 1001 * 784);
  assert.deepEqual(Array.from((chunks[1].feeds.testX.data as Float32Array).subarray(0, 784)), Array.from(row));
  const label = test.labels[1000];
  assert.equal((chunks[1].feeds.testY.data as Float32Array).subarray(0, 10).indexOf(1), label);
  assert.equal((chunks[1].feeds.testLabels.data as BigInt64Array)[0], BigInt(label));
  const train = syntheticSplit(100, 4);
  const seed0 = share.populationBatches(train, 0, 2, 20);
  assert.equal(share.populationBatches(train, 0, 2, 20), seed0);
  assert.notEqual(share.populationBatches(train, 1, 2, 20), seed0);
  assert.deepEqual(share.counts(), { sessions: 0, testFeedSets: 1, populationSets: 2 });
  assert.throws(() => share.testChunks(syntheticSplit(1200, 3), 1000), /a second test split/);
});
