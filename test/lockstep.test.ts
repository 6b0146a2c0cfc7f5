/**
 * Lockstep training (issue 18, item 3) on ort-cpu with --lockstep on: the rows of 2 arms x 2 seeds
 * stepped by one stacked graph equal those of separate runs (bit for bit: each member's subgraph
 * is the op sequence of its single-run graph); --jobs 2 runs two stacks with the same rows; an
 * lockstep shard merges with one trained without; an interrupted lockstep folder resumed ends with the rows of one never stopped; a member with an
 * absurd learning rate diverges while the others finish (exit 3); lockstep on a tfjs backend and a
 * bad `lockstep` value are one usage error each; the decision table of `auto`.
 * BN_REPRO_ORT_BACKEND (ort-webgpu under npm run test:webgpu) and BN_REPRO_ORT_STEPS shorten and move it.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULTS, type ResolvedConfig } from '../src/config/config.js';
import { EXIT } from '../src/core/errors.js';
import { LOCKSTEP_AUTO, lockstepFor } from '../src/config/lockstep-rule.js';
import { readCsv, runCli, tempDir, timelessRows, waitForCheckpoint } from './helpers.js';
import { assertSameRows, launch, statusOf } from './signal-helpers.js';

const ENGINE = process.env.BN_REPRO_ORT_BACKEND ?? 'ort-cpu';
const STEPS = Number(process.env.BN_REPRO_ORT_STEPS ?? 300);
const cpuOnly = { skip: ENGINE !== 'ort-cpu' && `${ENGINE}: the CPU provider's test` };
/** Two seeds on the CPU; one under SwiftShader (npm run test:webgpu), which emulates the GPU slowly. */
const SEEDS = ENGINE === 'ort-cpu' ? [0, 1] : [0];
const EVERY = Math.max(1, Math.floor(STEPS / 3));
/** Evaluations at step 0, every EVERY steps, and at the last step. */
const ROWS_PER_RUN = 1 + Math.floor(STEPS / EVERY) + (STEPS % EVERY === 0 ? 0 : 1);
const dir = tempDir('bn-repro-lockstep-');

/** 2 arms x 2 seeds on 1,000 embedded digits; `extra` replaces top-level keys. */
function config(name: string, extra: Record<string, unknown> = {}): string {
  const path = join(dir, `${name}.json`);
  const every = EVERY;
  const base = {
    name,
    seeds: SEEDS,
    backend: ENGINE,
    tensorboard: 'off',
    train: { steps: STEPS, learningRate: 0.5, checkpointEvery: every },
    eval: { every, probeSize: 200, units: [0, 1] },
    batchNorm: { populationBatches: 3 },
    data: { source: 'embedded', trainSubset: 1000, testSubset: 300 },
  };
  writeFileSync(path, JSON.stringify({ ...base, ...extra }));
  return path;
}

function train(cfg: string, out: string, ...flags: string[]) {
  return runCli(['mnist', '--config', cfg, '--out', out, '--quiet', ...flags]);
}

const runJson = (d: string) => JSON.parse(readFileSync(join(d, 'run.json'), 'utf8'));
const rowCount = (d: string) => timelessRows(d, 'accuracy.csv').length;

const separate = join(dir, 'separate');
const stacked = join(dir, 'stacked');
const plain = config('plain');

test(`${ENGINE}: 2 arms x ${SEEDS.length} seed(s) in lockstep give the rows of separate runs, bit for bit, and the same digest`, () => {
  const a = train(plain, separate, '--lockstep', 'off', '--jobs', '1');
  assert.equal(a.code, 0, a.stderr);
  const b = train(plain, stacked, '--lockstep', 'on', '--jobs', '1');
  assert.equal(b.code, 0, b.stderr);
  const runs = 2 * SEEDS.length;
  assert.equal(rowCount(stacked), runs * ROWS_PER_RUN);
  assertSameRows(stacked, separate);
  // Not only equal: runs that learned (the step-0 rows would also agree).
  const rows = readCsv(join(stacked, 'accuracy.csv')).rows;
  const at = (step: number) => rows.filter((r) => Number(r.step) === step);
  assert.equal(at(STEPS).length, runs);
  for (const r of at(STEPS)) {
    const first = at(0).find((f) => f.arm === r.arm && f.seed === r.seed)!;
    assert.ok(Number(r.test_loss) < Number(first.test_loss), `${r.arm}/${r.seed} learned: test loss ${first.test_loss} -> ${r.test_loss}`);
  }
  assert.equal(runJson(stacked).digest, runJson(separate).digest, 'lockstep changes no result, so not the digest');
  assert.equal(runJson(stacked).config.lockstep, 'on');
  // Weights are not compared here: a finished run's checkpoint keeps its summary and row digests, not
  // its weights; lockstep-loop.test.ts compares them bit for bit in process, checkpoint by checkpoint.
});

