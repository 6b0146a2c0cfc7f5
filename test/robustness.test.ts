/**
 * Nothing hangs, races, or silently loses or corrupts results: a table of what an adversarial
 * user does (nonsense settings, odd output folders, a second writer, edited or damaged state,
 * odd folders for merge/plot/report, a full or read-only disk). Every case runs the CLI with a
 * hard SIGKILL timeout and asserts the exit code, exactly one `error:` line, no stack trace, the
 * folders it must not touch byte for byte unchanged, and no temp or lock file left behind.
 */
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MNIST_FILES, MNIST_KEYS } from '../src/data/mnist-files.js';
import { packageDataDir } from '../src/data/sources.js';
import { canMountTmpfs, copyOf, editJson, editText, snapshot, tinyRunConfig } from './folder-helpers.js';
import { assertRefused, readCsv, runCli, start, tempDir, waitForCheckpoint } from './helpers.js';
import { leftovers } from './signal-helpers.js';

const work = tempDir('bn-repro-robust-');
const tiny = tinyRunConfig(work);
const train = (out: string, ...extra: string[]) => ['mnist', '--config', tiny, '--out', out, '--quiet', ...extra];

// Templates, made once: a finished run, one killed mid-run (checkpoints at step >= 200), one that never learns.
let finished = '';
let killed = '';
let flat = '';
let writer: ChildProcess | undefined;
let busy = '';
const canMount = canMountTmpfs();
const mounts: string[] = [];
function tmpfs(size: string): string {
  const m = tempDir('bn-repro-tmpfs-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', m]);
  mounts.push(m);
  return m;
}

before(async () => {
  finished = join(work, 'finished');
  assert.equal(runCli(train(finished)).code, 0);
  flat = join(work, 'flat');
  assert.equal(runCli(train(flat, '--lr', '0.00001', '--steps', '100', '--eval-every', '50')).code, 0);
  killed = join(work, 'killed');
  const child = start(train(killed, '--steps', '2000', '--jobs', '1'), 'ignore');
  try {
    await waitForCheckpoint(join(killed, 'checkpoints', 'baseline-seed0.json'), 200);
  } finally {
    child.kill('SIGKILL');
  }
  await new Promise((r) => child.once('exit', r));
  // The killed writer's lock is stale (taken over by the next writer; resume.test checks that).
  // Without it, the copies of this folder are damaged only where each case damages them.
  rmSync(join(killed, '.lock'));
  // A writer that holds its folder's lock for the concurrency cases: stopped (SIGSTOP), not dead.
  busy = join(work, 'busy');
  writer = start(train(busy, '--steps', '2000', '--jobs', '1'), 'ignore');
  await waitForCheckpoint(join(busy, 'checkpoints', 'baseline-seed0.json'), 200);
  writer.kill('SIGSTOP');
});

after(() => {
  writer?.kill('SIGKILL');
  for (const m of mounts.reverse()) execFileSync('umount', ['-l', m]);
});

/**
 * The stopped writer's heartbeat, given by hand: a live writer refreshes its lock every 10 s, and
 * a lock silent for 60 s is stale by design, which a slow machine reaches before these cases run.
 */
function beating(scene: Scene): Scene {
  const now = new Date();
  utimesSync(join(busy, '.lock'), now, now);
  return scene;
}

interface Scene {
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Folders that must be byte for byte as they were. */
  unchanged?: string[];
  /** Paths that must not exist afterwards. */
  absent?: string[];
}
type Case = [name: string, scene: () => Scene, code: number, message: RegExp, opts?: { mount?: boolean }];

const embedded = ['--data', 'embedded', '--steps', '10'];
const cfg = (name: string, value: unknown) => {
  const p = join(work, `${name}.json`);
  writeFileSync(p, JSON.stringify(value));
  return p;
};
const newOut = () => join(tempDir(), 'never');
const withOut = (args: string[]): Scene => {
  const out = newOut();
  return { args: [...args, '--out', out], absent: [out] };
};
/** A copy of the killed run with `damage` applied, resumed: refused, the copy unchanged. */
const damagedResume = (damage: (dir: string) => void) => (): Scene => {
  const dir = copyOf(killed);
  damage(dir);
  return { args: ['mnist', '--resume', dir], unchanged: [dir] };
};
const ckpt = (dir: string) => join(dir, 'checkpoints', 'baseline-seed0.json');

