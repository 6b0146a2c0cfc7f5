/**
 * Issue 17, families 1 and 3: nothing done to a run folder makes --resume delete a finished
 * run's rows or continue into numbers an uninterrupted run would not write. Each case edits a
 * copy of int1 (see folder-fixtures.ts) and resumes it: refused in one sentence naming the part,
 * the folder byte for byte unchanged. An untouched int1 resumes to the uninterrupted run's rows.
 */
import assert from 'node:assert/strict';
import { cpSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { readCsv, runCli, timelessRows } from './helpers.js';
import { copyOf, editJson, editText, readJson } from './folder-helpers.js';
import {
  acc,
  act,
  ckpt,
  editCheckpoint,
  forgedDigest,
  interruptedRun,
  lines,
  runCases,
  runJson,
  setCell,
  stripDigests,
  templateFolders,
  type Case,
  type Scene,
} from './folder-fixtures.js';

let reference = '';
let killed = '';
let lr02 = '';
before(async () => {
  ({ reference, killed } = await templateFolders());
  lr02 = await interruptedRun('lr02', '--lr', '0.2');
});

test('the template: baseline finished, BN checkpointed, status interrupted', () => {
  const run = readJson(join(killed, 'run.json'));
  assert.equal(run.status, 'interrupted');
  assert.match(run.digest, /^[0-9a-f]{64}$/);
  assert.ok(readJson(join(killed, 'checkpoints', 'baseline-seed0.json')).summary, 'the baseline has ended');
  const bn = readJson(join(killed, 'checkpoints', 'bn-seed0.json'));
  assert.ok(bn.step >= 300 && bn.step < 1500 && bn.digest === run.digest, 'BN checkpointed mid-run with the folder digest');
  assert.deepEqual(Object.keys(bn.rows).sort(), ['accuracy.csv', 'activations.csv', 'ics.csv', 'landscape.csv']);
  assert.equal(readCsv(join(killed, 'accuracy.csv')).rows.filter((r) => r.arm === 'baseline').length, 16);
  assert.equal(readCsv(join(killed, 'activations.csv')).rows.filter((r) => r.arm === 'baseline').length, 80);
});

/** A copy of int1 with `damage` applied, resumed: refused, the copy unchanged. */
const resume = (damage: (dir: string) => void) => (): Scene => {
  const dir = copyOf(killed);
  damage(dir);
  return { args: ['mnist', '--resume', dir], unchanged: [dir] };
};

const cases: Case[] = [
  [
    'config.bn set to "on"',
    resume((d) => editJson(runJson(d), (v) => (v.config.bn = 'on'))),
    1,
    /run\.json is damaged: its digest does not match its own config and data/,
  ],
  [
    'planned set to ["bn/0"]',
    resume((d) => editJson(runJson(d), (v) => (v.planned = ['bn/0']))),
    1,
    /run\.json is damaged: its planned runs \["bn\/0"\] are not the runs its config selects/,
  ],
  [
    'config.bn "on" with its digest forged to match',
    resume((d) => {
      editJson(runJson(d), (v) => {
        v.config.bn = 'on';
        v.digest = forgedDigest(v);
      });
    }),
    1,
    /its arms \["baseline","bn"\] are not the networks its config trains \["bn"\]/,
  ],
  ['train.learningRate edited', resume((d) => editJson(runJson(d), (v) => (v.config.train.learningRate = 0.2))), 1, /its digest does not match its own config/],
  ['train.steps edited', resume((d) => editJson(runJson(d), (v) => (v.config.train.steps = 3000))), 1, /its digest does not match its own config/],
  ['data.trainSubset edited', resume((d) => editJson(runJson(d), (v) => (v.config.data.trainSubset = 1200))), 1, /its digest does not match its own config/],
  ['data.seed edited', resume((d) => editJson(runJson(d), (v) => (v.config.data.seed = 7))), 1, /its digest does not match its own config/],
  ['batchNorm.epsilon edited', resume((d) => editJson(runJson(d), (v) => (v.config.batchNorm.epsilon = 0.01))), 1, /its digest does not match its own config/],
  ['the data record edited', resume((d) => editJson(runJson(d), (v) => (v.data.train = 8000))), 1, /its digest does not match its own config and data/],
  [
    "run.json a symlink to another folder's",
    resume((d) => {
      rmSync(runJson(d));
      symlinkSync(runJson(lr02), runJson(d));
    }),
    1,
    /run\.json is a symbolic link; a run folder's files must be its own/,
  ],
  [
    'a checkpoint copied from an --lr 0.2 run (same arm, seed, step)',
    resume((d) => cpSync(ckpt(lr02), ckpt(d))),
    1,
    /bn-seed0\.json was made with another config or data than .*run\.json \(their digests differ\)/,
  ],
  [
    'a checkpoint whose last evaluation disagrees with accuracy.csv',
    resume((d) => editCheckpoint(ckpt(d), (v) => (v.last.testAccuracy = 0.5))),
    1,
    /bn-seed0\.json records the evaluation of step \d+ as "bn,0,\d+,[^"]*,0\.5,[^"]*", but .*accuracy\.csv holds "bn,0,/,
  ],
  [
    'a checkpoint without its digest',
    resume((d) => editCheckpoint(ckpt(d), (v) => delete v.digest)),
    1,
    /run\.json carries a digest and .*bn-seed0\.json does not/,
  ],
  [
    'an accuracy value before the checkpoint edited',
    resume((d) => setCell(acc(d), 'bn,0,200,', 'test_accuracy', '0.99')),
    1,
    /accuracy\.csv's rows of bn seed 0 are not those .*bn-seed0\.json recorded when it was saved/,
  ],
  [
    'an activation value of the ended baseline edited',
    resume((d) => setCell(act(d), 'baseline,0,700,', 'p50', '0.5')),
    1,
    /activations\.csv's rows of baseline seed 0 are not those .*baseline-seed0\.json recorded/,
  ],
  [
    "the baseline's summary in run.json edited",
    resume((d) => editJson(runJson(d), (v) => (v.runs[0].finalTestAccuracy = 0.99))),
    1,
    /run\.json is damaged: its summary of baseline seed 0 differs from .*baseline-seed0\.json/,
  ],
  [
    "the baseline's ended checkpoint deleted",
    resume((d) => rmSync(ckpt(d, 'baseline-seed0'))),
    1,
    /its summary of baseline seed 0 differs from .*baseline-seed0\.json \(which is missing\)/,
  ],
  [
    'run.json seeds edited',
    resume((d) => editJson(runJson(d), (v) => (v.seeds = [0, 1]))),
    1,
    /run\.json is damaged: its seeds \[0,1\] are not its config's seeds \[0\]/,
  ],
  [
    'a checkpoint of another seed added',
    resume((d) => editCheckpoint(ckpt(d), (v) => (v.seed = 1))),
    1,
    /bn-seed0\.json is damaged|holds bn seed 1, not the run its name says/,
  ],
  [
    'a legacy folder (no digests) is not resumed',
    resume((d) => stripDigests(d)),
    1,
    /was written by an earlier bn-repro, without the digest .* cannot be resumed safely; report and plot still read it/,
  ],
  [
    'a BN row after the checkpoint with a wrong step',
    resume((d) => editText(acc(d), (t) => `${t}bn,0,1450,0.1,0.1,0.5,1.000\n`)),
    1,
    /accuracy\.csv is damaged: line \d+, column step holds "1450", not a step at which bn seed 0 writes to accuracy\.csv/,
  ],
  [
    'resume: a checkpoint of seed 1 renamed and relabelled seed 0',
    resume((d) => editCheckpoint(ckpt(d), (v) => (v.last.seed = 1))),
    1,
    /bn-seed0\.json records the evaluation of step \d+ as "bn,1,/,
  ],
  [
    'resume: a row after the baseline ended',
    resume((d) => editText(acc(d), (t) => `${t}baseline,0,1600,0.1,0.1,0.5,1.000\n`)),
    1,
    /column step holds "1600", not a step at which baseline seed 0 writes/,
  ],
];

test('the table has at least 20 cases', () => assert.ok(cases.length >= 20, `${cases.length} cases`));
runCases('resume', cases);

test("an untouched int1 resumes to the rows of the uninterrupted run, the finished baseline's rows byte for byte kept", () => {
  const dir = copyOf(killed);
  const baselineLines = (d: string, f: string) => lines(join(d, f)).filter((l) => l.startsWith('baseline,'));
  const before = ['accuracy.csv', 'activations.csv'].map((f) => baselineLines(dir, f));
  const r = runCli(['mnist', '--resume', dir, '--quiet'], { timeoutMs: 240_000 });
  assert.equal(r.code, 0, r.stderr);
  for (const file of ['accuracy.csv', 'activations.csv', 'ics.csv', 'landscape.csv'])
    assert.deepEqual(timelessRows(dir, file), timelessRows(reference, file), `${file} differs`);
  assert.deepEqual(
    ['accuracy.csv', 'activations.csv'].map((f) => baselineLines(dir, f)),
    before,
  );
  assert.equal(readJson(runJson(dir)).status, 'finished');
  // The resumed folder reads back whole: report accepts it.
  const rep = runCli(['report', dir, '--quiet']);
  assert.equal(rep.code, 0, rep.stderr);
});
