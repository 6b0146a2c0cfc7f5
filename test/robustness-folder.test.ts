/**
 * Issue 17, families 1, 3, 4 (and the incomplete merge of family 8): nothing done to a run folder
 * makes bn-repro delete a finished run's rows, resume into numbers an uninterrupted run would not
 * write, or report numbers from damaged CSVs. Each case edits a copy of a template folder as a
 * user or a tool might, runs the CLI (SIGKILLed on a hang) and asserts the exit code, exactly one
 * `error:` line naming the part, no stack trace, and the folder byte for byte unchanged.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { readCsv, runCli, settle, start, tempDir, waitForCheckpoint } from './helpers.js';

const work = tempDir('bn-repro-folder-');
/** The issue's int1, scaled down: 1,500 steps, an evaluation every 100, a checkpoint every 100, ICS and landscape every 5th evaluation. */
const ck = join(work, 'ck.json');
writeFileSync(ck, JSON.stringify({ train: { checkpointEvery: 100 }, eval: { probeSize: 100, landscape: { every: 5 } }, batchNorm: { populationBatches: 3 } }));
const S = ['--steps', '1500', '--eval-every', '100', '--subset', '600', '--test-subset', '200', '--jobs', '1', '--data', 'embedded'];
const train = (out: string, ...extra: string[]) => ['mnist', '--config', ck, ...S, '--out', out, '--quiet', ...extra];

function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    if (statSync(path).isFile()) out.set(name, readFileSync(path).toString('base64'));
  }
  return out;
}
function copyOf(template: string): string {
  const dir = join(tempDir(), 'run');
  cpSync(template, dir, { recursive: true });
  return dir;
}
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const editJson = (path: string, edit: (v: Record<string, any>) => void) => {
  const v = readJson(path);
  edit(v);
  writeFileSync(path, JSON.stringify(v, null, 2));
};
/** Edits a checkpoint and recomputes its checksum, as a tool that knows the format would. */
const editCheckpoint = (path: string, edit: (v: Record<string, any>) => void) =>
  editJson(path, (v) => {
    delete v.sha256;
    edit(v);
    v.sha256 = createHash('sha256').update(JSON.stringify(v)).digest('hex');
  });
const editText = (path: string, edit: (t: string) => string) => writeFileSync(path, edit(readFileSync(path, 'utf8')));
const lines = (path: string) => readFileSync(path, 'utf8').split('\n');
/** Replaces cell `column` of the first line starting with `prefix`. */
const setCell = (path: string, prefix: string, column: string, value: string) =>
  editText(path, (t) => {
    const all = t.split('\n');
    const col = all[0].split(',').indexOf(column);
    const i = all.findIndex((l) => l.startsWith(prefix));
    assert.ok(i > 0 && col >= 0, `${prefix} / ${column} in ${path}`);
    const cells = all[i].split(',');
    cells[col] = value;
    all[i] = cells.join(',');
    return all.join('\n');
  });

