import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { configFromFlags } from '../src/commands/flags.js';
import { DEFAULTS } from '../src/config/config.js';
import { readConfigFile, resolveConfig } from '../src/config/resolve.js';
import { armsOf } from '../src/config/runs.js';
import { RULES } from '../src/config/config-rules.js';
import { UsageError } from '../src/core/errors.js';
import { tempDir, testConfig } from './helpers.js';

function writeConfig(value: unknown): string {
  const path = join(tempDir(), 'c.json');
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
}

const leafKeys = (o: object, prefix = ''): string[] =>
  Object.entries(o).flatMap(([k, v]) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? leafKeys(v, `${prefix}${k}.`) : [`${prefix}${k}`]));

test('every default has a validation rule and every rule a default', () => {
  assert.deepEqual(leafKeys(DEFAULTS).sort(), Object.keys(RULES).sort());
  for (const key of leafKeys(DEFAULTS)) {
    const value = key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], DEFAULTS);
    assert.equal(RULES[key](value), undefined, `default of ${key} passes its own rule`);
  }
});

test('the shipped configs resolve, and hold overrides only', () => {
  const paper = resolveConfig('configs/paper.json', {});
  assert.equal(paper.train.steps, 50000);
  assert.equal(paper.train.batchSize, 60);
  assert.deepEqual(paper.model.hiddenUnits, [100, 100, 100]);
  const smoke = resolveConfig('configs/smoke.json', {});
  assert.equal(smoke.train.steps, 1500);
  const smokeKeys = leafKeys(readConfigFile('configs/smoke.json'));
  assert.ok(smokeKeys.length < leafKeys(DEFAULTS).length / 2, 'a partial file, not a copy of DEFAULTS');
  assert.equal(smoke.model.initStd, DEFAULTS.model.initStd, 'unset keys keep their defaults');
});

test('file, then flags, override defaults', () => {
  const path = writeConfig({ train: { steps: 10, learningRate: 0.5 } });
  const c = configFromFlags({ config: path, lr: '0.25', bn: 'on' });
  assert.equal(c.train.steps, 10);
  assert.equal(c.train.learningRate, 0.25);
  assert.equal(c.bn, 'on');
  assert.deepEqual(armsOf(c.bn), ['bn']);
  assert.equal(c.train.batchSize, 60);
});

const bad: [string, unknown, RegExp][] = [
  ['unknown top-level key', { stepz: 5 }, /unknown config key "stepz"/],
  ['unknown nested key', { train: { lr: 0.1 } }, /unknown config key "train.lr"/],
  ['wrong type', { train: { steps: '100' } }, /config key "train.steps" must be a positive integer \(got "100"\)/],
  ['zero steps', { train: { steps: 0 } }, /"train.steps" must be a positive integer/],
  ['negative learning rate', { train: { learningRate: -1 } }, /"train.learningRate" must be a positive number/],
  ['batch of one', { train: { batchSize: 1 } }, /"train.batchSize" must be an integer of at least 2/],
  ['bad enum', { batchNorm: { inference: 'running' } }, /"batchNorm.inference" must be one of "population", "moving"/],
  ['percentile over 100', { eval: { percentiles: [15, 150] } }, /"eval.percentiles" must be a list of percentiles in \[0, 100\]/],
  ['unit outside the layer', { eval: { units: [0, 100] } }, /"eval.units" holds unit 100, outside the last hidden layer of 100 units/],
  ['object replaced by a number', { train: 5 }, /"train" must be an object/],
];
for (const [what, value, message] of bad) {
  test(`config file error: ${what}`, () => {
    const path = writeConfig(value);
    assert.throws(
      () => resolveConfig(path, {}),
      (e: Error) => e instanceof UsageError && message.test(e.message) && e.message.startsWith(path),
    );
  });
}

test('config file missing or not JSON is a usage error naming the file', () => {
  assert.throws(() => readConfigFile('/nonexistent/x.json'), /Config file \/nonexistent\/x.json cannot be read/);
  const path = writeConfig('{ "train": ');
  assert.throws(() => readConfigFile(path), /is not valid JSON/);
  assert.throws(() => readConfigFile(writeConfig('[1, 2]')), /must hold a JSON object/);
});

test('bad flag values name the flag', () => {
  assert.throws(() => configFromFlags({ steps: 'abc' }), /--steps: config key "train.steps" must be a positive integer \(got "abc"\)/);
  assert.throws(() => configFromFlags({ steps: '-5' }), /--steps: .* \(got -5\)/);
  assert.throws(() => configFromFlags({ lr: '0' }), /--lr: config key "train.learningRate"/);
  assert.throws(() => configFromFlags({ bn: 'maybe' }), /--bn: config key "bn" must be one of "on", "off", "both"/);
  assert.throws(() => configFromFlags({ evalEvery: '2.5' }), /--eval-every/);
});

test('sweep variants take an absolute initStd; a bad one is refused naming it', () => {
  const ok = testConfig({ sweep: [{ name: 'bn-std0.06', bn: true, lrMultiplier: 1, initStd: 0.06 }] });
  assert.equal(ok.sweep[0].initStd, 0.06);
  assert.throws(
    () => testConfig({ sweep: [{ name: 'b', bn: false, lrMultiplier: 1, initStd: -1 }] }),
    /"sweep" must be a list of \{ name, bn, lrMultiplier, initStd\?, activation\?, hiddenUnits\? \} entries \(an entry initStd must be a positive number\)/,
  );
  assert.throws(() => testConfig({ sweep: [{ name: 'b', bn: false, lrMultiplier: 1, std: 1 }] }), /has unknown key "std"/);
});

test('the ONNX Runtime GPU providers train in one thread: --jobs 2 with them is a usage error, jobs 0 means 1', async () => {
  const { jobsFor } = await import('../src/experiment.js');
  for (const backend of ['ort-webgpu', 'ort-cuda']) {
    assert.throws(
      () => resolveConfig(undefined, { backend, jobs: 2 }),
      (e: Error) => e instanceof UsageError && e.message.includes(`the ${backend} backend trains in one thread`),
    );
    assert.equal(jobsFor(resolveConfig(undefined, { backend, jobs: 0 })), 1);
    assert.equal(jobsFor(resolveConfig(undefined, { backend, jobs: 1 })), 1);
  }
  assert.equal(jobsFor(resolveConfig(undefined, { backend: 'ort-cpu', jobs: 2 })), 2);
});
