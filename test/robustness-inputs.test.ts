/**
 * Issue 17, families 6, 8 and 9: what a user names or types is refused in one sentence, at once,
 * with the table's exit code, before anything is written. Files that are not regular files
 * (devices, FIFOs, sockets, folders, symlink loops), oversized files, gzip bombs, configs nested
 * thousands deep, networks too large for the wasm heap, integer flags in any notation but plain
 * decimal, conflicting or ignored flags, repeated options, and commander's own errors (one line).
 * Every CLI case runs with a hard SIGKILL timeout, so a hang (a FIFO read) fails the case.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { INTEGER_TEXT, configFromFlags } from '../src/commands/flags.js';
import { LIMITS, nestingDepth } from '../src/config/config-rules.js';
import { parameterCount } from '../src/config/network-bounds.js';
import { resolveConfig } from '../src/config/resolve.js';
import { MAX_IDX_BYTES, MNIST_FILES, maybeGunzip } from '../src/data/mnist-files.js';
import { packageDataDir } from '../src/data/sources.js';
import { UsageError, UserError } from '../src/core/errors.js';
import { readUserFile } from '../src/core/user-file.js';
import { CLI_TABLE_CONCURRENCY, runCliAsync, tempDir, testConfig } from './helpers.js';

const work = tempDir('bn-repro-inputs-');
const file = (name: string, text: string) => {
  const path = join(work, name);
  writeFileSync(path, text);
  return path;
};
const fifo = join(work, 'config.fifo');
execFileSync('mkfifo', [fifo]);
const loopA = join(work, 'loop-a.json');
symlinkSync(join(work, 'loop-b.json'), loopA);
symlinkSync(loopA, join(work, 'loop-b.json'));
// A listening socket; the server is closed after the tests.
const socketPath = join(work, 'config.sock');
const server = createServer().listen(socketPath);
after(() => server.close());

const binary = join(work, 'binary.json');
writeFileSync(binary, Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0x0a, 0x1b]));
const deep = (n: number) => file(`deep-${n}.json`, `{"name":${'['.repeat(n)}${']'.repeat(n)}}`);
const big = file('big.json', `{"name": "big"${' '.repeat(LIMITS.configFileBytes)}}`);

/** A data folder with the package's real label and test files, and `trainImages` in the image file's place. */
function dataDir(name: string, trainImages: (path: string) => void): string {
  const dir = join(work, name);
  mkdirSync(dir);
  const pkg = packageDataDir()!;
  for (const key of ['trainLabels', 'testImages', 'testLabels'] as const) {
    const n = MNIST_FILES[key].name;
    symlinkSync(existsSync(join(pkg, `${n}.gz`)) ? join(pkg, `${n}.gz`) : join(pkg, n), join(dir, existsSync(join(pkg, `${n}.gz`)) ? `${n}.gz` : n));
  }
  trainImages(join(dir, MNIST_FILES.trainImages.name));
  return dir;
}
const fifoData = dataDir('fifo-data', (p) => execFileSync('mkfifo', [p]));
const deviceData = dataDir('device-data', (p) => symlinkSync('/dev/zero', p));
// 64 MiB of zeros is a 64 KiB .gz that decompresses beyond MNIST's largest file.
const bombData = dataDir('bomb-data', (p) => writeFileSync(`${p}.gz`, gzipSync(Buffer.alloc(64 << 20))));
// A sparse 100 MB file: no disk used, larger than any MNIST file.
const hugeData = dataDir('huge-data', (p) => {
  writeFileSync(p, '');
  truncateSync(p, 100_000_000);
});

const out = () => join(tempDir(), 'never');
const mnist = (...args: string[]) => ['mnist', '--data', 'embedded', '--steps', '10', ...args];
const sweepConfig = file(
  'sweep.json',
  JSON.stringify({ sweep: [{ name: 'bn', bn: true, lrMultiplier: 1, initStd: 0.1 }], data: { source: 'embedded' }, train: { steps: 10 } }),
);