const cases: Case[] = [
  // Nonsense settings
  [
    '--out under /proc (Node mkdir would loop)',
    () => ({ args: ['mnist', ...embedded, '--out', '/proc/bn-repro-x/run'], absent: ['/proc/bn-repro-x'] }),
    1,
    /^error: Cannot create the output folder \/proc\/bn-repro-x\/run: .*\(E[A-Z]+\)\.$/,
  ],
  ['--out empty', () => ({ args: ['mnist', ...embedded, '--out', ''] }), 2, /^error: --out must name a folder/],
  [
    'a billion seeds',
    () => withOut(['mnist', ...embedded, '--seeds', '1000000000']),
    2,
    /^error: --seeds 1000000000 asks for 1,000,000,000 seeds; at most 1,000 are allowed\.$/,
  ],
  [
    '1001 seeds',
    () => withOut(['mnist', ...embedded, '--seeds', Array.from({ length: 1001 }, (_, i) => i).join(',')]),
    2,
    /"seeds" must be a list of at most 1000/,
  ],
  ['duplicate seeds', () => withOut(['mnist', ...embedded, '--seeds', '1,1']), 2, /"seeds" must not list the same value twice/],
  [
    'duplicate units',
    () => withOut(['mnist', ...embedded, '--config', cfg('units', { eval: { units: [3, 3] } })]),
    2,
    /"eval.units" must not list the same value twice/,
  ],
  [
    'duplicate percentiles',
    () => withOut(['mnist', ...embedded, '--config', cfg('pcts', { eval: { percentiles: [50, 50] } })]),
    2,
    /"eval.percentiles" must not list the same value twice/,
  ],
  [
    'a layer of a billion units',
    () => withOut(['mnist', ...embedded, '--config', cfg('wide', { model: { hiddenUnits: [1e9] } })]),
    2,
    /"model.hiddenUnits" must be a list of layer widths/,
  ],
  [
    'population batches beyond bound',
    () => withOut(['mnist', ...embedded, '--config', cfg('pop', { batchNorm: { populationBatches: 1e9 } })]),
    2,
    /"batchNorm.populationBatches" must be at most 100,000/,
  ],
  ['--jobs 100000', () => withOut(['mnist', ...embedded, '--jobs', '100000']), 2, /"jobs" must be at most 256/],
  [
    '--subset above the training set',
    () => withOut(['mnist', ...embedded, '--subset', '100000']),
    2,
    /"data.trainSubset" \(100000\) asks for more examples than the training set holds \(8000\)/,
  ],
  [
    'probe larger than the held-out set',
    () => withOut(['mnist', ...embedded, '--config', cfg('probe', { eval: { probeSize: 5000 } })]),
    2,
    /"eval.probeSize" \(5000\) asks for more examples than the held-out set holds \(2000\)/,
  ],
  ['config key __proto__', () => withOut(['mnist', ...embedded, '--config', join(work, 'proto.json')]), 2, /unknown config key "__proto__"/],
  ['config key constructor', () => withOut(['mnist', ...embedded, '--config', cfg('ctor', { constructor: { x: 1 } })]), 2, /unknown config key "constructor"/],
  [
    '--data-dir without the files while $BN_REPRO_DATA has them',
    () => ({ ...withOut(['mnist', '--data', 'full', '--data-dir', work, '--steps', '10']), env: { BN_REPRO_DATA: packageDataDir()! } }),
    1,
    /^error: --data-dir .* lacks train-images-idx3-ubyte/,
  ],
  [
    '$BN_REPRO_DATA naming a file',
    () => ({ ...withOut(['mnist', '--data', 'full', '--steps', '10']), env: { BN_REPRO_DATA: tiny } }),
    1,
    /^error: \$BN_REPRO_DATA \(.*tiny\.json\) is a file, not a folder/,
  ],
  [
    'IDX "files" that are folders',
    () => {
      const d = join(tempDir(), 'mnist');
      for (const k of MNIST_KEYS) mkdirSync(join(d, MNIST_FILES[k].name), { recursive: true });
      return withOut(['mnist', '--data', 'full', '--data-dir', d, '--steps', '10']);
    },
    1,
    /lacks train-images-idx3-ubyte/,
  ],
  // Output folders
  [
    '--out is a file',
    () => {
      const d = tempDir();
      writeFileSync(join(d, 'results'), 'precious');
      return { args: ['mnist', ...embedded, '--out', join(d, 'results')], unchanged: [d] };
    },
    1,
    /results exists and is not a folder that can be read/,
  ],
  ['--out holds results', () => ({ args: ['mnist', ...embedded, '--out', copyOf(finished)], unchanged: [] }), 1, /already holds files; choose another --out/],
  // A second writer (the busy run is stopped mid-training and holds its lock)
  [
    '--resume of a folder being trained',
    () => beating({ args: ['mnist', '--resume', busy] }),
    1,
    /is being written by `bn-repro mnist .*` \(pid \d+ on .*\); wait for it to end/,
  ],
  ['report on a folder being trained', () => beating({ args: ['report', busy] }), 1, /is unfinished: it is being written by/],
  ['plot on a folder being trained', () => beating({ args: ['plot', busy] }), 1, /is unfinished: it is being written by/],
  ['merge of a folder being trained', () => beating(withOut(['merge', busy])), 1, /is being written by .*; merge it once it has ended/],
  // Edited or damaged state: refused, nothing modified
  ['checkpoint step edited', damagedResume((d) => editJson(ckpt(d), (v) => (v.step = 100))), 1, /checkpoint .*baseline-seed0\.json fails its checksum/],
  [
    'checkpoint weights damaged',
    damagedResume((d) => editJson(ckpt(d), (v) => ((v.params as string[])[0] = `AAAA${(v.params as string[])[0].slice(4)}`))),
    1,
    /fails its checksum/,
  ],
  [
    'checkpoint base64 broken',
    damagedResume((d) => editJson(ckpt(d), (v) => ((v.params as string[])[1] = '***'))),
    1,
    /baseline-seed0\.json is damaged: field "params\.1": not base64/,
  ],
  ['checkpoint lacks a field', damagedResume((d) => editJson(ckpt(d), (v) => delete v.sampler)), 1, /baseline-seed0\.json is damaged: field "sampler"/],
  ['checkpoint not JSON', damagedResume((d) => writeFileSync(ckpt(d), '{"arm": "base')), 1, /baseline-seed0\.json is not valid JSON/],
  [
    "checkpoint under another run's name",
    damagedResume((d) => cpSync(ckpt(d), join(d, 'checkpoints', 'bn-seed0.json'))),
    1,
    /bn-seed0\.json holds baseline seed 0, not the run its name says/,
  ],
  [
    'accuracy.csv deleted',
    damagedResume((d) => rmSync(join(d, 'accuracy.csv'))),
    1,
    /accuracy\.csv is missing or empty, but the checkpoints say rows were written/,
  ],
  [
    'accuracy.csv row deleted',
    damagedResume((d) =>
      editText(join(d, 'accuracy.csv'), (t) =>
        t
          .split('\n')
          .filter((l) => !l.startsWith('baseline,0,100,'))
          .join('\n'),
      ),
    ),
    1,
    /accuracy\.csv holds 0 rows for baseline seed 0 at step 100/,
  ],
  [
    'accuracy.csv rows duplicated',
    damagedResume((d) => editText(join(d, 'accuracy.csv'), (t) => t + t.split('\n').slice(1).join('\n'))),
    1,
    /accuracy\.csv holds 2 rows for baseline seed 0 at step 0/,
  ],
  [
    'activations.csv header edited',
    damagedResume((d) => editText(join(d, 'activations.csv'), (t) => t.replace('p15', 'p16'))),
    1,
    /activations\.csv is damaged: its header is/,
  ],
  ['run.json not JSON', damagedResume((d) => writeFileSync(join(d, 'run.json'), '{')), 1, /run\.json is damaged: not valid JSON/],
  ['run.json lacks seeds', damagedResume((d) => editJson(join(d, 'run.json'), (v) => delete v.seeds)), 1, /run\.json is damaged: field "seeds"/],
  ['run.json status unknown', damagedResume((d) => editJson(join(d, 'run.json'), (v) => (v.status = 'done'))), 1, /run\.json is damaged: field "status"/],
  [
    'run.json hiddenUnits edited',
    damagedResume((d) => editJson(join(d, 'run.json'), (v) => ((v.config as { model: { hiddenUnits: number[] } }).model.hiddenUnits = [100, 100, 50]))),
    1,
    /run\.json is damaged: its digest does not match its own config and data/,
  ],
  [
    'run.json config breaks a rule',
    damagedResume((d) => editJson(join(d, 'run.json'), (v) => ((v.config as { train: { steps: unknown } }).train.steps = 'many'))),
    1,
    /"train\.steps" must be a positive integer .*run\.json is damaged/,
  ],
  [
    '--resume of a folder that is not a run',
    () => {
      const d = tempDir();
      writeFileSync(join(d, 'notes.txt'), 'mine');
      return { args: ['mnist', '--resume', d], unchanged: [d] };
    },
    1,
    /is not a bn-repro run folder/,
  ],
  // merge, plot, report on odd folders
  [
    'report on a killed run',
    () => {
      const d = copyOf(killed);
      return { args: ['report', d], unchanged: [d] };
    },
    1,
    /is unfinished \(status "running"\): continue it with bn-repro mnist --resume/,
  ],
  [
    'report with a cut last line',
    () => {
      const d = copyOf(finished);
      editText(join(d, 'accuracy.csv'), (t) => t.slice(0, -5));
      return { args: ['report', d], unchanged: [d] };
    },
    1,
    /accuracy\.csv is damaged: its last line is cut off/,
  ],
  [
    'report on header-only CSVs',
    () => {
      const d = copyOf(finished);
      editText(join(d, 'accuracy.csv'), (t) => `${t.split('\n')[0]}\n`);
      return { args: ['report', d], unchanged: [d] };
    },
    1,
    /holds no results \(its accuracy\.csv has no rows\)/,
  ],
  [
    'report with a non-number',
    () => {
      const d = copyOf(finished);
      editText(join(d, 'accuracy.csv'), (t) => t.replace(/\n(baseline,0,100,[^,]*,[^,]*,)[^,]*/, '\n$1oops'));
      return { args: ['report', d], unchanged: [d] };
    },
    1,
    /accuracy\.csv is damaged: line \d+, column test_accuracy holds "oops"/,
  ],
  ['report on a missing folder', () => ({ args: ['report', join(work, 'nope')] }), 1, /nope does not exist/],
  [
    'merge of configs that differ leaves no --out',
    () => {
      const d = copyOf(finished);
      editJson(join(d, 'run.json'), (v) => ((v.config as { train: { learningRate: number } }).train.learningRate = 0.2));
      return withOut(['merge', finished, d]);
    },
    1,
    /run\.json is damaged: its digest does not match its own config and data/,
  ],
  ['merge of one folder twice', () => withOut(['merge', finished, finished]), 1, /is in both .* merge each shard once/],
  // A full or read-only disk
  [
    'report on a read-only file system',
    () => {
      const m = tmpfs('4m');
      cpSync(finished, join(m, 'run'), { recursive: true });
      execFileSync('mount', ['-o', 'remount,ro', m]);
      return { args: ['report', join(m, 'run')], unchanged: [join(m, 'run')] };
    },
    1,
    /^error: Cannot open .*\/run\/\.lock: the file system is read-only \(EROFS\)\.$/,
    { mount: true },
  ],
];

