/**
 * Device-resident runs on ort-webgpu (config key `deviceResident`; `npm run test:webgpu`, through
 * SwiftShader; skipped on other engines, BN_REPRO_ORT_BACKEND names it, BN_REPRO_ORT_STEPS the steps):
 * rows, activations, checkpoints and a resume bit-identical with the key on and off, and the device
 * tensors a lockstep stack holds constant across steps, its final values those of host state.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../src/core/logger.js';
import { Rng } from '../src/core/random.js';
import { loadDataset } from '../src/data/load.js';
import { initBackend } from '../src/engines/backend.js';
import { ORT_BACKENDS } from '../src/engines/ort/runtime.js';
import type { OrtMember } from '../src/engines/ort-member.js';
import { OrtStackedEngine } from '../src/engines/ort-stacked-engine.js';
import type { EngineContext } from '../src/engines/train-engine.js';
import { BatchSampler } from '../src/model/batches.js';
import { createVelocity } from '../src/model/momentum.js';
import { createNet, disposeNet, netVariables } from '../src/model/net.js';
import { createMovingStats } from '../src/model/sgd.js';
import type { RunCheckpoint } from '../src/training/checkpoint-state.js';
import { MemoryRecorder } from '../src/training/records.js';
import { trainRun } from '../src/training/train.js';
import { testConfig } from './helpers.js';

const ENGINE = (process.env.BN_REPRO_ORT_BACKEND ?? 'ort-cpu') as keyof typeof ORT_BACKENDS;
const PROVIDER = ORT_BACKENDS[ENGINE];
const STEPS = Number(process.env.BN_REPRO_ORT_STEPS ?? 6);
const onWebgpu = { skip: ENGINE !== 'ort-webgpu' && `${ENGINE}: device residency is built for ort-webgpu (npm run test:webgpu runs these)` };
/** Bit-level equality of two float32 arrays (NaN and -0 included). */
const sameBits = (a: Float32Array, b: Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** A small net on 300 embedded digits (their split on a SharedArrayBuffer, as every run's). */
const tiny = (deviceResident: string, extra: { train?: object; batchNorm?: object } = {}) =>
  testConfig({
    deviceResident,
    model: { hiddenUnits: [16, 12] },
    train: { steps: STEPS, checkpointEvery: STEPS / 3, ...extra.train },
    eval: { every: STEPS / 2, probeSize: 50, units: [0, 1] },
    batchNorm: { populationBatches: 2, ...extra.batchNorm },
    data: { source: 'embedded', trainSubset: 300, testSubset: 100 },
  });
const data = await loadDataset(tiny('off'), { logger: silentLogger });

/** Keeps every checkpoint. */
class CheckpointRecorder extends MemoryRecorder {
  readonly saved: RunCheckpoint[] = [];
  checkpoint(state: RunCheckpoint): void {
    this.saved.push(state);
  }
}
const timeless = (r: CheckpointRecorder) => ({
  rows: r.evals.map(({ elapsedS: _t, ...row }) => row),
  units: r.activations,
  checkpoints: r.saved.map(({ elapsedS: _t, last, ...c }) => ({ ...c, last: last && { ...last, elapsedS: 0 } })),
});

async function trained(mode: string, arm: { name: string; bn: boolean; lrMultiplier: number }, extra: Parameters<typeof tiny>[1], resume?: RunCheckpoint) {
  await initBackend(ENGINE, silentLogger);
  const recorder = new CheckpointRecorder();
  await trainRun(arm, 1, { config: tiny(mode, extra), data, recorder, resume });
  return recorder;
}
const BN = { name: 'bn', bn: true, lrMultiplier: 1 };
const MOMENTUM = { train: { momentum: 0.9 } };
const MOVING = { batchNorm: { inference: 'moving', momentum: 0.8 } };
/** The first case's device-resident run, which the resume case continues (SwiftShader compiles each session slowly). */
let wholeOn: CheckpointRecorder | undefined;

test(
  `${ENGINE}: rows, activations and checkpoints bit-identical with deviceResident on and off over ${STEPS} steps (BN population with momentum SGD, BN moving averages)`,
  onWebgpu,
  async () => {
    for (const [arm, extra] of [
      [BN, MOMENTUM],
      [BN, MOVING],
    ] as const) {
      const recorder = await trained('on', arm, extra);
      wholeOn ??= recorder;
      const on = timeless(recorder);
      const off = timeless(await trained('off', arm, extra));
      assert.deepEqual(
        on.checkpoints.map((c) => c.step),
        [STEPS / 3, (2 * STEPS) / 3],
        'checkpoints between evaluations (the last step writes rows, not a checkpoint)',
      );
      assert.ok(on.checkpoints[1].params[0] !== on.checkpoints[0].params[0], 'the weights moved between checkpoints');
      assert.equal(JSON.stringify(on), JSON.stringify(off), `${arm.name} ${JSON.stringify(extra)}`);
    }
  },
);

test(`${ENGINE}: a device-resident run resumed from its middle checkpoint (read back through syncNet) equals the unbroken run`, onWebgpu, async () => {
  const whole = wholeOn ?? (await trained('on', BN, MOMENTUM));
  const middle = whole.saved[0];
  assert.equal(middle.step, STEPS / 3);
  assert.ok(middle.lossSum > 0, 'stopped between evaluations: the loss sum carries over');
  assert.ok(middle.velocity, 'the velocity is checkpointed');
  const rest = await trained('on', BN, MOMENTUM, middle);
  const after = timeless(whole);
  const resumed = timeless(rest);
  assert.equal(JSON.stringify(resumed.rows), JSON.stringify(after.rows.filter((r) => r.step > middle.step)));
  assert.equal(JSON.stringify(resumed.checkpoints.at(-1)), JSON.stringify(after.checkpoints.at(-1)));
});

type Member = { bn: boolean; seed: number; extra: Parameters<typeof tiny>[1] };
/** A lockstep stack of two specs, each its own seed: BN with momentum SGD, and the baseline. */
const MIXED: Member[] = [
  { bn: true, seed: 0, extra: MOMENTUM },
  { bn: false, seed: 2, extra: {} },
];

function stackContexts(mode: string, members: Member[]): EngineContext[] {
  return members.map(({ bn, seed, extra }) => {
    const config = tiny(mode, extra);
    const net = createNet(
      { inputSize: 784, hiddenUnits: config.model.hiddenUnits, classes: 10 },
      { bn, initStd: 0.1, epsilon: 1e-3 },
      Rng.stream(seed, 'init'),
    );
    return {
      config,
      data,
      seed,
      net,
      moving: bn && config.batchNorm.inference === 'moving' ? createMovingStats(config.model.hiddenUnits, config.batchNorm.momentum) : undefined,
      velocity: config.train.momentum > 0 ? createVelocity(netVariables(net), config.train.momentum) : undefined,
      learningRate: 0.5,
      sampler: new BatchSampler(data.train, config.train.batchSize, Rng.stream(seed, 'shuffle')),
      lossSum: 0,
    };
  });
}

/** Steps a stack `steps` times; returns its members' synced variables and the device tensor count after each step. */
async function stepStack(mode: string, layout: 'copies' | 'batched', steps: number, members = MIXED) {
  const ctxs = stackContexts(mode, members);
  const engine = await OrtStackedEngine.create(ctxs, PROVIDER, {}, layout);
  const counts: number[] = [];
  const all = ctxs.map((_, i) => i);
  for (let s = 0; s < steps; s++) {
    await engine.step(all);
    counts.push(engine.deviceTensors);
  }
  const values: Float32Array[] = [];
  for (const [i, ctx] of ctxs.entries()) {
    await engine.member(i).syncNet();
    for (const v of [
      ...netVariables(ctx.net),
      ...(ctx.velocity?.values ?? []),
      ...(ctx.moving ? [...ctx.moving.stats.mean, ...ctx.moving.stats.variance] : []),
    ])
      values.push(Float32Array.from(v.dataSync() as Float32Array));
  }
  const stateNames = all.map((i) => (engine.member(i) as OrtMember).stateNames.length);
  await engine.dispose();
  const afterDispose = engine.deviceTensors;
  for (const ctx of ctxs) disposeNet(ctx.net);
  return { counts, values, stateNames, afterDispose };
}

test(
  `${ENGINE}: a lockstep stack (copies) holds a constant number of device tensors per step, and ends with the host stack's values bit for bit`,
  onWebgpu,
  async () => {
    const on = await stepStack('on', 'copies', STEPS);
    const off = await stepStack('off', 'copies', STEPS);
    // The uploaded images and labels, and every member's state but its loss sum (which comes back to the host each step).
    const expected = 2 + on.stateNames.reduce((n, k) => n + k - 1, 0);
    assert.deepEqual(on.counts, Array(STEPS).fill(expected), 'replaced device tensors are disposed');
    assert.equal(on.afterDispose, 0, 'dispose frees every device tensor');
    assert.deepEqual(off.counts, Array(STEPS).fill(0), 'deviceResident off holds none');
    assert.equal(on.values.length, off.values.length);
    on.values.forEach((v, i) => assert.ok(sameBits(v, off.values[i]), `variable ${i} differs`));
    // Batched groups keep host state (ort-batched-group.ts): two baselines of one spec form a group, and only the uploaded set is on the device.
    const pair = [2, 3].map((seed) => ({ bn: false, seed, extra: {} }));
    const batched = await stepStack('on', 'batched', 2, pair);
    assert.deepEqual(batched.counts, [2, 2]);
  },
);
