/**
 * Seeds, sweeps, shards, merge, plot and report end to end through the CLI on a tiny protocol:
 * a sharded sweep merged equals the unsharded sweep; plot writes a parsable SVG with every series
 * and a PNG of the expected size; report and the sweep table hold the expected rows.
 */
import assert from 'node:assert/strict';
import { sig } from '../src/analysis/landscape-report.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PNG_SCALE } from '../src/analysis/figure.js';
import { readCsv, runCli, tempDir, timelessRows, tinySweepConfig } from './helpers.js';

const work = tempDir();
// With the Santurkar et al. measurements at every evaluation: merge, plot and report handle their files.
const sweepConfig = tinySweepConfig(work, 'tiny-sweep', { eval: { every: 100, probeSize: 200, units: [0, 1], landscape: { every: 1 } } });

function cli(args: string[]) {
  const r = runCli(args);
  assert.equal(r.code, 0, `bn-repro ${args.join(' ')}: ${r.stderr}`);
  return r;
}

const whole = join(work, 'whole');
const merged = join(work, 'merged');

test('a sweep over 2 seeds runs every variant for every seed and writes its table', () => {
  const r = cli(['sweep', sweepConfig, '--out', whole, '--quiet']);
  const rows = readCsv(join(whole, 'accuracy.csv')).rows;
  for (const arm of ['baseline', 'bn', 'bn-x5']) for (const seed of ['0', '1']) assert.equal(rows.filter((x) => x.arm === arm && x.seed === seed).length, 4);
  const table = readFileSync(join(whole, 'sweep.md'), 'utf8');
  assert.equal(r.stdout, `${table}results: ${whole}; next: bn-repro plot ${whole} && bn-repro report ${whole}\n`);
  assert.match(table, /\| bn-x5 \| yes \| 2\.5 \| 0\.1 \| ([\d,]+|not reached) \| 0\.\d{4} \| 0 of 2 \|/);
  assert.match(table, /\| baseline \| no \| 0\.5 \| /);
});

test('three shards merged equal the unsharded sweep', () => {
  const shards = [1, 2, 3].map((i) => join(work, `shard-${i}`));
  shards.forEach((dir, i) => cli(['sweep', sweepConfig, '--shard', `${i + 1}/3`, '--out', dir, '--quiet']));
  const counts = shards.map((d) => JSON.parse(readFileSync(join(d, 'run.json'), 'utf8')).runs.length);
  assert.deepEqual(counts, [2, 2, 2], 'six runs spread over three shards');
  cli(['merge', ...shards, '--out', merged, '--quiet']);
  for (const file of ['accuracy.csv', 'activations.csv', 'ics.csv', 'landscape.csv'])
    assert.deepEqual(timelessRows(merged, file), timelessRows(whole, file), file);
  assert.equal(readCsv(join(merged, 'ics.csv')).rows.length, 6 * 4 * 4, '6 runs x 4 measurements x 4 layers');
  const run = JSON.parse(readFileSync(join(merged, 'run.json'), 'utf8'));
  assert.equal(run.status, 'finished');
  assert.equal(run.runs.length, 6);
  assert.equal(run.shard, undefined);
  const again = runCli(['merge', shards[0], shards[0], '--out', join(work, 'twice')]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /is in both .* merge each shard once/);
});

