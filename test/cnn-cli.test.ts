/**
 * The CNN through the CLI (issue 20): `mnist --model cnn --bn both` writes every output the MLP
 * writes, `auto` trains it on wasm (the ORT engines train it when asked: engine-ort-cnn.test.ts), a run killed mid-way and
 * resumed gives the uninterrupted run's rows, and every bad layer spec or unbuilt combination is
 * one sentence naming its key, exit 2, before any folder is made.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SMALL_CNN_MODEL } from './net-fixtures.js';
import { assertRefused, readCsv, runCli, settle, start, tempDir, timelessRows, waitForCheckpoint } from './helpers.js';

const dir = tempDir();
/** A small CNN on 600 embedded digits: 4 and 8 maps, 20 hidden units, a few seconds a run. */
function cnnConfig(name: string, extra: Record<string, unknown> = {}): string {
  const path = join(dir, `${name}.json`);
  const config = {
    name,
    model: SMALL_CNN_MODEL,
    train: { steps: 200, checkpointEvery: 50, learningRate: 0.1 },
    eval: { every: 50, probeSize: 100, units: [0, 1] },
    batchNorm: { populationBatches: 2 },
    data: { source: 'embedded', trainSubset: 600, testSubset: 200 },
    ...extra,
  };
  writeFileSync(path, JSON.stringify(config));
  return path;
}

const reference = join(dir, 'reference');

