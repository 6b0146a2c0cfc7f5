/**
 * A full disk (issue 17, family 5), on a 2 MB tmpfs filled to a few KiB: a run folder appears
 * whole (run.json and every CSV header) or not at all; a failed append leaves whole rows, run.json
 * `failed` with the error, and --resume, once space is freed, ends with an uninterrupted run's
 * rows; report, plot and merge leave no lock or temp file; every message names its file. Skipped
 * only where mounting a tmpfs is not permitted.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { canMountTmpfs } from './folder-helpers.js';
import { runCli, tempDir, type CliResult } from './helpers.js';
import { assertSameRows, assertWholeCsvs, leftovers, statusOf } from './signal-helpers.js';

const canMount = canMountTmpfs();
const skip = canMount ? false : 'mounting a tmpfs needs root';
const mounts: string[] = [];
after(() => mounts.reverse().forEach((m) => execFileSync('umount', ['-l', m])));

/** A 2 MB tmpfs with `leftKiB` KiB free (a filler file takes the rest); returns it and how to free it. */
function fullDisk(leftKiB: number): { mount: string; free: () => void } {
  const mount = tempDir('bn-repro-full-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mount]);
  mounts.push(mount);
  const s = statfsSync(mount);
  writeFileSync(join(mount, 'filler'), Buffer.alloc(s.bavail * s.bsize - leftKiB * 1024));
  return { mount, free: () => rmSync(join(mount, 'filler')) };
}

/** Exit 1 and exactly one `error:` line matching `message`, no stack trace. */
function assertOneError(r: CliResult, message: RegExp): void {
  assert.equal(r.signal, null);
  assert.equal(r.code, 1, r.stderr);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
  assert.equal(errors.length, 1, r.stderr);
  assert.match(errors[0], message);
  assert.doesNotMatch(r.stderr, /^\s+at |internal error/m);
}

// The issue's case, and a longer run with an evaluation every 10 steps (rows outgrow the space).
const mnistArgs = (steps: string, every: string) => [
  'mnist',
  '--data',
  'embedded',
  '--steps',
  steps,
  '--eval-every',
  every,
  '--subset',
  '2000',
  '--test-subset',
  '500',
  '--jobs',
  '1',
  '--bn',
  'off',
  '--quiet',
];
const ISSUE = mnistArgs('300', '100');
const ROWS = mnistArgs('1500', '10');
let reference = '';
let finished = '';

before(() => {
  if (!canMount) return;
  reference = join(tempDir(), 'rows');
  const r = runCli([...ROWS, '--out', reference]);
  assert.equal(r.code, 0, r.stderr);
  finished = join(tempDir(), 'issue');
  const f = runCli([...ISSUE, '--out', finished]);
  assert.equal(f.code, 0, f.stderr);
});

test('12 KiB left (the issue): no folder at all, one sentence naming it; once space is freed the same command runs', { skip }, () => {
  const { mount, free } = fullDisk(12);
  const out = join(mount, 'run');
  assertOneError(runCli([...ISSUE, '--out', out]), /^error: Cannot create the output folder .*\/run: no space left on the device \(ENOSPC\)\.$/);
  assert.equal(existsSync(out), false);
  assert.deepEqual(leftovers(mount, false), []);
  free();
  const r = runCli([...ISSUE, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assertSameRows(out, finished);
});

test('the disk fills mid-run: whole rows, run.json failed naming the file; --resume after freeing equals an uninterrupted run', { skip }, () => {
  const { mount, free } = fullDisk(24);
  const out = join(mount, 'run');
  const message = /^error: Cannot write .*\/run\/(accuracy|activations)\.csv: no space left on the device \(ENOSPC\)\.$/;
  assertOneError(runCli([...ROWS, '--out', out]), message);
  const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
  assert.equal(run.status, 'failed');
  assert.match(`error: ${run.error}`, message);
  assertWholeCsvs(out);
  assert.deepEqual(leftovers(out), []);
  free();
  const r = runCli(['mnist', '--resume', out, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(statusOf(out), 'finished');
  assertSameRows(out, reference);
  assert.deepEqual(leftovers(out), []);
});

test('report on a full disk: the lock it could not write is removed; with room for the lock, report.md is named', { skip }, () => {
  const { mount, free } = fullDisk(0);
  const dir = join(mount, 'run');
  free();
  cpSync(finished, dir, { recursive: true });
  const s = statfsSync(mount);
  writeFileSync(join(mount, 'filler'), Buffer.alloc(s.bavail * s.bsize));
  const before = readFileSync(join(dir, 'run.json'), 'utf8');
  assertOneError(runCli(['report', dir, '--quiet']), /^error: Cannot write .*\/run\/\.lock: no space left on the device \(ENOSPC\)\.$/);
  assert.deepEqual(leftovers(dir), []);
  free();
  writeFileSync(join(mount, 'filler'), Buffer.alloc(statfsSync(mount).bavail * s.bsize - 4096));
  assertOneError(runCli(['report', dir, '--quiet']), /^error: Cannot write .*\/run\/report\.md: no space left on the device \(ENOSPC\)\.$/);
  assertOneError(runCli(['plot', dir, '--quiet']), /^error: Cannot write .*\/run\/figure1\.svg: no space left on the device \(ENOSPC\)\.$/);
  assert.deepEqual(leftovers(dir), []);
  assert.equal(readFileSync(join(dir, 'run.json'), 'utf8'), before);
  assert.equal(existsSync(join(dir, 'report.md')), false);
});

test('merge on a full disk: one sentence naming the file, no --out and no temp folder left', { skip }, () => {
  const { mount, free } = fullDisk(0);
  free();
  const dir = join(mount, 'run');
  cpSync(finished, dir, { recursive: true });
  const s = statfsSync(mount);
  writeFileSync(join(mount, 'filler'), Buffer.alloc(s.bavail * s.bsize));
  const out = join(mount, 'merged');
  assertOneError(runCli(['merge', dir, '--out', out]), /^error: Cannot (write|copy) .*: no space left on the device \(ENOSPC\)\.$/);
  assert.equal(existsSync(out), false);
  assert.deepEqual(leftovers(mount, false), []);
});