let reference = '';
let killed = '';
let lr02 = '';
before(async () => {
  reference = join(work, 'reference');
  assert.equal(runCli(train(reference)).code, 0);
  // int1: SIGTERM once the baseline has finished and the BN run has checkpointed.
  const interrupt = async (out: string, ...extra: string[]) => {
    const child = start(train(out, ...extra), 'ignore');
    await settle(child, async () => {
      await waitForCheckpoint(join(out, 'checkpoints', 'bn-seed0.json'), 300, 120_000);
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    });
  };
  killed = join(work, 'int1');
  await interrupt(killed);
  lr02 = join(work, 'lr02');
  await interrupt(lr02, '--lr', '0.2');
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

interface Scene {
  args: string[];
  unchanged?: string[];
  absent?: string[];
}
type Case = [name: string, scene: () => Scene, code: number, message: RegExp];

const ckpt = (dir: string, run = 'bn-seed0') => join(dir, 'checkpoints', `${run}.json`);
const runJson = (dir: string) => join(dir, 'run.json');
/** A copy of int1 with `damage` applied, resumed: refused, the copy unchanged. */
const resume = (damage: (dir: string) => void) => (): Scene => {
  const dir = copyOf(killed);
  damage(dir);
  return { args: ['mnist', '--resume', dir], unchanged: [dir] };
};
/** A copy of the finished reference with `damage` applied, read by `verb`: refused, unchanged. */
const read = (verb: 'report' | 'plot' | 'merge', damage: (dir: string) => void) => (): Scene => {
  const dir = copyOf(reference);
  damage(dir);
  const out = join(tempDir(), 'merged');
  return verb === 'merge' ? { args: ['merge', dir, '--out', out], unchanged: [dir], absent: [out] } : { args: [verb, dir], unchanged: [dir] };
};
const acc = (d: string) => join(d, 'accuracy.csv');
const act = (d: string) => join(d, 'activations.csv');
const duplicateRow = (d: string) => editText(acc(d), (t) => t + lines(acc(d)).find((l) => l.startsWith('bn,0,1500,'))! + '\n');
const withInfinity = (d: string) => setCell(acc(d), 'bn,0,1500,', 'test_loss', 'Infinity');

const cases: Case[] = [
  // Family 1: finished results deleted
  ['config.bn set to "on"', resume((d) => editJson(runJson(d), (v) => (v.config.bn = 'on'))), 1, /run\.json is damaged: its digest does not match its own config and data/],
  ['planned set to ["bn/0"]', resume((d) => editJson(runJson(d), (v) => (v.planned = ['bn/0']))), 1, /run\.json is damaged: its planned runs \["bn\/0"\] are not the runs its config selects/],
  ['config.bn "on" with its digest forged to match', resume((d) => {
    editJson(runJson(d), (v) => {
      v.config.bn = 'on';
      v.digest = forgedDigest(v);
    });
  }), 1, /its arms \["baseline","bn"\] are not the networks its config trains \["bn"\]/],
  // Family 3: wrong numbers accepted from an edited folder
  ['train.learningRate edited', resume((d) => editJson(runJson(d), (v) => (v.config.train.learningRate = 0.2))), 1, /its digest does not match its own config/],
  ['train.steps edited', resume((d) => editJson(runJson(d), (v) => (v.config.train.steps = 3000))), 1, /its digest does not match its own config/],
  ['data.trainSubset edited', resume((d) => editJson(runJson(d), (v) => (v.config.data.trainSubset = 1200))), 1, /its digest does not match its own config/],
  ['data.seed edited', resume((d) => editJson(runJson(d), (v) => (v.config.data.seed = 7))), 1, /its digest does not match its own config/],
  ['batchNorm.epsilon edited', resume((d) => editJson(runJson(d), (v) => (v.config.batchNorm.epsilon = 0.01))), 1, /its digest does not match its own config/],
  ['the data record edited', resume((d) => editJson(runJson(d), (v) => (v.data.train = 8000))), 1, /its digest does not match its own config and data/],
  ['run.json a symlink to another folder\'s', resume((d) => {
    rmSync(runJson(d));
    symlinkSync(runJson(lr02), runJson(d));
  }), 1, /run\.json is a symbolic link; a run folder's files must be its own/],
  ['a checkpoint copied from an --lr 0.2 run (same arm, seed, step)', resume((d) => cpSync(ckpt(lr02), ckpt(d))), 1, /bn-seed0\.json was made with another config or data than .*run\.json \(their digests differ\)/],
  ['a checkpoint whose last evaluation disagrees with accuracy.csv', resume((d) => editCheckpoint(ckpt(d), (v) => (v.last.testAccuracy = 0.5))), 1, /bn-seed0\.json records the evaluation of step \d+ as "bn,0,\d+,[^"]*,0\.5,[^"]*", but .*accuracy\.csv holds "bn,0,/],
  ['a checkpoint without its digest', resume((d) => editCheckpoint(ckpt(d), (v) => delete v.digest)), 1, /run\.json carries a digest and .*bn-seed0\.json does not/],
  ['an accuracy value before the checkpoint edited', resume((d) => setCell(acc(d), 'bn,0,200,', 'test_accuracy', '0.99')), 1, /accuracy\.csv's rows of bn seed 0 are not those .*bn-seed0\.json recorded when it was saved/],
  ['an activation value of the ended baseline edited', resume((d) => setCell(act(d), 'baseline,0,700,', 'p50', '0.5')), 1, /activations\.csv's rows of baseline seed 0 are not those .*baseline-seed0\.json recorded/],
  ['the baseline\'s summary in run.json edited', resume((d) => editJson(runJson(d), (v) => (v.runs[0].finalTestAccuracy = 0.99))), 1, /run\.json is damaged: its summary of baseline seed 0 differs from .*baseline-seed0\.json/],
  ['the baseline\'s ended checkpoint deleted', resume((d) => rmSync(ckpt(d, 'baseline-seed0'))), 1, /its summary of baseline seed 0 differs from .*baseline-seed0\.json \(which is missing\)/],
  ['run.json seeds edited', resume((d) => editJson(runJson(d), (v) => (v.seeds = [0, 1]))), 1, /run\.json is damaged: its seeds \[0,1\] are not its config's seeds \[0\]/],
  ['a checkpoint of another seed added', resume((d) => editCheckpoint(ckpt(d), (v) => (v.seed = 1))), 1, /bn-seed0\.json is damaged|holds bn seed 1, not the run its name says/],
  ['a legacy folder (no digests) is not resumed', resume((d) => stripDigests(d)), 1, /was written by an earlier bn-repro, without the digest .* cannot be resumed safely; report and plot still read it/],
  ['a BN row after the checkpoint with a wrong step', resume((d) => editText(acc(d), (t) => `${t}bn,0,1450,0.1,0.1,0.5,1.000\n`)), 1, /accuracy\.csv is damaged: line \d+, column step holds "1450", not a step at which bn seed 0 writes to accuracy\.csv/],
  // Family 4: wrong numbers reported from damaged CSVs
  ['report: a duplicated row', read('report', duplicateRow), 1, /accuracy\.csv holds 2 rows for bn seed 0 at step 1500: lines \d+ and \d+/],
  ['report: Infinity', read('report', withInfinity), 1, /accuracy\.csv is damaged: line \d+, column test_loss holds "Infinity", not a number/],
  ['report: inf where no divergence is recorded', read('report', (d) => setCell(acc(d), 'bn,0,1500,', 'test_loss', 'inf')), 1, /column test_loss holds "inf", but nan and inf are written only where a divergence is recorded/],
  ['report: an accuracy of 1.5', read('report', (d) => setCell(acc(d), 'bn,0,1500,', 'test_accuracy', '1.5')), 1, /column test_accuracy holds "1\.5", outside \[0, 1\]/],
  ['report: a negative loss', read('report', (d) => setCell(acc(d), 'baseline,0,300,', 'train_loss', '-0.1')), 1, /column train_loss holds "-0\.1", below 0/],
  ['report: NaN', read('report', (d) => setCell(acc(d), 'bn,0,700,', 'test_accuracy', 'nan')), 1, /column test_accuracy holds "nan", but nan and inf are written only where a divergence is recorded/],
  ['report: an edited value in range', read('report', (d) => setCell(acc(d), 'bn,0,1500,', 'test_accuracy', '0.999')), 1, /accuracy\.csv's rows of bn seed 0 are not those .*bn-seed0\.json recorded/],
  ['report: a deleted row', read('report', (d) => editText(acc(d), (t) => t.split('\n').filter((l) => !l.startsWith('bn,0,800,')).join('\n'))), 1, /accuracy\.csv holds 0 rows for bn seed 0 at step 800, where the run wrote one/],
  ['report: the arm renamed bñ', read('report', (d) => editText(acc(d), (t) => t.replace(/^bn,/gm, 'bñ,'))), 1, /column arm holds "bñ", not a network of this run \(baseline, bn\)/],
  ['report: deleted activation rows', read('report', (d) => editText(act(d), (t) => t.split('\n').filter((l) => !l.startsWith('baseline,0,500,')).join('\n'))), 1, /activations\.csv holds 0 rows for baseline seed 0 at step 500 \(layer\/unit 2\/0\)/],
  ['report: an ics.csv row deleted', read('report', (d) => editText(join(d, 'ics.csv'), (t) => t.split('\n').filter((l) => !l.startsWith('bn,0,1000,2,')).join('\n'))), 1, /ics\.csv holds 0 rows for bn seed 0 at step 1000 \(layer 2\)/],
  ['report: a landscape row at a step that measures nothing', read('report', (d) => editText(join(d, 'landscape.csv'), (t) => t.replace(/\nbn,0,500,/, '\nbn,0,600,'))), 1, /landscape\.csv is damaged: line \d+, column step holds "600", not a step at which bn seed 0 writes to landscape\.csv/],
  ['plot: a duplicated row', read('plot', duplicateRow), 1, /accuracy\.csv holds 2 rows for bn seed 0 at step 1500/],
  ['plot: Infinity', read('plot', withInfinity), 1, /column test_loss holds "Infinity", not a number/],
  ['merge: a duplicated row is not copied', read('merge', duplicateRow), 1, /accuracy\.csv holds 2 rows for bn seed 0 at step 1500/],
  ['merge: Infinity is not copied', read('merge', withInfinity), 1, /column test_loss holds "Infinity", not a number/],
  ['merge: a row of a seed the folder does not hold', read('merge', (d) => editText(acc(d), (t) => `${t}bn,3,0,,2.3,0.1,0.000\n`)), 1, /column seed holds "3", not a seed of this run \(0\)/],
  // Family 9: a CRLF header shows the difference
  ['report: CRLF line endings', read('report', (d) => editText(acc(d), (t) => t.replace(/\n/g, '\r\n'))), 1, /accuracy\.csv is damaged: its header is "arm,.*elapsed_s\\r", expected "arm,.*elapsed_s": its lines end in a carriage return \(CRLF line endings/],
  // Probed beyond the issue's list
  ['report: a byte-order mark', read('report', (d) => editText(acc(d), (t) => `\ufeff${t}`)), 1, /its header is "\\ufeffarm,.*: it starts with a byte-order mark/],
  ['report: a trailing space', read('report', (d) => editText(acc(d), (t) => t.replace(/\n(bn,0,400,[^\n]*)/, '\n$1 '))), 1, /line \d+, column elapsed_s holds "[\d.]+ ", not a number/],
  ['report: an extra column', read('report', (d) => editText(acc(d), (t) => t.replace(/\n/g, ',x\n'))), 1, /its header is "arm,.*elapsed_s,x", expected .*: it has 1 extra column/],
  ['report: a step written as 1e3', read('report', (d) => setCell(acc(d), 'bn,0,1000,', 'step', '1e3')), 1, /column step holds "1e3", not a step/],
  ['report: run.json runs list repeats a run', read('report', (d) => editJson(runJson(d), (v) => v.runs.push(v.runs[0]))), 1, /its "runs" list repeats baseline seed 0/],
  ['report: a checkpoint under another seed\'s name', read('report', (d) => cpSync(ckpt(d), ckpt(d, 'bn-seed1'))), 1, /bn-seed1\.json holds bn seed 0, not the run its name says/],
  ['merge: a consistently edited config (digest forged to match) is another experiment', () => {
    const d = copyOf(reference);
    editJson(runJson(d), (v) => {
      v.config.train.learningRate = 0.2;
      v.digest = forgedDigest(v);
    });
    const out = join(tempDir(), 'merged');
    return { args: ['merge', reference, d, '--out', out], unchanged: [d, reference], absent: [out] };
  }, 1, /checkpoints\/baseline-seed0\.json was made with another config or data than .*run\.json \(their digests differ\)/],
  ['report: status set to finished in int1', () => {
    const d = copyOf(killed);
    editJson(runJson(d), (v) => (v.status = 'finished'));
    return { args: ['report', d], unchanged: [d] };
  }, 1, /run\.json is damaged: its status is "finished", but it has no summary of bn\/0/],
  ['report: int1 made to look finished (status and the interrupted flag edited)', () => {
    const d = copyOf(killed);
    editJson(runJson(d), (v) => {
      v.status = 'finished';
      delete v.runs[1].interrupted;
    });
    return { args: ['report', d], unchanged: [d] };
  }, 1, /its summary of bn seed 0 differs from .*bn-seed0\.json/],
  ['resume: a checkpoint of seed 1 renamed and relabelled seed 0', resume((d) => editCheckpoint(ckpt(d), (v) => (v.last.seed = 1))), 1, /bn-seed0\.json records the evaluation of step \d+ as "bn,1,/],
  ['resume: a row after the baseline ended', resume((d) => editText(acc(d), (t) => `${t}baseline,0,1600,0.1,0.1,0.5,1.000\n`)), 1, /column step holds "1600", not a step at which baseline seed 0 writes/],
  ['report: accuracy.csv a symlink', read('report', (d) => {
    rmSync(acc(d));
    symlinkSync(acc(reference), acc(d));
  }), 1, /accuracy\.csv is a symbolic link/],
];

/** The experiment digest recomputed the way bn-repro computes it (sorted keys; jobs and seeds left out). */
function forgedDigest(run: Record<string, any>): string {
  const canonical = (v: unknown): string =>
    Array.isArray(v) ? `[${v.map(canonical).join(',')}]` : typeof v === 'object' && v !== null ? `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}` : JSON.stringify(v);
  const { jobs: _j, seeds: _s, ...config } = run.config;
  return createHash('sha256').update(canonical({ config, data: { source: run.data.source, train: run.data.train, test: run.data.test } })).digest('hex');
}

/** Makes a folder look written before digests: none in run.json or the checkpoints. */
function stripDigests(dir: string): void {
  editJson(runJson(dir), (v) => delete v.digest);
  for (const f of readdirSync(join(dir, 'checkpoints'))) {
    editCheckpoint(join(dir, 'checkpoints', f), (v) => {
      delete v.digest;
      delete v.rows;
    });
  }
}

test('the table has at least 40 cases', () => assert.ok(cases.length >= 40, `${cases.length} cases`));

for (const [name, scene, code, message] of cases) {
  test(`folder: ${name}`, (t) => {
    const s = scene();
    const before = (s.unchanged ?? []).map(snapshot);
    const r = runCli(s.args, { timeoutMs: 120_000 });
    assert.equal(r.signal, null, `killed by ${r.signal}: it hung`);
    assert.equal(r.code, code, `exit code; stderr: ${r.stderr}`);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
    assert.equal(errors.length, 1, `one error line, got: ${r.stderr}`);
    assert.match(errors[0], message);
    assert.ok(errors[0].length < 400, `one readable sentence, not ${errors[0].length} characters`);
    t.diagnostic(`exit ${r.code}: ${errors[0]}`);
    assert.doesNotMatch(r.stderr, /^\s+at |internal error/m, 'no stack trace');
    (s.unchanged ?? []).forEach((dir, i) => assert.deepEqual(snapshot(dir), before[i], `${dir} changed`));
    for (const p of s.absent ?? []) assert.equal(existsSync(p), false, `${p} was created`);
  });
}

/** Rows of a CSV without their elapsed_s cell (wall time differs between runs), sorted. */
const numbers = (dir: string, file: string) =>
  readCsv(join(dir, file))
    .rows.map(({ elapsed_s: _t, ...row }) => JSON.stringify(row))
    .sort();

test('an untouched int1 resumes to the rows of the uninterrupted run, the finished baseline\'s rows byte for byte kept', () => {
  const dir = copyOf(killed);
  const baselineLines = (d: string, f: string) => lines(join(d, f)).filter((l) => l.startsWith('baseline,'));
  const before = ['accuracy.csv', 'activations.csv'].map((f) => baselineLines(dir, f));
  const r = runCli(['mnist', '--resume', dir, '--quiet'], { timeoutMs: 240_000 });
  assert.equal(r.code, 0, r.stderr);
  for (const file of ['accuracy.csv', 'activations.csv', 'ics.csv', 'landscape.csv']) assert.deepEqual(numbers(dir, file), numbers(reference, file), `${file} differs`);
  assert.deepEqual(['accuracy.csv', 'activations.csv'].map((f) => baselineLines(dir, f)), before);
  assert.equal(readJson(runJson(dir)).status, 'finished');
  // The resumed folder reads back whole: report accepts it.
  const rep = runCli(['report', dir, '--quiet']);
  assert.equal(rep.code, 0, rep.stderr);
});

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
  writeFileSync(sweep, JSON.stringify({ sweep: [{ name: 'baseline', bn: false, lrMultiplier: 1 }, { name: 'bn', bn: true, lrMultiplier: 1 }], train: { steps: 200 }, eval: { every: 100, probeSize: 100 }, batchNorm: { populationBatches: 3 }, data: { source: 'embedded', trainSubset: 600, testSubset: 200 } }));
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
  assert.match(errors[0], /half is a merge that lacks the runs bn\/0, which --resume cannot train: merge it with the folders that hold them \(bn-repro merge .*half <their folders> --out DIR\)\.$/);
  assert.deepEqual(snapshot(half), before, 'the refused folder is unchanged');
  const whole = join(tempDir(), 'whole');
  const m = runCli(['merge', half, shards[1], '--out', whole]);
  assert.equal(m.code, 0, m.stderr);
  assert.equal(readJson(runJson(whole)).status, 'finished');
  assert.equal(runCli(['report', whole, '--quiet']).code, 0);
});
