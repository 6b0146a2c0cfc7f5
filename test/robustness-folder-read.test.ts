/**
 * Issue 17, families 4, 8 and 9: report, plot and merge never draw numbers from damaged CSVs or
 * an edited folder, and never copy a bad row. Each case edits a copy of a finished run (or of
 * int1; see folder-fixtures.ts): refused in one sentence naming the file, line and column, the
 * folder byte for byte unchanged. Reordered rows and legacy folders (no digest) are still read.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { runCli, tempDir } from './helpers.js';
import { copyOf, editJson, editText, readJson, snapshot } from './folder-helpers.js';
import {
  acc,
  act,
  ckpt,
  forgedDigest,
  lines,
  runCases,
  runJson,
  setCell,
  stripDigests,
  templateFolders,
  work,
  type Case,
  type Scene,
} from './folder-fixtures.js';

let reference = '';
let killed = '';
before(async () => {
  ({ reference, killed } = await templateFolders());
});

/** A copy of the finished reference with `damage` applied, read by `verb`: refused, unchanged. */
const read = (verb: 'report' | 'plot' | 'merge', damage: (dir: string) => void) => (): Scene => {
  const dir = copyOf(reference);
  damage(dir);
  const out = join(tempDir(), 'merged');
  return verb === 'merge' ? { args: ['merge', dir, '--out', out], unchanged: [dir], absent: [out] } : { args: [verb, dir], unchanged: [dir] };
};
const duplicateRow = (d: string) => editText(acc(d), (t) => `${t + lines(acc(d)).find((l) => l.startsWith('bn,0,1500,'))!}\n`);
const withInfinity = (d: string) => setCell(acc(d), 'bn,0,1500,', 'test_loss', 'Infinity');