test("ort-cpu: with momentum SGD (velocity in every member's state) lockstep gives the rows of separate runs", cpuOnly, () => {
  const momentum = config('momentum', { train: { steps: STEPS, learningRate: 0.05, momentum: 0.9, checkpointEvery: EVERY } });
  const a = train(momentum, join(dir, 'momentum-separate'), '--lockstep', 'off', '--jobs', '1');
  assert.equal(a.code, 0, a.stderr);
  const b = train(momentum, join(dir, 'momentum-stacked'), '--lockstep', 'on', '--jobs', '1');
  assert.equal(b.code, 0, b.stderr);
  assertSameRows(join(dir, 'momentum-stacked'), join(dir, 'momentum-separate'));
  assert.equal(runJson(join(dir, 'momentum-stacked')).config.train.momentum, 0.9, 'the runs trained with momentum');
});

test('ort-cpu: --jobs 2 trains two stacks side by side with the same rows', cpuOnly, () => {
  const out = join(dir, 'two-stacks');
  const r = train(plain, out, '--lockstep', 'on', '--jobs', '2');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(runJson(out).jobs, 2);
  assertSameRows(out, separate);
});

test('ort-cpu: sweep shards, one in lockstep and one not, merge into the rows of separate runs', cpuOnly, () => {
  const sweep = config('shards', {
    sweep: [
      { name: 'baseline', bn: false, lrMultiplier: 1 },
      { name: 'bn', bn: true, lrMultiplier: 1 },
    ],
  });
  const shards = ['on', 'off'].map((lockstep, i) => {
    const out = join(dir, `shard-${lockstep}`);
    const r = runCli(['sweep', sweep, '--shard', `${i + 1}/2`, '--out', out, '--quiet', '--lockstep', lockstep]);
    assert.equal(r.code, 0, r.stderr);
    return out;
  });
  const merged = join(dir, 'merged');
  const r = runCli(['merge', ...shards, '--out', merged, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(statusOf(merged), 'finished');
  assertSameRows(merged, separate);
});

test('ort-cpu: a lockstep run stopped by SIGINT checkpoints every member, and --resume ends with the rows of one never stopped', cpuOnly, async () => {
  // Long enough that the signal lands mid-run: checkpoints every 100 of 1,200 steps.
  const long = config('long', { train: { steps: 1200, learningRate: 0.5, checkpointEvery: 100 }, eval: { every: 400, probeSize: 200, units: [0, 1] } });
  const whole = join(dir, 'long-whole');
  assert.equal(train(long, whole, '--lockstep', 'on', '--jobs', '1').code, 0);
  const out = join(dir, 'long-stopped');
  const p = launch(['mnist', '--config', long, '--out', out, '--quiet', '--lockstep', 'on', '--jobs', '1']);
  await waitForCheckpoint(join(out, 'checkpoints', 'baseline-seed0.json'), 100);
  p.child.kill('SIGINT');
  const stopped = await p.exited;
  assert.equal(stopped.code, EXIT.interrupted, stopped.stderr);
  assert.equal(statusOf(out), 'interrupted');
  const steps = ['baseline-seed0', 'baseline-seed1', 'bn-seed0', 'bn-seed1'].map(
    (name) => JSON.parse(readFileSync(join(out, 'checkpoints', `${name}.json`), 'utf8')).step as number,
  );
  assert.equal(new Set(steps).size, 1, `every member checkpointed at the same step: ${steps}`);
  assert.ok(steps[0] >= 100 && steps[0] < 1200, `stopped mid-run at step ${steps[0]}`);
  const resumed = runCli(['mnist', '--resume', out, '--quiet']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(statusOf(out), 'finished');
  assertSameRows(out, whole);
});

test('ort-cpu: one member with an absurd learning rate diverges, the others finish with their rows; exit 3', cpuOnly, () => {
  const sweep = [
    { name: 'baseline', bn: false, lrMultiplier: 1 },
    { name: 'bn', bn: true, lrMultiplier: 1 },
    { name: 'baseline-x1e30', bn: false, lrMultiplier: 1e30 },
  ];
  const out = join(dir, 'diverged');
  const r = train(config('diverge', { seeds: [0], sweep }), out, '--lockstep', 'on', '--jobs', '1');
  assert.equal(r.code, EXIT.diverged, r.stderr);
  assert.equal(statusOf(out), 'diverged');
  const rows = readCsv(join(out, 'accuracy.csv')).rows;
  const of = (arm: string) => rows.filter((x) => x.arm === arm);
  const diverged = runJson(out).runs.find((s: { arm: string }) => s.arm === 'baseline-x1e30');
  assert.ok(diverged.divergedAtStep > 0 && diverged.divergedAtStep < STEPS, `diverged at ${diverged.divergedAtStep}`);
  assert.ok(of('baseline-x1e30').length < ROWS_PER_RUN);
  // The others: every row, and the numbers of the same runs trained without the diverging member.
  const calm = join(dir, 'calm');
  assert.equal(train(config('calm', { seeds: [0], sweep: sweep.slice(0, 2) }), calm, '--lockstep', 'off', '--jobs', '1').code, 0);
  const calmRows = readCsv(join(calm, 'accuracy.csv')).rows;
  for (const arm of ['baseline', 'bn']) {
    assert.equal(of(arm).length, ROWS_PER_RUN);
    const strip = (xs: Record<string, string>[]) => xs.filter((x) => x.arm === arm).map(({ elapsed_s: _t, ...x }) => x);
    assert.deepEqual(strip(rows), strip(calmRows), `${arm}: a NaN in another member changed no number`);
  }
});

// The two refusals below start no ORT engine (refused before training), so they run once, in npm test.
test('--lockstep on with a tfjs backend is one usage error, and no folder', cpuOnly, () => {
  const out = join(dir, 'wasm');
  const r = runCli(['mnist', '--backend', 'wasm', '--lockstep', 'on', '--data', 'embedded', '--steps', '10', '--out', out]);
  assert.equal(r.code, EXIT.usage);
  assert.equal(
    r.stderr.trim(),
    'error: --lockstep: config key "lockstep" is "on", but lockstep training is an ONNX Runtime feature and wasm is a tfjs backend; use --backend ort-cpu, ort-webgpu or ort-cuda, or --lockstep off.',
  );
  assert.ok(!existsSync(out));
});

test('a bad lockstep value is exit 2 naming the key', cpuOnly, () => {
  const r = runCli(['mnist', '--lockstep', 'yes', '--data', 'embedded', '--steps', '10', '--out', join(dir, 'bad')]);
  assert.equal(r.code, EXIT.usage);
  assert.equal(r.stderr.trim(), 'error: --lockstep: config key "lockstep" must be one of "on", "off", "auto" (got "yes").');
});

test('auto stacks only on the ORT GPU providers, and only more than one run', () => {
  const withLockstep = (lockstep: ResolvedConfig['lockstep']) => ({ ...structuredClone(DEFAULTS), lockstep }) as ResolvedConfig;
  const auto = withLockstep('auto');
  assert.deepEqual(
    ['ort-cpu', 'ort-webgpu', 'ort-cuda', 'wasm'].map((b) => lockstepFor(auto, b, 6)),
    [false, true, true, false],
  );
  assert.equal(lockstepFor(auto, 'ort-cuda', 1), false);
  assert.equal(lockstepFor(withLockstep('on'), 'ort-cpu', 1), true);
  assert.equal(lockstepFor(withLockstep('off'), 'ort-webgpu', 6), false);
  assert.throws(
    () => lockstepFor(withLockstep('on'), 'cpu', 6),
    /"lockstep" is "on", but lockstep training is an ONNX Runtime feature and cpu \(the one --backend auto chose\) is a tfjs backend/,
  );
  assert.deepEqual(
    Object.keys(LOCKSTEP_AUTO).filter((b) => LOCKSTEP_AUTO[b as keyof typeof LOCKSTEP_AUTO] === undefined),
    ['tensorflow', 'webgpu', 'wasm', 'cpu'],
  );
});
