/**
 * `bn-repro mnist --backend webgpu` end to end against the same run on wasm (issue 18 item 5):
 * both arms, 8 steps of a narrow net on embedded digits, a checkpoint mid-run (its encoding
 * reads tensors back), Algorithm 2's statistics, the activation percentiles and the ICS and
 * landscape measurements (which read gradients back); the rows must agree within the issue's
 * tolerances (test accuracy 0.002, losses 1e-3 relative). Opt-in like webgpu-tfjs.test.ts:
 * `npm run test:webgpu` sets BN_REPRO_TFJS_WEBGPU=1; otherwise it is skipped.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readCsv, runCli, tempDir } from './helpers.js';
import { skip } from './webgpu-helpers.js';

/** Relative closeness with a floor, so values near zero are compared absolutely. */
function assertNear(got: string, want: string, rel: number, floor: number, what: string): void {
  if (want === '') {
    assert.equal(got, '', `${what}: empty in wasm's row`);
    return;
  }
  const g = Number(got);
  const w = Number(want);
  assert.ok(Math.abs(g - w) <= Math.max(floor, rel * Math.abs(w)), `${what}: ${g} is not within ${rel} (relative) of ${w}`);
}

test('mnist --backend webgpu: rows equal the same run on wasm (accuracy 0.002, losses 1e-3 relative)', { skip }, (t) => {
  const dir = tempDir('bn-repro-webgpu-cli-');
  const config = join(dir, 'tiny.json');
  writeFileSync(
    config,
    JSON.stringify({
      name: 'webgpu-tiny',
      // A narrow net and small batches: SwiftShader takes ~1.5 s for a step of the paper's 784-100-100-100-10 net at 60.
      model: { hiddenUnits: [16, 16] },
      train: { steps: 8, batchSize: 20, learningRate: 0.5, checkpointEvery: 4 },
      // Santurkar et al.'s measurements (ICS, landscape) at steps 0 and 8: they read gradients back too.
      eval: { every: 4, probeSize: 50, units: [0, 1], landscape: { every: 2 } },
      batchNorm: { populationBatches: 2 },
      data: { source: 'embedded', trainSubset: 300, testSubset: 100 },
    }),
  );
  const runOn = (backend: string) => {
    const out = join(dir, backend);
    const r = runCli(['mnist', '--config', config, '--backend', backend, '--jobs', '1', '--tensorboard', 'off', '--quiet', '--out', out]);
    assert.equal(r.signal, null, `${backend}: killed by ${r.signal}`);
    assert.equal(r.code, 0, `${backend}: exit code; stderr: ${r.stderr}`);
    // tfjs-backend-webgpu warns once on a synchronous read (dataSync), which it cannot do in Node.
    assert.doesNotMatch(r.stderr, /synchronously reading|internal error/, `${backend}: stderr`);
    return out;
  };
  const gpu = runOn('webgpu');
  const cpu = runOn('wasm');
  const backend = JSON.parse(readFileSync(join(gpu, 'run.json'), 'utf8')).backend;
  assert.equal(backend.name, 'webgpu');
  assert.equal(backend.device.gpu, true);
  t.diagnostic(`adapter: ${backend.device.name}`);

  const acc = { gpu: readCsv(join(gpu, 'accuracy.csv')), cpu: readCsv(join(cpu, 'accuracy.csv')) };
  assert.deepEqual(acc.gpu.header, acc.cpu.header);
  // Both arms, evaluated at steps 0, 4 and 8.
  assert.deepEqual(
    acc.gpu.rows.map((r) => `${r.arm}/${r.step}`),
    ['baseline/0', 'baseline/4', 'baseline/8', 'bn/0', 'bn/4', 'bn/8'],
  );
  acc.gpu.rows.forEach((g, i) => {
    const w = acc.cpu.rows[i];
    assert.deepEqual([g.arm, g.seed, g.step], [w.arm, w.seed, w.step]);
    const at = `${g.arm} step ${g.step}`;
    assert.ok(Math.abs(Number(g.test_accuracy) - Number(w.test_accuracy)) <= 0.002, `${at} test accuracy ${g.test_accuracy} vs ${w.test_accuracy}`);
    assertNear(g.train_loss, w.train_loss, 1e-3, 0, `${at} train loss`);
    assertNear(g.test_loss, w.test_loss, 1e-3, 0, `${at} test loss`);
  });
  // The training moved the nets: otherwise equal rows would say little.
  const bn = acc.cpu.rows.filter((r) => r.arm === 'bn');
  assert.ok(Math.abs(Number(bn[2].test_loss) - Number(bn[0].test_loss)) > 1e-2, 'the BN net learned something in 8 steps');

  const act = { gpu: readCsv(join(gpu, 'activations.csv')), cpu: readCsv(join(cpu, 'activations.csv')) };
  // 2 arms x 3 evaluations x 2 units of the last hidden layer.
  assert.equal(act.gpu.rows.length, 12);
  assert.equal(act.cpu.rows.length, 12);
  act.gpu.rows.forEach((g, i) => {
    const w = act.cpu.rows[i];
    assert.deepEqual([g.arm, g.step, g.layer, g.unit], [w.arm, w.step, w.layer, w.unit]);
    for (const col of ['p15', 'p50', 'p85', 'mean', 'std']) assertNear(g[col], w[col], 1e-3, 1e-5, `${g.arm} step ${g.step} unit ${g.unit} ${col}`);
  });

  // ICS per weight layer (2 hidden + output) and one landscape row, per arm at steps 0 and 8.
  for (const [file, count, keys, cols] of [
    ['ics.csv', 12, ['arm', 'step', 'layer'], ['l2', 'cosine']],
    ['landscape.csv', 4, ['arm', 'step'], ['loss_min', 'loss_max', 'grad_change_max', 'beta_smoothness']],
  ] as const) {
    const m = { gpu: readCsv(join(gpu, file)), cpu: readCsv(join(cpu, file)) };
    assert.equal(m.gpu.rows.length, count, `${file} rows`);
    assert.equal(m.cpu.rows.length, count, `${file} rows on wasm`);
    m.gpu.rows.forEach((g, i) => {
      const w = m.cpu.rows[i];
      assert.deepEqual(
        keys.map((k) => g[k]),
        keys.map((k) => w[k]),
      );
      for (const col of cols) assertNear(g[col], w[col], 1e-3, 1e-6, `${file} ${keys.map((k) => g[k]).join(' ')} ${col}`);
    });
  }
});
