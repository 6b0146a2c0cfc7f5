/**
 * The lockstep engine's batched layout (stack-layout.ts, ort-batched-group.ts), forced on ort-cpu
 * (the CPU's own layout is copies) or on the provider BN_REPRO_ORT_BACKEND names: members that differ in learning rate and init std share a
 * group, BN with population statistics and BN with moving averages are groups of their own, a
 * member with another moving momentum steps as a copy beside them. Against each member trained
 * alone (OrtEngine): test accuracy within 0.002 and losses within 1e-3 relative (the issue's
 * tolerances: batched MatMul sums in another order, so the last bits differ), two batched runs bit
 * for bit equal, a member that diverges (NaN) leaves the others at their separate runs' numbers,
 * members ending mid-run rebuild the graph without changing the others' numbers, and a group's
 * kernels per call do not grow with its size (K = 2 against 6: a group of one is a run's own graph).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { profiledKernels } from '../scripts/bench-count.js';
import { openStack } from '../scripts/bench-stacked.js';
import { initBackend } from '../src/engines/backend.js';
import { BatchSampler } from '../src/model/batches.js';
import type { BackendName, ResolvedConfig } from '../src/config/config.js';
import { CLASSES, IMAGE_PIXELS } from '../src/data/dataset.js';
import { loadDataset } from '../src/data/load.js';
import { OrtEngine } from '../src/engines/ort-engine.js';
import { OrtMember } from '../src/engines/ort-member.js';
import { ORT_BACKENDS } from '../src/engines/ort/runtime.js';
import { OrtStackedEngine } from '../src/engines/ort-stacked-engine.js';
import type { EngineContext, TrainEngine } from '../src/engines/train-engine.js';
import type { RunEngine } from '../src/training/run-loop.js';
import { silentLogger } from '../src/core/logger.js';
import { createNet, disposeNet } from '../src/model/net.js';
import { createMovingStats } from '../src/model/sgd.js';
import { Rng } from '../src/core/random.js';
import { testConfig } from './helpers.js';

/** BN_REPRO_ORT_BACKEND (ort-webgpu under npm run test:webgpu) and BN_REPRO_ORT_STEPS move and shorten it. */
const BACKEND = process.env.BN_REPRO_ORT_BACKEND ?? 'ort-cpu';
const PROVIDER = ORT_BACKENDS[BACKEND as keyof typeof ORT_BACKENDS];
const STEPS = Number(process.env.BN_REPRO_ORT_STEPS ?? 120);
/** Three evaluations per run, the last at STEPS. */
const EVERY = Math.max(1, Math.floor(STEPS / 3));
const base = {
  train: { steps: STEPS, learningRate: 0.5, checkpointEvery: 0 },
  eval: { every: EVERY, probeSize: 200, units: [0, 2] },
  batchNorm: { populationBatches: 3 },
  data: { source: 'embedded', trainSubset: 1000, testSubset: 300 },
};
const population = testConfig({ ...base, batchNorm: { ...base.batchNorm, inference: 'population' } });
const moving = testConfig({ ...base, batchNorm: { ...base.batchNorm, inference: 'moving', momentum: 0.9 } });
const data = await loadDataset(population, { logger: silentLogger });
await initBackend(BACKEND as BackendName, silentLogger);

interface Member {
  bn: boolean;
  seed: number;
  learningRate: number;
  initStd?: number;
  config: ResolvedConfig;
  momentum?: number;
}

const MEMBERS: Member[] = [
  { bn: false, seed: 0, learningRate: 0.5, config: population },
  { bn: false, seed: 1, learningRate: 0.2, initStd: 0.3, config: population },
  { bn: true, seed: 0, learningRate: 0.5, config: population },
  { bn: true, seed: 1, learningRate: 1.5, initStd: 0.05, config: population },
  { bn: true, seed: 2, learningRate: 0.5, config: moving, momentum: 0.9 },
  { bn: true, seed: 3, learningRate: 0.3, config: moving, momentum: 0.9 },
  { bn: true, seed: 4, learningRate: 0.5, config: moving, momentum: 0.8 },
];
/**
 * A baseline member sent to NaN within its first steps by an infinite learning rate (inf x gradient
 * terms, then inf - inf): a finite absurd rate (5e29) went NaN on ort-cpu but stayed finite, about
 * 1e30, for 12 steps on ort-webgpu, whose log-softmax subtracts the max logit.
 */
const DIVERGING: Member = { bn: false, seed: 5, learningRate: Number.POSITIVE_INFINITY, config: population };

function context(mb: Member): EngineContext {
  const { config } = mb;
  const shape = { inputSize: IMAGE_PIXELS, hiddenUnits: config.model.hiddenUnits, classes: CLASSES };
  const net = createNet(shape, { bn: mb.bn, initStd: mb.initStd ?? config.model.initStd, epsilon: config.batchNorm.epsilon }, Rng.stream(mb.seed, 'init'));
  return {
    config,
    data,
    seed: mb.seed,
    net,
    moving: mb.momentum === undefined ? undefined : createMovingStats(config.model.hiddenUnits, mb.momentum),
    learningRate: mb.learningRate,
    sampler: new BatchSampler(data.train, config.train.batchSize, Rng.stream(mb.seed, 'shuffle')),
    lossSum: 0,
  };
}

/** Per member, every EVERY steps: the loss sum (then reset, as RunLoop does) and the evaluation. */
type Trace = { lossSum: number; testLoss: number; testAccuracy: number }[][];

