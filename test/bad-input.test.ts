/**
 * Table-driven: every input mistake a user can make gives one clear sentence naming the problem,
 * a non-zero exit code, no stack trace, and leaves an existing run folder exactly as it was.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { encodeIdx } from '../src/data/idx.js';
import { MNIST_FILES } from '../src/data/mnist-files.js';
import { CLI_TABLE_CONCURRENCY, runCliAsync, tempDir } from './helpers.js';

const work = tempDir();

/** A finished-looking run folder that no case may touch. */
const existing = join(work, 'existing-run');
mkdirSync(existing);
writeFileSync(join(existing, 'accuracy.csv'), 'arm,seed,step\nbn,0,0\n');
writeFileSync(join(existing, 'run.json'), '{"status":"finished"}\n');
const snapshot = () => readdirSync(existing).map((f) => `${f}:${readFileSync(join(existing, f), 'utf8')}`);
const before = snapshot();

function json(name: string, value: unknown): string {
  const path = join(work, name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
}

/** A data folder of small IDX files, with `broken` replacing one of them. */
function idxDir(name: string, broken: Partial<Record<keyof typeof MNIST_FILES, Uint8Array>>): string {
  const dir = join(work, name);
  mkdirSync(dir);
  const files: Record<keyof typeof MNIST_FILES, Uint8Array> = {
    trainImages: encodeIdx([100, 28, 28], new Uint8Array(100 * 784)),
    trainLabels: encodeIdx([100], new Uint8Array(100)),
    testImages: encodeIdx([20, 28, 28], new Uint8Array(20 * 784)),
    testLabels: encodeIdx([20], new Uint8Array(20)),
    ...broken,
  };
  for (const [key, bytes] of Object.entries(files)) writeFileSync(join(dir, MNIST_FILES[key as keyof typeof MNIST_FILES].name), bytes);
  return dir;
}
const noChecksums = json('no-checksums.json', { data: { verifyChecksums: false } });
const wrongMagic = encodeIdx([100], new Uint8Array(100));
wrongMagic[3] = 3;
const truncated = encodeIdx([100, 28, 28], new Uint8Array(100 * 784)).subarray(0, 5000);
const aFile = json('a-file', 'not a folder');

const fullData = (dir: string) => ['--data', 'full', '--data-dir', dir];
const cases: [string, string[], number, RegExp][] = [
  ['unknown flag', ['--stepz', '10'], 2, /unknown option '--stepz'/],
  ['non-numeric steps', ['--steps', 'ten'], 2, /--steps: config key "train.steps" must be a positive integer \(got "ten"\)/],
  ['zero steps', ['--steps', '0'], 2, /"train.steps" must be a positive integer \(got 0\)/],
  ['negative steps', ['--steps', '-100'], 2, /"train.steps" must be a positive integer \(got -100\)/],
  ['batch size zero', ['--batch-size', '0'], 2, /--batch-size: config key "train.batchSize" must be an integer of at least 2/],
  ['negative batch size', ['--batch-size', '-60'], 2, /"train.batchSize" must be an integer of at least 2 \(got -60\)/],
  ['zero eval interval', ['--eval-every', '0'], 2, /--eval-every: config key "eval.every" must be a positive integer/],
  [
    'negative landscape interval',
    ['--landscape-every', '-1'],
    2,
    /--landscape-every: config key "eval\.landscape\.every" must be a non-negative integer \(0 = off\)/,
  ],
  ['non-numeric learning rate', ['--lr', 'fast'], 2, /--lr: config key "train.learningRate" must be a positive number \(got "fast"\)/],
  ['negative learning rate', ['--lr', '-0.1'], 2, /"train.learningRate" must be a positive number \(got -0.1\)/],
  ['--bn maybe', ['--bn', 'maybe'], 2, /--bn: config key "bn" must be one of "on", "off", "both" \(got "maybe"\)/],
  ['unknown backend', ['--backend', 'tpu'], 2, /"backend" must be one of "auto", "tensorflow", "webgpu", "wasm", "cpu"/],
  ['unknown config key', ['--config', json('unknown.json', { train: { stepz: 1 } })], 2, /unknown config key "train.stepz"/],
  ['wrong type in config', ['--config', json('type.json', { eval: { every: '500' } })], 2, /config key "eval.every" must be a positive integer \(got "500"\)/],
  ['config file missing', ['--config', join(work, 'nope.json')], 2, /Config file .*nope.json cannot be read/],
  ['config file not JSON', ['--config', json('broken.json', '{ "train": { ')], 2, /Config file .*broken.json is not valid JSON/],
  [
    'percentile above 100',
    ['--config', json('pct.json', { eval: { percentiles: [15, 101] } })],
    2,
    /"eval.percentiles" must be a list of percentiles in \[0, 100\]/,
  ],
  ['negative percentile', ['--config', json('pct2.json', { eval: { percentiles: [-5] } })], 2, /"eval.percentiles"/],
  [
    'unit outside the layer',
    ['--config', json('unit.json', { eval: { units: [100] } })],
    2,
    /"eval.units" holds unit 100, outside the last hidden layer of 100 units/,
  ],
  ['data folder that does not exist', fullData(join(work, 'empty')), 1, /^error: --data-dir .*empty does not exist\.$/],
  ['data folder without MNIST', fullData(work), 1, /^error: --data-dir .* lacks train-images-idx3-ubyte, .* \(raw or \.gz\)\.$/],
  [
    'IDX file with wrong magic',
    ['--config', noChecksums, ...fullData(idxDir('magic', { trainLabels: wrongMagic }))],
    1,
    /training labels has magic number 0x00000803, expected 0x00000801/,
  ],
  [
    'truncated IDX file',
    ['--config', noChecksums, ...fullData(idxDir('trunc', { trainImages: truncated }))],
    1,
    /training images is truncated: header dimensions 100x28x28 need 78400 bytes, found 4984/,
  ],
  [
    'image and label counts differ',
    ['--config', noChecksums, ...fullData(idxDir('count', { testLabels: encodeIdx([19], new Uint8Array(19)) }))],
    1,
    /test images and labels disagree: 20 images but 19 labels/,
  ],
  ['file that fails its checksum', fullData(idxDir('checksum', {})), 1, /train-images-idx3-ubyte fails its sha256 check/],
  ['--out at a folder with results', ['--out', existing, '--data', 'embedded'], 1, /existing-run already holds files; choose another --out/],
  ['--resume of a folder that is not a run', ['--resume', join(work, 'magic')], 1, /magic is not a bn-repro run folder/],
  ['--resume with other settings', ['--resume', existing, '--steps', '5'], 2, /--resume continues a run with its saved settings; drop --steps/],
  [
    'output folder that cannot be created',
    ['--out', join(aFile, 'run'), '--data', 'embedded', '--steps', '10'],
    1,
    /Cannot create the output folder .*a-file\/run: a part of the path is a file, not a folder \(ENOTDIR\)\./,
  ],
];

test('the table has at least 15 cases', () => assert.ok(cases.length >= 15));

// Each case has its own --out and only reads the shared inputs above, so they run a few at a time;
// every case still checks that the existing run folder is untouched.
describe('bad input', { concurrency: CLI_TABLE_CONCURRENCY }, () => {
  for (const [what, args, code, message] of cases) {
    test(`bad input: ${what}`, async (t) => {
      const out = join(work, `out-${what.replace(/\W+/g, '-')}`);
      const fullArgs = args.includes('--out') || args.includes('--resume') ? args : [...args, '--out', out];
      const r = await runCliAsync(['mnist', ...fullArgs]);
      assert.equal(r.code, code, `exit code; stderr: ${r.stderr}`);
      const errorLines = r.stderr.split('\n').filter((l) => /^error:/.test(l));
      assert.equal(errorLines.length, 1, `one error sentence, got: ${r.stderr}`);
      assert.match(errorLines[0], message);
      t.diagnostic(`exit ${r.code}: ${errorLines[0]}`);
      assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
      assert.equal(existsSync(out), false, 'no run folder created');
      assert.deepEqual(snapshot(), before, 'the existing run folder is untouched');
    });
  }
});