/** [name, arguments, exit code, the one error line, wholeStderr: the error is all stderr says] */
type Case = [string, string[], number, RegExp, boolean?];
const cases: Case[] = [
  // Family 6: files that are not regular files, or too large, or nested too deep
  ['--config /dev/zero', mnist('--config', '/dev/zero'), 2, /^error: Config file \/dev\/zero is a character device, not a regular file\.$/, true],
  ['--config /dev/urandom', mnist('--config', '/dev/urandom'), 2, /^error: Config file \/dev\/urandom is a character device, not a regular file\.$/, true],
  ['--config a FIFO (must not hang)', mnist('--config', fifo), 2, /^error: Config file .*config\.fifo is a FIFO \(named pipe\), not a regular file\.$/, true],
  ['--config a socket', mnist('--config', socketPath), 2, /^error: Config file .*config\.sock is a socket, not a regular file\.$/, true],
  ['--config a folder', mnist('--config', work), 2, /^error: Config file .* is a folder, not a regular file\.$/, true],
  [
    '--config a symlink loop',
    mnist('--config', loopA),
    2,
    /^error: Config file .*loop-a\.json cannot be read: too many levels of symbolic links \(ELOOP\)\.$/,
    true,
  ],
  ['--config over 1 MiB', mnist('--config', big), 2, /^error: Config file .*big\.json is 1,048,591 bytes, more than the 1,048,576 bytes allowed\.$/, true],
  [
    '--config nested 5,000 deep',
    mnist('--config', deep(5000)),
    2,
    /^error: .*deep-5000\.json: settings nest lists and objects more than 10 deep; no config key takes such a value\.$/,
    true,
  ],
  ['--config nested 100,000 deep (under 1 MiB)', mnist('--config', deep(100_000)), 2, /more than 10 deep/, true],
  [
    '--config nested 1e6 deep (2 MB)',
    mnist('--config', deep(1_000_000)),
    2,
    /^error: Config file .*deep-1000000\.json is 2,000,009 bytes, more than the 1,048,576 bytes allowed\.$/,
    true,
  ],
  ['--config of /proc (size 0, text inside)', mnist('--config', '/proc/self/status'), 2, /^error: Config file \/proc\/self\/status is not valid JSON/, true],
  [
    '--config a binary file (control characters escaped)',
    mnist('--config', binary),
    2,
    /^error: Config file .* is not valid JSON: Unexpected token '\\x7f', "\\x7fELF\\x02/,
    true,
  ],
  [
    '--config a path with a newline',
    mnist('--config', join(work, 'a\nb.json')),
    2,
    /^error: Config file .*a\\x0ab\.json cannot be read: it does not exist \(ENOENT\)\.$/,
    true,
  ],
  [
    '--config a 5,000-character name',
    mnist('--config', join(work, 'a'.repeat(5000))),
    2,
    /^error: Config file .*aaaa \.\.\. aaaa.* cannot be read: the name is too long \(ENAMETOOLONG\)\.$/,
    true,
  ],
  [
    '--data-dir a FIFO',
    ['mnist', '--data', 'full', '--data-dir', fifo, '--steps', '10'],
    1,
    /^error: --data-dir .*config\.fifo is a FIFO \(named pipe\), not a folder holding the four MNIST IDX files\.$/,
  ],
  [
    '--config /proc/self/mem (a regular file whose read fails)',
    mnist('--config', '/proc/self/mem'),
    2,
    /^error: Config file \/proc\/self\/mem cannot be read: the system refused to read it \(EIO\)\.$/,
    true,
  ],
  [
    '--config /proc/self/pagemap',
    mnist('--config', '/proc/self/pagemap'),
    2,
    /^error: Config file \/proc\/self\/pagemap cannot be read: the system refused to read it \(EINVAL\)\.$/,
    true,
  ],
  [
    '--data-dir a symlink loop',
    ['mnist', '--data', 'full', '--data-dir', loopA, '--steps', '10'],
    1,
    /^error: --data-dir .*loop-a\.json cannot be used: too many levels of symbolic links \(ELOOP\)\.$/,
  ],
  ['sweep config a FIFO', ['sweep', fifo], 2, /^error: Config file .*config\.fifo is a FIFO/, true],
  [
    'an IDX file that is a FIFO (must not hang)',
    ['mnist', '--data', 'full', '--data-dir', fifoData, '--steps', '10'],
    1,
    /^error: .*fifo-data\/train-images-idx3-ubyte is a FIFO \(named pipe\), not a regular file; MNIST's files are regular files of at most 47,040,016 bytes\.$/,
  ],
  [
    'an IDX file that is /dev/zero',
    ['mnist', '--data', 'full', '--data-dir', deviceData, '--steps', '10'],
    1,
    /device-data\/train-images-idx3-ubyte is a character device, not a regular file/,
  ],
  [
    "a gzip bomb in the image file's place",
    ['mnist', '--data', 'full', '--data-dir', bombData, '--steps', '10'],
    1,
    /bomb-data\/train-images-idx3-ubyte\.gz decompresses to more than 47,040,016 bytes, the size of MNIST's largest file; it is not an MNIST file\.$/,
  ],
  [
    'an IDX file of 100 MB',
    ['mnist', '--data', 'full', '--data-dir', hugeData, '--steps', '10'],
    1,
    /huge-data\/train-images-idx3-ubyte is 100,000,000 bytes, more than the 47,088,081 bytes allowed; MNIST's files are regular files of at most 47,040,016 bytes\.$/,
  ],
  // Family 6: allowed values work or are refused by the bounds, before the backend starts
  [
    '20 layers of 10,000 units (the reported exit 70)',
    ['mnist', '--config', file('wide.json', JSON.stringify({ model: { hiddenUnits: Array(20).fill(10_000) } }))],
    2,
    /^error: .*wide\.json: config key "model\.hiddenUnits" holds 1,908,340,010 parameters, more than the 50,000,000 that a checkpoint and the wasm backend's 4 GiB heap hold\.$/,
    true,
  ],
  [
    'a batch too large for the widths',
    mnist('--config', file('batch.json', JSON.stringify({ model: { hiddenUnits: [2000, 2000] }, train: { batchSize: 30_000 } }))),
    2,
    /: config key "train\.batchSize" 30000 x 4,000 hidden units is 120,000,000 values per layer pass, more than the 30,000,000 that fit the wasm backend's 4 GiB heap\.$/,
    true,
  ],
  [
    '--batch-size too large for the widths',
    mnist('--config', file('batch2.json', JSON.stringify({ model: { hiddenUnits: [1000] } })), '--batch-size', '30001'),
    2,
    /^error: command line: config key "train\.batchSize" 30001 x 1,000 hidden units is 30,001,000 values/,
    true,
  ],
  [
    'a held-out set too large for the widths',
    ['mnist', '--config', file('eval.json', JSON.stringify({ model: { hiddenUnits: [6000, 6000] } }))],
    2,
    /^error: .*eval\.json: config key "model\.hiddenUnits" has 12,000 hidden units x 10,000 held-out examples \(\+ 10,000 probed\) is 240,000,000 values, more than the 100,000,000 an evaluation fits in the wasm backend's 4 GiB heap; use narrower layers, data\.testSubset or eval\.probeSize\.$/,
    true,
  ],
  [
    'a name of 300 characters (a folder name holds 255)',
    mnist('--config', file('name.json', JSON.stringify({ name: 'a'.repeat(300) }))),
    2,
    /config key "name" must be a name of at most 100 letters, digits, "\.", "_" or "-" \(got "aaaa/,
    true,
  ],
  [
    'download retries beyond bound',
    mnist('--config', file('retries.json', JSON.stringify({ data: { downloadRetries: 1e9 } }))),
    2,
    /"data\.downloadRetries" must be at most 10/,
    true,
  ],
  // Family 8: integer flags take plain decimal integers only
  ['--seed 1 --seeds 2,3', mnist('--seed', '1', '--seeds', '2,3'), 2, /^error: --seed and --seeds both set the training seeds; give only one of them\.$/, true],
  ...(['0x2', '2.0', '1e1', ' 2', '+2', '2,,3', '2,', '-0', '02'] as const).map(
    (v): Case => [
      `--seeds "${v}"`,
      mnist('--seeds', v),
      2,
      /^error: --seeds: config key "seeds" must be a list of seeds \(integers in \[0, 2\^32\)\) \(got \[.*\]\)\.$/,
      true,
    ],
  ),
  ['--seeds 2,2', mnist('--seeds', '2,2'), 2, /"seeds" must not list the same value twice/, true],
  ['--seed 0x2', mnist('--seed', '0x2'), 2, /--seed: config key "seeds" must be a list of seeds .*\(got \["0x2"\]\)/, true],
  [
    '--steps 0x10',
    ['mnist', '--data', 'embedded', '--steps', '0x10'],
    2,
    /^error: --steps: config key "train\.steps" must be a positive integer \(got "0x10"\)\.$/,
    true,
  ],
  [
    '--steps 9007199254740993 (not exact as a double)',
    ['mnist', '--data', 'embedded', '--steps', '9007199254740993'],
    2,
    /"train\.steps" must be a positive integer \(got "9007199254740993"\)/,
    true,
  ],
  ['--jobs 1.0', mnist('--jobs', '1.0'), 2, /--jobs: config key "jobs" must be a non-negative integer \(0 = all\) \(got "1\.0"\)/, true],
  ['--eval-every 1e2', mnist('--eval-every', '1e2'), 2, /--eval-every: config key "eval\.every" must be a positive integer \(got "1e2"\)/, true],
  ['--subset " 600"', mnist('--subset', ' 600'), 2, /--subset: config key "data\.trainSubset" .*\(got " 600"\)/, true],
  ['--batch-size ""', mnist('--batch-size', ''), 2, /--batch-size: config key "train\.batchSize" .*\(got ""\)/, true],
  ['--lr 0x1', mnist('--lr', '0x1'), 2, /--lr: config key "train\.learningRate" must be a positive number \(got "0x1"\)/, true],
  ['--lr Infinity', mnist('--lr', 'Infinity'), 2, /\(got "Infinity"\)/, true],
  ['--lr 1e400 (overflows)', mnist('--lr', '1e400'), 2, /\(got "1e400"\)/, true],
  ['--steps given twice', mnist('--steps', '20'), 2, /^error: --steps is given twice \("10" and "20"\); give it once\.$/, true],
  ['--out given twice', mnist('--out', out(), '--out', out()), 2, /^error: --out is given twice/, true],
  // Family 8: flags a command would ignore
  [
    'sweep --bn off',
    ['sweep', sweepConfig, '--bn', 'off'],
    2,
    /^error: --bn would be ignored: the config's "sweep" entries choose the networks, each with its own "bn"; drop --bn\.$/,
    true,
  ],
  ['mnist --bn on with a sweep config', mnist('--config', sweepConfig, '--bn', 'on'), 2, /^error: --bn would be ignored/, true],
  [
    'sweep --init-std when every entry sets initStd',
    ['sweep', sweepConfig, '--init-std', '0.2'],
    2,
    /^error: --init-std would be ignored: every "sweep" entry sets its own "initStd"; drop --init-std\.$/,
    true,
  ],
  [
    '--data-dir with embedded data',
    mnist('--data-dir', work),
    2,
    /^error: --data-dir would be ignored: the embedded digits are used, not MNIST files from a folder; drop --data-dir\.$/,
    true,
  ],
  [
    'a config file with "bn" and sweep entries',
    ['sweep', file('bn-sweep.json', JSON.stringify({ bn: 'off', sweep: [{ name: 'bn', bn: true, lrMultiplier: 1 }] }))],
    2,
    /^error: .*bn-sweep\.json: config key "bn" would be ignored, since the "sweep" entries choose the networks/,
    true,
  ],
  [
    'sweep --slurm with --jobs',
    ['sweep', sweepConfig, '--slurm', '2', '--jobs', '4'],
    2,
    /^error: --jobs would be ignored: each Slurm task trains with one worker per CPU core Slurm gives it; drop --jobs\.$/,
    true,
  ],
  ['sweep --slurm 0x2', ['sweep', sweepConfig, '--slurm', '0x2'], 2, /^error: --slurm takes a number of tasks from 1 to 10,000 \(got "0x2"\)\.$/, true],
  [
    'sweep --shard " 1/2"',
    ['sweep', sweepConfig, '--shard', ' 1/2'],
    2,
    /^error: --shard must be i\/n with 1 <= i <= n, such as 2\/8 \(got " 1\/2"\)\.$/,
    true,
  ],
  ['plot --unit 0x1', ['plot', work, '--unit', '0x1'], 2, /^error: --unit must be a unit index, an integer >= 0 \(got "0x1"\)\.$/, true],
  [
    'report of two folders without --out (a comparison needs somewhere to go)',
    ['report', work, work],
    2,
    /^error: several run folders need --out DIR, the folder for what compares them\.$/,
    true,
  ],
  // Family 9: commander's errors are one line, the hint in the same line
  ['an unknown option', mnist('--stepz', '5'), 2, /^error: unknown option '--stepz' \(Did you mean --steps\?\); see bn-repro mnist --help\.$/, true],
  ['an unknown command', ['train'], 2, /^error: unknown command 'train'; see bn-repro --help\.$/, true],
  ['an option without its value', ['report', work, '--quiet', '--unit'], 2, /^error: unknown option '--unit'; see bn-repro report --help\.$/, true],
  ['a value missing at the end', ['mnist', '--steps'], 2, /^error: option '--steps <n>' argument missing; see bn-repro mnist --help\.$/, true],
];

test('the table covers families 6, 8 and 9 with at least 40 cases', () => assert.ok(cases.length >= 40, `${cases.length} cases`));

// Each case has its own --out and only reads the shared inputs above, so they run a few at a time.
describe('inputs', { concurrency: CLI_TABLE_CONCURRENCY }, () => {
  for (const [name, args, code, message, whole] of cases) {
    test(`inputs: ${name}`, async (t) => {
      const dir = out();
      const withOut = args.includes('--out') || ['plot', 'report', 'train'].includes(args[0]) || args.at(-1) === '--steps' ? args : [...args, '--out', dir];
      const began = Date.now();
      const r = await runCliAsync(withOut, { timeoutMs: 60_000 });
      assert.equal(r.signal, null, `killed by ${r.signal}: it hung`);
      assert.equal(r.code, code, `exit code; stderr: ${r.stderr}`);
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
      assert.equal(errors.length, 1, `one error line, got: ${r.stderr}`);
      assert.match(errors[0], message);
      t.diagnostic(`exit ${r.code} in ${Date.now() - began} ms: ${errors[0]}`);
      assert.doesNotMatch(r.stderr, /^\s+at |internal error/m, 'no stack trace');
      // Usage errors come before the backend or the data are touched: stderr holds nothing else.
      if (whole) assert.equal(r.stderr.trim(), errors[0], 'the error is all that is printed');
      assert.equal(existsSync(dir), false, 'no run folder created');
    });
  }
});

test('readUserFile: reads a regular file or a /proc file to its end, refuses past its bound', () => {
  const fail = (p: string) => new UserError(`x ${p}`);
  assert.equal(readUserFile(file('ok.txt', 'hello'), 5, fail).toString(), 'hello');
  assert.throws(() => readUserFile(file('six.txt', 'hello!'), 5, fail), /^UserError: x is 6 bytes, more than the 5 bytes allowed$/);
  assert.match(readUserFile('/proc/self/status', 1 << 16, fail).toString(), /^Name:/);
  assert.throws(() => readUserFile('/proc/self/status', 10, fail), /x is more than the 10 bytes allowed/);
  assert.throws(() => readUserFile(join(work, 'nope'), 5, fail), /x cannot be read: it does not exist \(ENOENT\)/);
});

test("maybeGunzip stops at MNIST's largest file: exactly MAX_IDX_BYTES passes, one byte more is refused", () => {
  assert.equal(MAX_IDX_BYTES, 16 + 60_000 * 784);
  assert.equal(maybeGunzip(gzipSync(Buffer.alloc(MAX_IDX_BYTES, 7)), 'f').length, MAX_IDX_BYTES);
  assert.throws(
    () => maybeGunzip(gzipSync(Buffer.alloc(MAX_IDX_BYTES + 1)), 'f.gz'),
    (e: Error) => e instanceof UserError && /^f\.gz decompresses to more than 47,040,016 bytes/.test(e.message),
  );
  assert.throws(() => maybeGunzip(Uint8Array.from([0x1f, 0x8b, 1, 2, 3]), 'g.gz'), /g\.gz is a corrupt gzip file/);
});

test("nestingDepth counts without recursion: 0 for a number, 1 for [], 3 for a sweep entry's value, gives up past the limit", () => {
  assert.equal(nestingDepth(5, 10), 0);
  assert.equal(nestingDepth([], 10), 1);
  assert.equal(nestingDepth({ sweep: [{ name: 'a' }] }, 10), 3);
  let v: unknown = [];
  for (let i = 0; i < 1_000_000; i++) v = [v];
  assert.equal(nestingDepth(v, 10), 11);
});

test('parameterCount by hand: 784-100-100-100-10 holds 100,010 (weights, output bias, 2 per hidden unit)', () => {
  assert.equal(parameterCount([100, 100, 100]), 784 * 100 + 100 * 100 + 100 * 100 + 100 * 10 + 10 + 2 * 300);
  assert.equal(parameterCount([100, 100, 100]), 100_010);
  assert.equal(parameterCount([10_000]), 784 * 10_000 + 10_000 * 10 + 10 + 2 * 10_000);
});

test('the bounds: the largest allowed network of each kind passes, one unit or example more is refused', () => {
  const small = { testSubset: 1000 };
  // Parameters (held-out set and probe small, so only the parameter bound applies).
  assert.doesNotThrow(() => testConfig({ model: { hiddenUnits: [7000, 6000] }, eval: { probeSize: 100, units: [0] }, data: small }));
  assert.throws(
    () => testConfig({ model: { hiddenUnits: [5000, 5000, 5000] }, eval: { probeSize: 100 }, data: small }),
    (e: Error) => e instanceof UsageError && /holds 54,000,010 parameters, more than the 50,000,000/.test(e.message),
  );
  // Evaluation: (10,000 held-out + 10,000 probed) x 5,000 units is exactly the bound.
  assert.doesNotThrow(() => testConfig({ model: { hiddenUnits: [5000] } }));
  assert.throws(
    () => testConfig({ model: { hiddenUnits: [5001] } }),
    /5,001 hidden units x 10,000 held-out examples \(\+ 10,000 probed\) is 100,020,000 values/,
  );
  assert.doesNotThrow(() => testConfig({ model: { hiddenUnits: [9900] }, eval: { probeSize: 100 } }), '10,100 x 9,900 = 99,990,000');
  assert.doesNotThrow(() => testConfig({ model: { hiddenUnits: [5001] }, data: { source: 'embedded' } }), 'the embedded held-out set is 2,000 digits');
  // Training: batch x hidden units.
  assert.doesNotThrow(() => testConfig({ model: { hiddenUnits: [1000] }, train: { batchSize: 30_000 }, eval: { probeSize: 100, units: [0] }, data: small }));
  assert.throws(
    () => testConfig({ model: { hiddenUnits: [1000] }, train: { batchSize: 30_001 }, eval: { probeSize: 100, units: [0] }, data: small }),
    /"train\.batchSize" 30001 x 1,000 hidden units is 30,001,000 values per layer pass/,
  );
});

test('a resolved config as `sweep --slurm` writes it for its tasks ("bn": "both" beside sweep entries) is accepted', () => {
  const resolved = file('resolved.json', JSON.stringify({ ...resolveConfig(sweepConfig, {}), jobs: 0 }));
  assert.equal(readFileSync(resolved, 'utf8').includes('"bn":"both"'), true);
  assert.deepEqual(
    resolveConfig(resolved, {}).sweep.map((v) => v.name),
    ['bn'],
  );
});

test('a config file with a byte-order mark (Windows editors) is read as its JSON', () => {
  const bom = file('bom.json', `\uFEFF${JSON.stringify({ train: { steps: 7 } })}`);
  assert.equal(readFileSync(bom)[0], 0xef);
  assert.equal(resolveConfig(bom, {}).train.steps, 7);
});

test('accepted notations still parse to the values they say', () => {
  const c = configFromFlags({ seeds: '3,1', steps: '20', lr: '5e-3', initStd: '0.05', jobs: '0', data: 'embedded' });
  assert.deepEqual([c.seeds, c.train.steps, c.train.learningRate, c.model.initStd, c.jobs], [[3, 1], 20, 0.005, 0.05, 0]);
  assert.deepEqual(configFromFlags({ seeds: '3' }).seeds, [0, 1, 2], 'a count');
  assert.deepEqual(configFromFlags({ seed: '7' }).seeds, [7]);
  for (const text of ['0', '12', '-3']) assert.ok(INTEGER_TEXT.test(text), text);
  for (const text of ['', ' 1', '+1', '01', '-0', '1.0', '1e1', '0x1', '1_000']) assert.ok(!INTEGER_TEXT.test(text), text);
  assert.equal(readFileSync(sweepConfig, 'utf8').includes('initStd'), true);
});