async function record(engines: RunEngine[], trace: Trace, i: number) {
  const e = engines[i];
  const lossSum = await e.lossSum();
  e.resetLossSum();
  const ev = await e.evaluate();
  trace[i].push({ lossSum, testLoss: ev.testLoss, testAccuracy: ev.testAccuracy });
}

/** Members stepped in lockstep; member i steps for `stepsOf[i]` steps (those that end leave the graph). */
async function lockstep(members: Member[], stepsOf: number[]): Promise<Trace> {
  const ctxs = members.map(context);
  const engine = await OrtStackedEngine.create(ctxs, PROVIDER, {}, 'batched');
  const engines = members.map((_, i) => engine.member(i));
  const trace: Trace = members.map(() => []);
  for (let step = 1; step <= STEPS; step++) {
    const active = members.map((_, i) => i).filter((i) => step <= stepsOf[i]);
    if (active.length === 0) break;
    await engine.step(active);
    for (const i of active) if (step % EVERY === 0) await record(engines, trace, i);
  }
  await engine.dispose();
  for (const ctx of ctxs) disposeNet(ctx.net);
  return trace;
}

async function alone(mb: Member, steps: number): Promise<Trace[number]> {
  const ctx = context(mb);
  const engine: TrainEngine = await OrtEngine.create(await OrtMember.create(ctx, PROVIDER), PROVIDER);
  const trace: Trace = [[]];
  for (let step = 1; step <= steps; step++) {
    await engine.step();
    if (step % EVERY === 0) await record([engine], trace, 0);
  }
  await engine.dispose();
  disposeNet(ctx.net);
  return trace[0];
}

const relClose = (a: number, b: number) => Math.abs(a - b) <= 1e-3 * Math.abs(b);

function assertWithinTolerances(got: Trace[number], want: Trace[number], what: string) {
  assert.equal(got.length, want.length, `${what}: evaluations`);
  got.forEach((g, e) => {
    const w = want[e];
    assert.ok(Number.isFinite(g.testLoss) && Number.isFinite(g.lossSum), `${what} @${e}: finite, got ${JSON.stringify(g)}`);
    assert.ok(relClose(g.lossSum, w.lossSum), `${what} @${e}: loss sum ${g.lossSum} vs ${w.lossSum}`);
    assert.ok(relClose(g.testLoss, w.testLoss), `${what} @${e}: test loss ${g.testLoss} vs ${w.testLoss}`);
    assert.ok(Math.abs(g.testAccuracy - w.testAccuracy) <= 0.002, `${what} @${e}: accuracy ${g.testAccuracy} vs ${w.testAccuracy}`);
  });
}

const full = (members: Member[]) => members.map(() => STEPS);
const separate = await Promise.all(MEMBERS.map((mb) => alone(mb, STEPS)));

test('batched lockstep members (learning rates, init stds, population and moving BN, a lone momentum) equal their separate runs within the tolerances', async () => {
  const trace = await lockstep(MEMBERS, full(MEMBERS));
  MEMBERS.forEach((_, i) => assertWithinTolerances(trace[i], separate[i], `member ${i}`));
  // Runs that learned, each its own numbers (equal numbers would also pass the tolerances).
  for (const t of trace) assert.ok(t.at(-1)!.testLoss < t[0].testLoss, `test loss ${t[0].testLoss} -> ${t.at(-1)!.testLoss}`);
  assert.equal(new Set(trace.map((t) => t.at(-1)!.testLoss)).size, MEMBERS.length);
});

test('two batched lockstep runs give the same numbers bit for bit', async () => {
  const [a, b] = [await lockstep(MEMBERS, full(MEMBERS)), await lockstep(MEMBERS, full(MEMBERS))];
  assert.deepEqual(a, b);
});

test('a diverging member of a batched group goes NaN while the others keep their separate runs numbers', async () => {
  const members = [...MEMBERS.slice(0, 2), DIVERGING];
  const trace = await lockstep(members, full(members));
  const blewUp = trace[2].find((e) => !Number.isFinite(e.lossSum) || !Number.isFinite(e.testLoss));
  assert.ok(blewUp, `diverged to a non-finite loss: ${JSON.stringify(trace[2])}`);
  members.slice(0, 2).forEach((_, i) => assertWithinTolerances(trace[i], separate[i], `member ${i}`));
});

test('members ending mid-run (the graph rebuilt) leave the others at their separate runs numbers', async () => {
  const ends = MEMBERS.map((_, i) => (i % 2 === 0 ? EVERY : 3 * EVERY));
  const trace = await lockstep(MEMBERS, ends);
  MEMBERS.forEach((_, i) => assertWithinTolerances(trace[i], separate[i].slice(0, ends[i] / EVERY), `member ${i}`));
});

test('a batched group of 6 BN runs is as many kernels per call as a group of 2 (CPU profiler)', {
  skip: PROVIDER !== 'cpu' && 'the CPU profiler',
}, async () => {
  const count = async (k: number) => {
    const members = Array.from({ length: k }, (_, seed) => ({ bn: true, seed }));
    const trace = await profiledKernels((extra) => openStack(population, data, PROVIDER, members, extra, 'batched'), 1);
    return trace.runs[0].nodes;
  };
  const [two, six] = [await count(2), await count(6)];
  assert.ok(two > 20, `a BN step is more than 20 kernels, got ${two}`);
  assert.equal(six, two);
});