test('the table has at least 40 cases', () => assert.ok(cases.length >= 40, `${cases.length} cases`));

for (const [name, scene, code, message, opts] of cases) {
  test(`robustness: ${name}`, { skip: opts?.mount && !canMount ? 'mounting a tmpfs needs root' : false }, (t) => {
    if (name === 'config key __proto__') writeFileSync(join(work, 'proto.json'), '{"__proto__": {"train": {"steps": 5}}}');
    const s = scene();
    const before = (s.unchanged ?? []).map(snapshot);
    const r = runCli(s.args, { env: s.env, timeoutMs: 120_000 });
    t.diagnostic(`exit ${r.code}: ${assertRefused(r, code, message)}`);
    (s.unchanged ?? []).forEach((dir, i) => assert.deepEqual(snapshot(dir), before[i], `${dir} changed`));
    for (const p of s.absent ?? []) assert.equal(existsSync(p), false, `${p} was created`);
    for (const dir of s.unchanged ?? []) assert.deepEqual(leftovers(dir), [], `left behind in ${dir}`);
    for (const dir of (s.absent ?? []).map((p) => join(p, '..'))) assert.deepEqual(leftovers(dir, false), [], `left behind in ${dir}`);
  });
}

test('a full disk: one sentence, run.json says failed and why, no temp files; --resume finishes once space is freed', {
  skip: canMount ? false : 'mounting a tmpfs needs root',
}, () => {
  const m = tmpfs('600k');
  const out = join(m, 'run');
  const r = runCli(train(out), { timeoutMs: 120_000 });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^error: Cannot write .*: no space left on the device \(ENOSPC\)\.$/m);
  assert.doesNotMatch(r.stderr, /^\s+at |internal error/m);
  const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
  assert.equal(run.status, 'failed');
  assert.match(run.error, /ENOSPC/);
  assert.deepEqual(leftovers(out), []);
  execFileSync('mount', ['-o', 'remount,size=64m', m]);
  const resumed = runCli(['mnist', '--resume', out, '--quiet'], { timeoutMs: 120_000 });
  assert.equal(resumed.code, 0, resumed.stderr);
  const rows = readCsv(join(out, 'accuracy.csv')).rows.map((x) => `${x.arm}/${x.step}`);
  assert.deepEqual(
    rows.slice().sort(),
    readCsv(join(finished, 'accuracy.csv'))
      .rows.map((x) => `${x.arm}/${x.step}`)
      .sort(),
    'every row once, as in an uninterrupted run',
  );
  assert.deepEqual(leftovers(out), []);
});