test('mnist --model cnn --bn both: accuracy and activation rows, checkpoints, run.json, on tfjs', () => {
  const r = runCli(['mnist', '--config', cnnConfig('e2e'), '--model', 'cnn', '--bn', 'both', '--out', reference, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  const acc = readCsv(join(reference, 'accuracy.csv')).rows;
  // Two arms x evaluations at steps 0, 50, 100, 150, 200.
  assert.deepEqual(
    acc.map((row) => `${row.arm}/${row.step}`).sort(),
    ['baseline', 'bn'].flatMap((a) => [0, 100, 150, 200, 50].map((s) => `${a}/${s}`)),
  );
  for (const row of acc) assert.ok(Number(row.test_accuracy) >= 0 && Number(row.test_accuracy) <= 1, JSON.stringify(row));
  // 600 digits, 200 steps of 60: both arms learn well above chance (0.1) on the 200 held-out digits.
  for (const arm of ['baseline', 'bn']) {
    const last = acc.find((row) => row.arm === arm && row.step === '200');
    assert.ok(Number(last?.test_accuracy) > 0.5, `${arm} final accuracy ${last?.test_accuracy}`);
  }
  const act = readCsv(join(reference, 'activations.csv')).rows;
  assert.equal(act.length, 2 * 5 * 2);
  // Layer 0 is the one hidden (fully connected) layer; p15 <= p50 <= p85 of the recorded units.
  for (const row of act) {
    assert.equal(row.layer, '0');
    assert.ok(Number(row.p15) <= Number(row.p50) && Number(row.p50) <= Number(row.p85), JSON.stringify(row));
  }
  const run = JSON.parse(readFileSync(join(reference, 'run.json'), 'utf8'));
  assert.equal(run.status, 'finished');
  assert.equal(run.config.model.kind, 'cnn');
  assert.deepEqual(run.config.model.convLayers[2], { type: 'conv', kernel: 5, maps: 8 });
  assert.doesNotMatch(run.backend.name, /^ort-/, 'auto trains the CNN on tfjs');
  assert.ok(existsSync(join(reference, 'checkpoints', 'bn-seed0.json')));
});

test("a CNN run killed mid-way and resumed writes the uninterrupted run's rows", async () => {
  const out = join(dir, 'killed');
  const child = start(['mnist', '--config', cnnConfig('e2e'), '--model', 'cnn', '--bn', 'both', '--jobs', '1', '--out', out, '--quiet'], 'ignore');
  await settle(child, async () => {
    await waitForCheckpoint(join(out, 'checkpoints', 'baseline-seed0.json'), 50);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  });
  const r = runCli(['mnist', '--resume', out]);
  assert.equal(r.code, 0, r.stderr);
  for (const file of ['accuracy.csv', 'activations.csv']) assert.deepEqual(timelessRows(out, file), timelessRows(reference, file), file);
});

const layers = (...entries: unknown[]) => ({ kind: 'cnn', convLayers: entries });
const conv = (kernel: unknown, maps: unknown) => ({ type: 'conv', kernel, maps });
const REFUSED: [string, Record<string, unknown>, string[], RegExp][] = [
  [
    'a kernel larger than its input',
    { model: layers(conv(5, 4), { type: 'pool', size: 2 }, conv(5, 8), { type: 'pool', size: 2 }, conv(5, 8)) },
    [],
    /"model\.convLayers" entry 4 \(conv, kernel 5\) is larger than its 4x4x8 input/,
  ],
  ['zero maps', { model: layers(conv(3, 0)) }, [], /"model\.convLayers" entry 0 needs "maps": an integer in \[1, 1024\]/],
  ['an absurd map count', { model: layers(conv(3, 1e6)) }, [], /"model\.convLayers" entry 0 needs "maps"/],
  ['a zero kernel', { model: layers(conv(0, 4)) }, [], /"model\.convLayers" entry 0 needs "kernel": an integer in \[1, 28\]/],
  [
    'a pool that does not divide its input',
    { model: layers(conv(5, 4), { type: 'pool', size: 5 }) },
    [],
    /entry 1 \(pool, size 5\) does not divide its 24x24x4 input/,
  ],
  [
    'an unknown layer type',
    { model: layers(conv(5, 4), { type: 'dense', units: 10 }) },
    [],
    /"model\.convLayers" entry 1 has unknown type "dense"; the types are "conv" and "pool"/,
  ],
  ['no conv layer', { model: layers({ type: 'pool', size: 2 }) }, [], /"model\.convLayers" must hold at least one conv entry/],
  [
    'too many values for memory',
    { model: { ...layers(conv(3, 1024)), hiddenUnits: [5] } },
    [],
    /"model\.convLayers" holds [\d,]+ values in a training step's conv stages/,
  ],
  // 26 x 26 x 1,024 values into 100 hidden units: 69 M weights.
  ['too many parameters', { model: layers(conv(3, 1024)) }, [], /"model\.convLayers" gives 69,233,664 parameters below the first hidden layer/],
  ['an unknown activation', {}, ['--model', 'cnn', '--activation', 'tanh'], /"model\.activation" must be one of "sigmoid", "relu"/],
  ['an unknown model kind', {}, ['--model', 'rnn'], /"model\.kind" must be one of "mlp", "cnn"/],
  ['relu on the MLP', {}, ['--activation', 'relu'], /"model\.activation" "relu" is built for the CNN only/],
  [
    'a relu sweep entry on the MLP',
    { sweep: [{ name: 'r', bn: true, lrMultiplier: 1, activation: 'relu' }] },
    [],
    /"sweep" entry "r" sets activation "relu", which is built for the CNN only/,
  ],
  [
    'an unknown sweep activation',
    { sweep: [{ name: 'r', bn: true, lrMultiplier: 1, activation: 'tanh' }] },
    [],
    /an entry has activation other than "sigmoid" or "relu"/,
  ],
  [
    'lockstep on with the CNN on a tfjs backend',
    {},
    ['--model', 'cnn', '--backend', 'wasm', '--lockstep', 'on'],
    /^error: .*config key "lockstep" is "on", but lockstep training is an ONNX Runtime feature and wasm is a tfjs backend/m,
  ],
  [
    'lockstep on with the CNN on the backend auto chose',
    {},
    ['--model', 'cnn', '--lockstep', 'on'],
    /^error: .*and wasm \(the one --backend auto chose for the CNN\) is a tfjs backend; use --backend ort-cpu/m,
  ],
];

for (const [what, overrides, flags, message] of REFUSED) {
  test(`refused before training: ${what}`, () => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, JSON.stringify({ data: { source: 'embedded' }, ...overrides }));
    const out = join(dir, 'never');
    assertRefused(runCli(['mnist', '--config', path, ...flags, '--out', out]), 2, message);
    assert.equal(existsSync(out), false, 'no run folder');
  });
}
