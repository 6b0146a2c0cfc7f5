/**
 * Issue 17, the adversarial probe's own finds (cases the issue did not list), each a refusal with
 * one sentence, the table's exit code, no hang (SIGKILL after 120 s) and the folder unchanged:
 * a `.lock` that is a FIFO (report used to wait on it forever), a folder or a link to /dev/zero;
 * a run-folder file longer than Node's longest string (report used to end with exit 70, "Cannot
 * create a string longer than ..."); report and plot of a file or a FIFO instead of a folder; a
 * --seeds count past the bound; a config number that is Infinity (1e309) named as such; a failed
 * copy (merge onto a full disk) naming its destination; --out naming a dangling symbolic link.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { copyOf } from './folder-helpers.js';
import { acc, runJson, work } from './folder-fixtures.js';
import { asUserError } from '../src/core/errors.js';
import { assertRefused, runCli } from './helpers.js';

/** A finished two-network run, small enough to train in a few seconds. */
const reference = join(work, 'probe-reference');
const trained = runCli([
  'mnist',
  '--steps',
  '100',
  '--eval-every',
  '50',
  '--subset',
  '300',
  '--test-subset',
  '100',
  '--jobs',
  '1',
  '--data',
  'embedded',
  '--out',
  reference,
  '--quiet',
]);
assert.equal(trained.code, 0, trained.stderr);

const lock = (dir: string) => join(dir, '.lock');
const mkfifo = (path: string) => execFileSync('mkfifo', [path]);

/**
 * Every entry under `dir` (links and FIFOs included, never followed or opened) with its kind, size,
 * mtime and, for files under 1 MiB, its bytes: a 600 MB file is compared by size and mtime only.
 */
function entries(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    const st = lstatSync(path);
    const bytes = st.isFile() && st.size < 2 ** 20 ? readFileSync(path).toString('base64') : '';
    out.set(name, `${st.mode} ${st.size} ${st.mtimeMs} ${bytes}`);
  }
  return out;
}

/** A copy of the reference with `edit` applied, refused by `command`: `report`, `plot`, `merge` or `--resume`. */
interface ProbeScene {
  args: string[];
  unchanged: string[];
  absent: string[];
}
type ProbeCase = [name: string, scene: () => ProbeScene, code: number, message: RegExp];

function scene(command: string, edit: (dir: string) => void): () => ProbeScene {
  return () => {
    const dir = copyOf(reference);
    edit(dir);
    const args =
      command === 'merge' ? ['merge', dir, '--out', join(dir, '..', 'merged')] : command === '--resume' ? ['mnist', '--resume', dir] : [command, dir];
    return { args, unchanged: [dir], absent: command === 'merge' ? [join(dir, '..', 'merged')] : [] };
  };
}

const foreignLock = (kind: string) =>
  new RegExp(`/run/\\.lock is ${kind}, not a lock file bn-repro wrote; remove it if no bn-repro command is using \\S+/run\\.$`);
const tooLong = (file: string) =>
  new RegExp(`/run/${file} is 600,000,000 bytes, more than the [\\d,]+ bn-repro can read back; the run folder is damaged or too large to read\\.$`);

const cases: ProbeCase[] = [
  ['report: .lock is a FIFO (it waited forever)', scene('report', (d) => mkfifo(lock(d))), 1, foreignLock('a FIFO \\(named pipe\\)')],
  ['plot: .lock is a FIFO', scene('plot', (d) => mkfifo(lock(d))), 1, foreignLock('a FIFO \\(named pipe\\)')],
  ['merge: .lock is a FIFO', scene('merge', (d) => mkfifo(lock(d))), 1, foreignLock('a FIFO \\(named pipe\\)')],
  ['--resume: .lock is a FIFO', scene('--resume', (d) => mkfifo(lock(d))), 1, foreignLock('a FIFO \\(named pipe\\)')],
  ['report: .lock is a folder (it was taken over and left .lock.stale-PID behind)', scene('report', (d) => mkdirSync(lock(d))), 1, foreignLock('a folder')],
  ['report: .lock is a link to /dev/zero', scene('report', (d) => symlinkSync('/dev/zero', lock(d))), 1, foreignLock('a symbolic link')],
  ['report: accuracy.csv past the longest string (it was exit 70)', scene('report', (d) => truncateSync(acc(d), 600_000_000)), 1, tooLong('accuracy\\.csv')],
  ['merge: accuracy.csv past the longest string', scene('merge', (d) => truncateSync(acc(d), 600_000_000)), 1, tooLong('accuracy\\.csv')],
  [
    'report: run.json past the longest string (it said "no readable run.json")',
    scene('report', (d) => truncateSync(runJson(d), 600_000_000)),
    1,
    tooLong('run\\.json'),
  ],
];
test('the table has its 9 cases', () => assert.equal(cases.length, 9));
for (const [name, make, code, message] of cases) {
  test(`probe: ${name}`, () => {
    const s = make();
    const before = s.unchanged.map(entries);
    const r = runCli(s.args, { timeoutMs: 120_000 });
    assertRefused(r, code, message);
    s.unchanged.forEach((dir, i) => assert.deepEqual(entries(dir), before[i], `${dir} changed`));
    for (const p of s.absent) assert.equal(existsSync(p), false, `${p} was created`);
  });
}