test('the writer that held the lock is killed; --resume then takes over its folder and finishes it without duplicate rows', async () => {
  writer!.kill('SIGKILL');
  await new Promise((r) => (writer!.exitCode !== null || writer!.signalCode !== null ? r(null) : writer!.once('exit', r)));
  const r = runCli(['mnist', '--resume', busy, '--quiet'], { timeoutMs: 240_000 });
  assert.equal(r.code, 0, r.stderr);
  const keys = readCsv(join(busy, 'accuracy.csv')).rows.map((x) => `${x.arm}/${x.step}`);
  assert.equal(new Set(keys).size, keys.length, 'no duplicated rows');
  assert.equal(keys.length, 2 * (2000 / 100 + 1), 'every evaluation of both arms');
  assert.deepEqual(leftovers(busy), []);
});

test('plot on a run that never passes 0.7 accuracy draws both files (resvg used to panic)', () => {
  const d = copyOf(flat);
  const r = runCli(['plot', d, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(readFileSync(join(d, 'figure1.png')).length > 1000);
  assert.match(readFileSync(join(d, 'figure1.svg'), 'utf8'), /<\/svg>\s*$/);
});

test('merge: disjoint seeds are joined; an empty shard (more shards than runs) is accepted', () => {
  const seed1 = join(tempDir(), 'seed1');
  assert.equal(runCli(train(seed1, '--seed', '1')).code, 0);
  const sweep = cfg('sweep2', {
    sweep: [{ name: 'bn', bn: true, lrMultiplier: 1 }],
    train: { steps: 200 },
    eval: { every: 100, probeSize: 100 },
    batchNorm: { populationBatches: 3 },
    data: { source: 'embedded', trainSubset: 600, testSubset: 200 },
  });
  const empty = join(tempDir(), 'shard-2');
  const s = runCli(['sweep', sweep, '--shard', '2/2', '--out', empty]);
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stderr, /shard 2\/2 holds no runs \(the sweep has 1\)/);
  const merged = join(tempDir(), 'merged');
  const r = runCli(['merge', finished, seed1, '--out', merged]);
  assert.equal(r.code, 0, r.stderr);
  const run = JSON.parse(readFileSync(join(merged, 'run.json'), 'utf8'));
  assert.deepEqual([run.status, run.seeds, run.config.seeds], ['finished', [0, 1], [0, 1]]);
  assert.equal(readCsv(join(merged, 'accuracy.csv')).rows.length, 2 * readCsv(join(finished, 'accuracy.csv')).rows.length);
  const one = join(tempDir(), 'shard-1');
  assert.equal(runCli(['sweep', sweep, '--shard', '1/2', '--out', one]).code, 0);
  const joined = join(tempDir(), 'joined');
  const m = runCli(['merge', one, empty, '--out', joined]);
  assert.equal(m.code, 0, m.stderr);
  assert.equal(JSON.parse(readFileSync(join(joined, 'run.json'), 'utf8')).status, 'finished');
});