const cases: Case[] = [
  ['report: a duplicated row', read('report', duplicateRow), 1, /accuracy\.csv holds 2 rows for bn seed 0 at step 1500: lines \d+ and \d+/],
  ['report: Infinity', read('report', withInfinity), 1, /accuracy\.csv is damaged: line \d+, column test_loss holds "Infinity", not a number/],
  [
    'report: inf where no divergence is recorded',
    read('report', (d) => setCell(acc(d), 'bn,0,1500,', 'test_loss', 'inf')),
    1,
    /column test_loss holds "inf", but nan and inf are written only where a divergence is recorded/,
  ],
  [
    'report: an accuracy of 1.5',
    read('report', (d) => setCell(acc(d), 'bn,0,1500,', 'test_accuracy', '1.5')),
    1,
    /column test_accuracy holds "1\.5", outside \[0, 1\]/,
  ],
  ['report: a negative loss', read('report', (d) => setCell(acc(d), 'baseline,0,300,', 'train_loss', '-0.1')), 1, /column train_loss holds "-0\.1", below 0/],
  [
    'report: NaN',
    read('report', (d) => setCell(acc(d), 'bn,0,700,', 'test_accuracy', 'nan')),
    1,
    /column test_accuracy holds "nan", but nan and inf are written only where a divergence is recorded/,
  ],
  [
    'report: an edited value in range',
    read('report', (d) => setCell(acc(d), 'bn,0,1500,', 'test_accuracy', '0.999')),
    1,
    /accuracy\.csv's rows of bn seed 0 are not those .*bn-seed0\.json recorded/,
  ],
  [
    'report: a deleted row',
    read('report', (d) =>
      editText(acc(d), (t) =>
        t
          .split('\n')
          .filter((l) => !l.startsWith('bn,0,800,'))
          .join('\n'),
      ),
    ),
    1,
    /accuracy\.csv holds 0 rows for bn seed 0 at step 800, where the run wrote one/,
  ],
  [
    'report: the arm renamed bñ',
    read('report', (d) => editText(acc(d), (t) => t.replace(/^bn,/gm, 'bñ,'))),
    1,
    /column arm holds "bñ", not a network of this run \(baseline, bn\)/,
  ],
  [
    'report: deleted activation rows',
    read('report', (d) =>
      editText(act(d), (t) =>
        t
          .split('\n')
          .filter((l) => !l.startsWith('baseline,0,500,'))
          .join('\n'),
      ),
    ),
    1,
    /activations\.csv holds 0 rows for baseline seed 0 at step 500 \(layer\/unit 2\/0\)/,
  ],
  [
    'report: an ics.csv row deleted',
    read('report', (d) =>
      editText(join(d, 'ics.csv'), (t) =>
        t
          .split('\n')
          .filter((l) => !l.startsWith('bn,0,1000,2,'))
          .join('\n'),
      ),
    ),
    1,
    /ics\.csv holds 0 rows for bn seed 0 at step 1000 \(layer 2\)/,
  ],
  [
    'report: a landscape row at a step that measures nothing',
    read('report', (d) => editText(join(d, 'landscape.csv'), (t) => t.replace(/\nbn,0,500,/, '\nbn,0,600,'))),
    1,
    /landscape\.csv is damaged: line \d+, column step holds "600", not a step at which bn seed 0 writes to landscape\.csv/,
  ],
  ['plot: a duplicated row', read('plot', duplicateRow), 1, /accuracy\.csv holds 2 rows for bn seed 0 at step 1500/],
  ['plot: Infinity', read('plot', withInfinity), 1, /column test_loss holds "Infinity", not a number/],
  ['merge: a duplicated row is not copied', read('merge', duplicateRow), 1, /accuracy\.csv holds 2 rows for bn seed 0 at step 1500/],
  ['merge: Infinity is not copied', read('merge', withInfinity), 1, /column test_loss holds "Infinity", not a number/],
  [
    'merge: a row of a seed the folder does not hold',
    read('merge', (d) => editText(acc(d), (t) => `${t}bn,3,0,,2.3,0.1,0.000\n`)),
    1,
    /column seed holds "3", not a seed of this run \(0\)/,
  ],
  [
    'report: CRLF line endings',
    read('report', (d) => editText(acc(d), (t) => t.replace(/\n/g, '\r\n'))),
    1,
    /accuracy\.csv is damaged: its header is "arm,.*elapsed_s\\r", expected "arm,.*elapsed_s": its lines end in a carriage return \(CRLF line endings/,
  ],
  [
    'report: a byte-order mark',
    read('report', (d) => editText(acc(d), (t) => `\ufeff${t}`)),
    1,
    /its header is "\\ufeffarm,.*: it starts with a byte-order mark/,
  ],
  [
    'report: a trailing space',
    read('report', (d) => editText(acc(d), (t) => t.replace(/\n(bn,0,400,[^\n]*)/, '\n$1 '))),
    1,
    /line \d+, column elapsed_s holds "[\d.]+ ", not a number/,
  ],
  [
    'report: an extra column',
    read('report', (d) => editText(acc(d), (t) => t.replace(/\n/g, ',x\n'))),
    1,
    /its header is "arm,.*elapsed_s,x", expected .*: it has 1 extra column/,
  ],
  ['report: a step written as 1e3', read('report', (d) => setCell(acc(d), 'bn,0,1000,', 'step', '1e3')), 1, /column step holds "1e3", not a step/],
  [
    'report: run.json runs list repeats a run',
    read('report', (d) => editJson(runJson(d), (v) => v.runs.push(v.runs[0]))),
    1,
    /its "runs" list repeats baseline seed 0/,
  ],
  [
    "report: a checkpoint under another seed's name",
    read('report', (d) => cpSync(ckpt(d), ckpt(d, 'bn-seed1'))),
    1,
    /bn-seed1\.json holds bn seed 0, not the run its name says/,
  ],
  [
    'merge: a consistently edited config (digest forged to match) is another experiment',
    () => {
      const d = copyOf(reference);
      editJson(runJson(d), (v) => {
        v.config.train.learningRate = 0.2;
        v.digest = forgedDigest(v);
      });
      const out = join(tempDir(), 'merged');
      return { args: ['merge', reference, d, '--out', out], unchanged: [d, reference], absent: [out] };
    },
    1,
    /checkpoints\/baseline-seed0\.json was made with another config or data than .*run\.json \(their digests differ\)/,
  ],
  [
    'report: status set to finished in int1',
    () => {
      const d = copyOf(killed);
      editJson(runJson(d), (v) => (v.status = 'finished'));
      return { args: ['report', d], unchanged: [d] };
    },
    1,
    /run\.json is damaged: its status is "finished", but it has no summary of bn\/0/,
  ],
  [
    'report: int1 made to look finished (status and the interrupted flag edited)',
    () => {
      const d = copyOf(killed);
      editJson(runJson(d), (v) => {
        v.status = 'finished';
        delete v.runs[1].interrupted;
      });
      return { args: ['report', d], unchanged: [d] };
    },
    1,
    /its summary of bn seed 0 differs from .*bn-seed0\.json/,
  ],
  [
    'report: accuracy.csv a symlink',
    read('report', (d) => {
      rmSync(acc(d));
      symlinkSync(acc(reference), acc(d));
    }),
    1,
    /accuracy\.csv is a symbolic link/,
  ],
];

test('the table has at least 25 cases', () => assert.ok(cases.length >= 25, `${cases.length} cases`));
runCases('read', cases);

test('report, plot and merge accept a finished folder with its rows reordered, and report the same numbers', () => {
  const dir = copyOf(reference);
  editText(acc(dir), (t) => {
    const [header, ...rest] = t.trimEnd().split('\n');
    return `${[header, ...rest.reverse()].join('\n')}\n`;
  });
  const r = runCli(['report', dir, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  const want = runCli(['report', copyOf(reference), '--quiet']);
  assert.equal(r.stdout.replace(/\/tmp\/\S+/g, ''), want.stdout.replace(/\/tmp\/\S+/g, ''));
  const merged = join(tempDir(), 'merged');
  assert.equal(runCli(['merge', dir, '--out', merged]).code, 0);
  assert.equal(readFileSync(acc(merged), 'utf8'), readFileSync(acc(reference), 'utf8'), 'merge writes rows in run, then step order');
});

test('a legacy folder (no digests): report reads it with one warning; nothing is written but report.md', () => {
  const dir = copyOf(reference);
  stripDigests(dir);
  const r = runCli(['report', dir]);
  assert.equal(r.code, 0, r.stderr);
  const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning:'));
  assert.equal(warnings.length, 1, r.stderr);
  assert.match(warnings[0], /was written by an earlier bn-repro without a config digest: its rows are checked, but not against the config/);
  assert.match(r.stdout, /\| bn \| 0\.\d{4}/);
});

/** A two-network sweep, sharded in two: one run per shard. */
test('family 8: a merge of one of two shards says which runs it lacks; --resume refuses it, naming merge; merging the other shard completes it', () => {
  const sweep = join(work, 'sweep.json');
  writeFileSync(
    sweep,
    JSON.stringify({
      sweep: [
        { name: 'baseline', bn: false, lrMultiplier: 1 },
        { name: 'bn', bn: true, lrMultiplier: 1 },
      ],
      train: { steps: 200 },
      eval: { every: 100, probeSize: 100 },
      batchNorm: { populationBatches: 3 },
      data: { source: 'embedded', trainSubset: 600, testSubset: 200 },
    }),
  );
  const shards = [1, 2].map((i) => join(tempDir(), `shard-${i}`));
  shards.forEach((out, i) => assert.equal(runCli(['sweep', sweep, '--shard', `${i + 1}/2`, '--out', out, '--quiet']).code, 0));
  const half = join(tempDir(), 'half');
  assert.equal(runCli(['merge', shards[0], '--out', half, '--quiet']).code, 0);
  assert.equal(readJson(runJson(half)).status, 'incomplete');
  const before = snapshot(half);
  const rep = runCli(['report', half]);
  assert.equal(rep.code, 1);
  assert.match(rep.stderr, /^error: .*half is unfinished \(status "incomplete"\): it lacks the runs bn\/0: merge it with the folders that hold them\.$/m);
  assert.doesNotMatch(rep.stderr, /--resume/);
  const res = runCli(['mnist', '--resume', half]);
  assert.equal(res.code, 1, res.stderr);
  const errors = res.stderr.split('\n').filter((l) => l.startsWith('error:'));
  assert.equal(errors.length, 1, res.stderr);
  assert.match(
    errors[0],
    /half is a merge that lacks the runs bn\/0, which --resume cannot train: merge it with the folders that hold them \(bn-repro merge .*half <their folders> --out DIR\)\.$/,
  );
  assert.deepEqual(snapshot(half), before, 'the refused folder is unchanged');
  const whole = join(tempDir(), 'whole');
  const m = runCli(['merge', half, shards[1], '--out', whole]);
  assert.equal(m.code, 0, m.stderr);
  assert.equal(readJson(runJson(whole)).status, 'finished');
  assert.equal(runCli(['report', whole, '--quiet']).code, 0);
});