/** report and plot of something that is not a folder: one sentence saying what it is, nothing written. */
for (const [what, make, words] of [
  ['a file', (p: string) => writeFileSync(p, 'x\n'), 'a file'],
  ['a FIFO', mkfifo, 'a FIFO \\(named pipe\\)'],
] as const) {
  for (const command of ['report', 'plot']) {
    test(`probe: ${command} of ${what} says it is not a run folder`, () => {
      const path = join(copyOf(reference), '..', 'not-a-folder');
      make(path);
      const before = statSync(path);
      const r = runCli([command, path], { timeoutMs: 120_000 });
      assert.equal(r.signal, null, 'it hung');
      assert.equal(r.code, 1, r.stderr);
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
      assert.equal(errors.length, 1, r.stderr);
      assert.match(errors[0], new RegExp(`^error: \\S+/not-a-folder is ${words}, not a bn-repro run folder\\.$`));
      assert.doesNotMatch(r.stderr, /^\s+at |internal error|\.lock/m);
      const after = statSync(path);
      assert.deepEqual([after.size, after.mtimeMs, after.ino], [before.size, before.mtimeMs, before.ino], 'untouched');
    });
  }
}

/** A seed count past the list bound named the bound the wrong way round ("a list of at least 1 seeds"). */
test('probe: --seeds 1001 says at most 1,000 seeds are allowed; nothing is created', () => {
  const out = join(copyOf(reference), '..', 'seeds-out');
  const r = runCli(['mnist', '--data', 'embedded', '--steps', '10', '--seeds', '1001', '--out', out], { timeoutMs: 120_000 });
  assert.equal(r.code, 2, r.stderr);
  assert.deepEqual(
    r.stderr.split('\n').filter((l) => l.startsWith('error:')),
    ['error: --seeds 1001 asks for 1,001 seeds; at most 1,000 are allowed.'],
  );
  assert.equal(existsSync(out), false);
});

/** A config's 1e309 is Infinity once parsed; the refusal showed it as JSON does, "(got null)". */
test('probe: a config learning rate of 1e309 is refused naming Infinity, not null', () => {
  const dir = join(copyOf(reference), '..');
  const config = join(dir, 'huge-lr.json');
  writeFileSync(config, '{"train":{"learningRate":1e309}}\n');
  const r = runCli(['mnist', '--config', config, '--out', join(dir, 'lr-out')], { timeoutMs: 120_000 });
  assert.equal(r.code, 2, r.stderr);
  assert.deepEqual(
    r.stderr.split('\n').filter((l) => l.startsWith('error:')),
    [`error: ${config}: config key "train.learningRate" must be a positive number (got Infinity).`],
  );
  assert.equal(existsSync(join(dir, 'lr-out')), false);
});

/** merge copying a checkpoint onto a full disk named only the source, which is not the full one. */
test('probe: a failed copy names its source and its destination', () => {
  const err = Object.assign(new Error('ENOSPC: no space left on device, copyfile'), {
    code: 'ENOSPC',
    syscall: 'copyfile',
    path: '/in/checkpoints/bn-seed0.json',
    dest: '/out/checkpoints/bn-seed0.json',
  });
  assert.equal(asUserError(err)?.message, 'Cannot copy /in/checkpoints/bn-seed0.json to /out/checkpoints/bn-seed0.json: no space left on the device (ENOSPC).');
  const write = Object.assign(new Error('ENOSPC'), { code: 'ENOSPC', syscall: 'write', path: '/out/run.json' });
  assert.equal(asUserError(write)?.message, 'Cannot write /out/run.json: no space left on the device (ENOSPC).');
});

/** --out naming a dangling link was "a part of the path is a file, not a folder (ENOTDIR)". */
for (const command of ['mnist', 'merge']) {
  test(`probe: ${command} --out naming a dangling symbolic link says so; the link is left as it was`, () => {
    const dir = join(copyOf(reference), '..');
    const link = join(dir, 'out-link');
    symlinkSync(join(dir, 'missing'), link);
    const args = command === 'mnist' ? ['mnist', '--data', 'embedded', '--steps', '10', '--out', link] : ['merge', join(dir, 'run'), '--out', link];
    const r = runCli(args, { timeoutMs: 120_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(
      r.stderr.split('\n').filter((l) => l.startsWith('error:')),
      [`error: ${link} is a symbolic link to ${join(dir, 'missing')}, which does not exist; create that folder or choose another --out.`],
    );
    assert.equal(readlinkSync(link), join(dir, 'missing'));
    assert.equal(existsSync(join(dir, 'missing')), false);
  });
}