test('plot writes an SVG with all series and a PNG of the expected size', () => {
  cli(['plot', merged, '--unit', '1', '--quiet']);
  const svg = readFileSync(join(merged, 'figure1.svg'), 'utf8');
  assert.match(svg, /^<svg[^>]*width="(\d+)"[^>]*height="(\d+)"/);
  const [, w, h] = /^<svg[^>]*width="(\d+)"[^>]*height="(\d+)"/.exec(svg)!.map(Number);
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  for (const text of [
    '(a) test accuracy, mean and min-max of 2 seeds',
    'without BN: sigmoid input, unit 1',
    'with BN: sigmoid input, unit 1',
    'baseline',
    'bn-x5',
    '85th',
    '15th',
  ]) {
    assert.ok(svg.includes(text), `the SVG shows "${text}"`);
  }
  assert.ok((svg.match(/<path/g) ?? []).length >= 9, 'lines for 3 accuracy series and 2 x 3 percentile traces');
  const png = readFileSync(join(merged, 'figure1.png'));
  assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], 'PNG signature');
  assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [w * PNG_SCALE, h * PNG_SCALE]);
  // A sweep also gets sweep.svg: a panel per family, a line per setting; the paper's curve (dashed
  // in longer runs, test/figures.test.ts) starts after these 300 steps, so the figure says so instead.
  const sweepSvg = readFileSync(join(merged, 'sweep.svg'), 'utf8');
  for (const text of ['without BN', 'with BN', 'baseline', 'bn-x5', "paper's Fig. 1(a) starts at step 3,581"])
    assert.ok(sweepSvg.includes(text.replace("'", '&#39;')) || sweepSvg.includes(text), `sweep.svg shows "${text}"`);
  assert.equal((sweepSvg.match(/stroke-dasharray/g) ?? []).length, 0, "no paper curve beyond the sweep's steps");
  assert.deepEqual([...readFileSync(join(merged, 'sweep.png')).subarray(1, 4)], [0x50, 0x4e, 0x47]);
  // And landscape.svg: Santurkar et al.'s Fig. 4 panels and ICS per layer (layer 1 left out: 0 by definition).
  const landscapeSvg = readFileSync(join(merged, 'landscape.svg'), 'utf8');
  for (const text of ['range over step sizes', 'gradient predictiveness', 'effective β-smoothness', "ICS ‖G - G'‖, hidden layer 2", 'output layer', 'bn-x5']) {
    assert.ok(landscapeSvg.includes(text.replace(/'/g, '&#39;')) || landscapeSvg.includes(text), `landscape.svg shows "${text}"`);
  }
  assert.ok(!landscapeSvg.includes('hidden layer 1'), 'no panel for the first layer');
  assert.deepEqual([...readFileSync(join(merged, 'landscape.png')).subarray(1, 4)], [0x50, 0x4e, 0x47]);
  const bad = runCli(['plot', merged, '--unit', '7']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Unit 7 was not recorded .* recorded units: 0, 1/);
});

test('report: accuracy over seeds, steps to targets, paper values, stability and the sweep table', () => {
  const r = cli(['report', merged, '--quiet']);
  const md = readFileSync(join(merged, 'report.md'), 'utf8');
  assert.equal(r.stdout, md);
  assert.match(md, /× 2 seed\(s\) \(0, 1\)/);
  assert.match(md, /\| bn \| 0\.\d{4} ± 0\.\d{4} \| 0\.\d{4} ± 0\.\d{4} \| /);
  // A 300-step run has no value at the paper's 10k-40k steps: a sentence says so, no empty table.
  assert.match(md, /This run's last evaluation is at step 300, so it did not reach the paper's steps 10,000, 20,000, 30,000 and 40,000/);
  assert.doesNotMatch(md, /\| step \| baseline \(ours\) \| baseline \(paper\) \|/);
  assert.doesNotMatch(md, /\| 10,000 \|/);
  assert.doesNotMatch(md, /NaN/);
  assert.match(md, /\| baseline \| -?\d\.\d{3} ± \d\.\d{3} \| /);
  assert.match(md, /## Learning-rate sweep/);
  const finals = readCsv(join(merged, 'accuracy.csv'))
    .rows.filter((x) => x.arm === 'bn' && x.step === '300')
    .map((x) => Number(x.test_accuracy));
  const mean = (finals[0] + finals[1]) / 2;
  assert.ok(md.includes(`| bn | ${mean.toFixed(4)} ± `), 'final accuracy is the mean of the two seeds');
  // The landscape section: bn's output-layer ICS after the first 10% = per-seed means of steps 100-300, then mean and std.
  assert.match(md, /## Internal covariate shift and the loss landscape \(Santurkar et al\. 2018\)/);
  const ics = readCsv(join(merged, 'ics.csv')).rows.filter((x) => x.arm === 'bn' && x.layer === '3' && Number(x.step) > 30);
  const perSeed = ['0', '1'].map((seed) => {
    const v = ics.filter((x) => x.seed === seed).map((x) => Number(x.l2));
    assert.equal(v.length, 3);
    return (v[0] + v[1] + v[2]) / 3;
  });
  const m = (perSeed[0] + perSeed[1]) / 2;
  const sd = Math.abs(perSeed[0] - perSeed[1]) / Math.SQRT2;
  assert.ok(md.includes(`| bn | output | steps 30-300 | ${sig(m)} ± ${sig(sd)} |`), `bn output-layer ICS ${sig(m)} ± ${sig(sd)} in the report`);
  assert.match(md, /\| baseline \| hidden 1 \| steps 0-30 \| 0 ± 0 \| 0 ± 0 \|/);
});
