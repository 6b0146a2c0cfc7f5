/**
 * What a user reads after a run and in its figures (issue 19, parts 2 and 3): the next-steps line,
 * the listing of a folder of run folders, short runs' reports, and the figures' vega-lite specs
 * (series, domains, colours, legend order), checked on a tiny 2-seed run and a tiny sweep.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fairlyTunedTable } from '../src/analysis/sweep-table.js';
import { paperDistanceSection } from '../src/analysis/paper-report.js';
import type { AccuracyRow, RunData } from '../src/analysis/run-data.js';
import { runCli, tempDir, testConfig, type CliResult } from './helpers.js';

const work = tempDir('bn-repro-figures-');
const tiny = join(work, 'tiny.json');
writeFileSync(tiny, JSON.stringify({
  name: 'tiny',
  train: { steps: 500 },
  eval: { every: 100, probeSize: 200, units: [0, 1] },
  batchNorm: { populationBatches: 3 },
  data: { source: 'embedded', trainSubset: 1000, testSubset: 300 },
}));
const twoSeeds = join(work, 'two-seeds');

/** One `error:` line on stderr and no stack trace. */
function assertOneError(r: CliResult, code: number, message: RegExp): void {
  assert.equal(r.code, code, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], message);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

test('mnist --quiet prints exactly one line on stdout: the folder and the plot and report commands', () => {
  const r = runCli(['mnist', '--config', tiny, '--seeds', '2', '--out', twoSeeds, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `results: ${twoSeeds}; next: bn-repro plot ${twoSeeds} && bn-repro report ${twoSeeds}\n`);
  assert.ok(readdirSync(twoSeeds).includes('run.json'));
});

test('plot and report given a folder of run folders list the run folders inside (at most 10, then a count)', () => {
  const results = join(work, 'results');
  const names = Array.from({ length: 12 }, (_, i) => `run-${String(i).padStart(2, '0')}`);
  for (const name of names) {
    mkdirSync(join(results, name), { recursive: true });
    writeFileSync(join(results, name, 'run.json'), '{}');
  }
  mkdirSync(join(results, 'not-a-run')); // a folder without run.json is not listed
  for (const verb of ['plot', 'report']) {
    const r = runCli([verb, results]);
    const shown = names.slice(0, 10).join(', ');
    assertOneError(r, 1, new RegExp(`^error: ${results} is not a run folder but holds 12 run folders: ${shown} and 2 more; give one of them, e\\.g\\. bn-repro ${verb} ${results}/run-11\\.$`));
    assert.deepEqual(readdirSync(results).sort(), ['not-a-run', ...names], `${verb} leaves the folder as it was (no lock file)`);
  }
  const one = join(work, 'one');
  mkdirSync(join(one, 'only'), { recursive: true });
  writeFileSync(join(one, 'only', 'run.json'), '{}');
  assertOneError(runCli(['report', one]), 1, new RegExp(`^error: ${one} is not a run folder but holds 1 run folder: only; give one of them, e\\.g\\. bn-repro report ${one}/only\\.$`));
});

test('report of a 500-step run names the paper steps it did not reach instead of an empty table', () => {
  const r = runCli(['report', twoSeeds, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  const md = readFileSync(join(twoSeeds, 'report.md'), 'utf8');
  const section = md.split('## Figure 1(a): ours beside the paper\n')[1].split('\n## ')[0];
  assert.match(section, /This run's last evaluation is at step 500, so it did not reach the paper's steps 10,000, 20,000, 30,000 and 40,000: there is nothing to set beside the paper yet/);
  assert.doesNotMatch(section, /\| step \|/, 'no table header without rows');
  const distance = md.split('## Distance to the paper\n')[1].split('Fig. 1(b, c)')[0];
  assert.doesNotMatch(distance, /\| network \| BN \| RMSE/);
  assert.match(distance, /first digitized step \(3,581 without BN, 4,024 with BN\) to 40,000/, 'the range read from paper/fig1a.csv');
  assert.match(distance, /No network of this run has an evaluation with a finite accuracy in that range \(this run's last evaluation is at step 500\), so no distance is computed\./);
});

/** A sweep's RunData from hand-written curves: network -> test accuracy at steps 0, 200, 400. */
function sweepData(curves: Record<string, number[]>): RunData {
  const sweep = Object.keys(curves).map((name) => ({ name, bn: name.startsWith('bn'), lrMultiplier: name.endsWith('-x5') ? 5 : 1 }));
  const config = testConfig({ seeds: [0], sweep, train: { steps: 400 } });
  const accuracy: AccuracyRow[] = Object.entries(curves).flatMap(([arm, values]) => values.map((testAccuracy, i) => ({ arm, seed: 0, step: i * 200, trainLoss: 0, testLoss: 0, testAccuracy })));
  return { dir: '/nowhere', runJson: { runs: [] }, config, arms: sweep.map((v) => v.name), seeds: [0], accuracy, activations: [] };
}

test('the fairly tuned table never names a best that reached nothing, and names both networks it compares', () => {
  const none = fairlyTunedTable(sweepData({ baseline: [0.5, 0.8, 0.9], 'baseline-x5': [0.5, 0.85, 0.91], bn: [0.5, 0.9, 0.95], 'bn-x5': [0.5, 0.92, 0.96] }));
  assert.ok(none.includes('| baseline | none reaches 97% | not reached | baseline-x5 | 0.9100 |'), none.join('\n'));
  assert.ok(none.includes('| BN | none reaches 97% | not reached | bn-x5 | 0.9600 |'), none.join('\n'));
  assert.equal(none.at(-1), 'BN against the baseline, each at its best setting: no setting of either family reaches 97%; by final accuracy, bn-x5 ends +0.0500 against baseline-x5.');
  const bnOnly = fairlyTunedTable(sweepData({ baseline: [0.5, 0.8, 0.9], bn: [0.5, 0.9, 0.95], 'bn-x5': [0.5, 0.975, 0.98] }));
  assert.equal(bnOnly.at(-1), 'BN against the baseline, each at its best setting: bn-x5 reaches 97% (step 200); no baseline setting does; by final accuracy, bn-x5 ends +0.0800 against baseline.');
  const baseOnly = fairlyTunedTable(sweepData({ baseline: [0.5, 0.9, 0.97], bn: [0.5, 0.9, 0.95] }));
  assert.equal(baseOnly.at(-1), 'BN against the baseline, each at its best setting: no BN setting reaches 97%; baseline does (step 400); by final accuracy, bn ends -0.0200 against baseline.');
  const both = fairlyTunedTable(sweepData({ baseline: [0.5, 0.9, 0.97], bn: [0.5, 0.98, 0.99] }));
  assert.equal(both.at(-1), 'BN against the baseline, each at its best setting: bn reaches 97% 200 steps sooner than baseline (step 200 against step 400, 2.0x); by final accuracy, bn ends +0.0200 against baseline.');
});

test('the distance section names the networks with no evaluation in the paper range, never a placeholder row', () => {
  const paper = { baseline: [{ step: 300, value: 0.9 }, { step: 400, value: 0.92 }], bn: [{ step: 500, value: 0.95 }, { step: 600, value: 0.96 }] };
  const lines = paperDistanceSection(sweepData({ baseline: [0.5, 0.8, 0.9], bn: [0.5, 0.9, 0.95] }), paper);
  assert.ok(!lines.some((l) => l.includes('no evaluation in range')));
  assert.ok(lines.includes('| baseline | no | 0.0200 | 1 |'), lines.join('\n')); // step 400: |0.9 - 0.92|
  assert.ok(lines.includes("bn has no evaluation with a finite accuracy in that range (this run's last evaluation is at step 400), so no distance is computed for it."), lines.join('\n'));
});

test('sweep --help says that seeds and steps come from the config file unless given', () => {
  const help = runCli(['sweep', '--help']).stdout.replace(/\s+/g, ' ');
  assert.match(help, /--steps <n> training steps per run \(default: the config file's, else 50000\)/);
  assert.match(help, /--seeds <list> training seeds: a list "0,1,2" or a count "3" \(= 0,1,2; "1" is seed 0 alone, --seed 1 is seed 1\) \(default: the config file's, else \[0\]\)/);
  const mnist = runCli(['mnist', '--help']).stdout.replace(/\s+/g, ' ');
  assert.match(mnist, /--steps <n> training steps per run \(default: 50000\)/);
});
