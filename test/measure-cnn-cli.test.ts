/**
 * The CNN's ICS and landscape measurements inside training runs (issue 20): in-process, the rows
 * come at the chosen evaluations, one ICS row per weight layer (conv stages first), training is
 * unchanged and no tensor leaks, and on ort-cpu (its net synced into tfjs first) the same rows
 * with wasm's step-0 values; through the CLI, `mnist --model cnn --bn both` writes
 * ics.csv and landscape.csv that parse with the right rows, and `report` and `plot` name the CNN's layers.
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { silentLogger } from '../src/core/logger.js';
import { initBackend } from '../src/engines/backend.js';
import { MemoryRecorder } from '../src/training/records.js';
import { trainRun } from '../src/training/train.js';
import { assertClose, readCsv, runCli, syntheticDataset, tempDir, testConfig, useTestBackend } from './helpers.js';
import { TWO_CONV_TINY_CNN_MODEL } from './net-fixtures.js';

before(useTestBackend);

/** Weight layers conv 1, conv 2, hidden 1, output. */
const MODEL = TWO_CONV_TINY_CNN_MODEL;
const LAYERS = [0, 1, 2, 3];

const data = syntheticDataset(300, 100);
const inProcess = (landscape: Record<string, unknown>) =>
  testConfig({
    model: MODEL,
    train: { steps: 30, batchSize: 20, learningRate: 0.2 },
    eval: { every: 10, probeSize: 50, units: [0, 3], landscape },
    batchNorm: { populationBatches: 2 },
  });

for (const bn of [false, true]) {
  const variant = { name: bn ? 'bn' : 'baseline', bn, lrMultiplier: 1 };

  test(`CNN ${variant.name}: measuring changes no training record; a row per weight layer at the chosen evaluations; no tensor leaks; ort-cpu measures the same`, async () => {
    const off = new MemoryRecorder();
    const on = new MemoryRecorder();
    const measured = inProcess({ every: 2, stepMultiples: [0.5, 2] });
    await trainRun(variant, 3, { config: inProcess({ every: 0 }), data, recorder: off });
    const tensors = tf.memory().numTensors;
    await trainRun(variant, 3, { config: measured, data, recorder: on });
    assert.equal(tf.memory().numTensors, tensors, 'the measured run released every tensor');
    const strip = (r: MemoryRecorder) => [...r.evals.map(({ elapsedS: _e, ...rest }) => rest), ...r.activations];
    assert.deepEqual(strip(on), strip(off));
    // Evaluations at 0, 10, 20, 30; every 2nd: 0, 20, and the last step 30.
    assert.deepEqual(
      on.landscape.map((r) => r.step),
      [0, 20, 30],
    );
    const keys = [0, 20, 30].flatMap((s) => LAYERS.map((l) => `${s}/${l}`));
    assert.deepEqual(
      on.ics.map((r) => `${r.step}/${r.layer}`),
      keys,
    );
    for (const r of on.ics.filter((x) => x.layer === 0)) assert.deepEqual([r.l2, r.cosine], [0, 1]);
    for (const r of on.ics.filter((x) => x.layer > 0)) assert.ok(r.l2 > 0 && r.cosine > 0 && r.cosine <= 1, JSON.stringify(r));
    for (const r of on.landscape) assert.ok(r.lossMin > 0 && r.lossMin < r.lossMax && r.gradChangeMax > 0 && r.betaSmoothness > 0, JSON.stringify(r));

    // The same run on ort-cpu, whose state is synced into the tfjs net before each measurement.
    const ort = new MemoryRecorder();
    await initBackend('ort-cpu', silentLogger);
    try {
      await trainRun(variant, 3, { config: measured, data, recorder: ort });
    } finally {
      await initBackend('wasm', silentLogger);
    }
    assert.deepEqual(
      ort.ics.map((r) => `${r.step}/${r.layer}`),
      keys,
    );
    // Step 0: the same host-drawn weights and probe batch, measured by the same tfjs code.
    ort.ics.forEach((r, i) => {
      if (r.step === 0) assertClose(r.l2, on.ics[i].l2, 1e-6 * on.ics[i].l2, `ics layer ${r.layer}`);
    });
    assertClose(ort.landscape[0].lossMax, on.landscape[0].lossMax, 1e-6, 'loss_max at step 0');
    // Later: trained on another engine, so float rounding differs; the losses still agree closely.
    ort.landscape.forEach((r, i) => assertClose(r.lossMin, on.landscape[i].lossMin, 1e-3, `loss_min step ${r.step}`));
  });
}

const dir = tempDir();
const configPath = join(dir, 'cnn-landscape.json');
writeFileSync(
  configPath,
  JSON.stringify({
    name: 'cnn-landscape',
    model: MODEL,
    train: { steps: 20, checkpointEvery: 10, learningRate: 0.1 },
    eval: { every: 10, probeSize: 50, units: [0, 1], landscape: { every: 1 } },
    batchNorm: { populationBatches: 2 },
    data: { source: 'embedded', trainSubset: 300, testSubset: 100 },
  }),
);

/** The run's ics.csv and landscape.csv rows, checked for their columns and counts (2 arms x evaluations 0, 10, 20). */
function measuredRows(out: string) {
  const ics = readCsv(join(out, 'ics.csv'));
  const landscape = readCsv(join(out, 'landscape.csv'));
  assert.deepEqual(ics.header, ['arm', 'seed', 'step', 'layer', 'l2', 'cosine']);
  assert.deepEqual(landscape.header, ['arm', 'seed', 'step', 'loss_min', 'loss_max', 'grad_change_max', 'beta_smoothness']);
  const key = (r: Record<string, string>) => `${r.arm}/${r.step}${r.layer === undefined ? '' : `/${r.layer}`}`;
  const evaluations = ['baseline', 'bn'].flatMap((arm) => [0, 10, 20].map((s) => `${arm}/${s}`));
  assert.deepEqual(ics.rows.map(key).sort(), evaluations.flatMap((e) => LAYERS.map((l) => `${e}/${l}`)).sort());
  assert.deepEqual(landscape.rows.map(key).sort(), [...evaluations].sort());
  for (const r of ics.rows) assert.ok(Number.isFinite(Number(r.l2)) && Number(r.cosine) <= 1, JSON.stringify(r));
  return { ics: ics.rows, landscape: landscape.rows };
}

const wasmOut = join(dir, 'wasm');

test('mnist --model cnn --bn both --landscape-every 1: ics.csv and landscape.csv parse with a row per layer and evaluation; report and plot name the conv layers', () => {
  const r = runCli(['mnist', '--config', configPath, '--model', 'cnn', '--bn', 'both', '--backend', 'wasm', '--out', wasmOut, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  const { ics } = measuredRows(wasmOut);
  for (const row of ics.filter((x) => x.layer === '0')) assert.deepEqual([row.l2, row.cosine], ['0', '1']);
  assert.equal(runCli(['report', wasmOut]).code, 0);
  const report = readFileSync(join(wasmOut, 'report.md'), 'utf8');
  for (const layer of ['conv 1', 'conv 2', 'hidden 1', 'output']) assert.match(report, new RegExp(`\\| bn \\| ${layer} \\| steps 2-20 \\|`), layer);
  assert.match(report, /The first conv layer has no earlier layer/);
  const plot = runCli(['plot', wasmOut]);
  assert.equal(plot.code, 0, plot.stderr);
  const svg = readFileSync(join(wasmOut, 'landscape.svg'), 'utf8');
  for (const title of ['conv layer 2', 'hidden layer 1', 'output layer']) assert.ok(svg.includes(title), title);
});
