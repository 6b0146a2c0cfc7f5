/**
 * What a user reads after a run and in its figures (issue 19, parts 2 and 3): the next-steps line,
 * the listing of a folder of run folders, short runs' reports, and the figures' vega-lite specs
 * (series, domains, colours, legend order), checked on a tiny 2-seed run and a tiny sweep.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { figureSpec, renderPng, renderSvg } from '../src/analysis/figure.js';
import { NETWORK_PALETTE } from '../src/analysis/figure-style.js';
import { landscapeFigureSpec } from '../src/analysis/landscape-figure.js';
import { readPaperCurves } from '../src/analysis/paper.js';
import { sweepFigureSpec } from '../src/analysis/sweep-figure.js';
import { fairlyTunedTable } from '../src/analysis/sweep-table.js';
import { paperDistanceSection } from '../src/analysis/paper-report.js';
import { readEndedRun, type AccuracyRow, type RunData } from '../src/analysis/run-data.js';
import { runCli, tempDir, testConfig, type CliResult } from './helpers.js';

const work = tempDir('bn-repro-figures-');
const tiny = join(work, 'tiny.json');
writeFileSync(
  tiny,
  JSON.stringify({
    name: 'tiny',
    train: { steps: 500 },
    eval: { every: 100, probeSize: 200, units: [0, 1] },
    batchNorm: { populationBatches: 3 },
    data: { source: 'embedded', trainSubset: 1000, testSubset: 300 },
  }),
);
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

test('--resume of an ended run, a shard and merge end with their own next-steps line on stdout', () => {
  const resumed = runCli(['mnist', '--resume', twoSeeds, '--quiet']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(resumed.stdout, `results: ${twoSeeds}; next: bn-repro plot ${twoSeeds} && bn-repro report ${twoSeeds}\n`);
  const config = join(work, 'shards.json');
  writeFileSync(
    config,
    JSON.stringify({
      name: 'shards',
      seeds: [0],
      sweep: [
        { name: 'baseline', bn: false, lrMultiplier: 1 },
        { name: 'bn', bn: true, lrMultiplier: 1 },
      ],
      train: { steps: 100 },
      eval: { every: 50, probeSize: 100, units: [0] },
      batchNorm: { populationBatches: 2 },
      data: { source: 'embedded', trainSubset: 500, testSubset: 200 },
    }),
  );
  const shards = [1, 2].map((i) => join(work, `shard ${i}`)); // a space: the commands quote the folder
  shards.forEach((out, i) => {
    const r = runCli(['sweep', config, '--shard', `${i + 1}/2`, '--out', out, '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      `results: ${out}; next: bn-repro merge '${out}' <the other shard folders> --out DIR, then bn-repro plot DIR && bn-repro report DIR\n`,
    );
  });
  const merged = join(work, 'merged');
  const m = runCli(['merge', ...shards, '--out', merged, '--quiet']);
  assert.equal(m.code, 0, m.stderr);
  assert.equal(m.stdout, `results: ${merged}; next: bn-repro plot ${merged} && bn-repro report ${merged}\n`);
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
    assertOneError(
      r,
      1,
      new RegExp(
        `^error: ${results} is not a run folder but holds 12 run folders: ${shown} and 2 more; give one of them, e\\.g\\. bn-repro ${verb} ${results}/run-11\\.$`,
      ),
    );
    assert.deepEqual(readdirSync(results).sort(), ['not-a-run', ...names], `${verb} leaves the folder as it was (no lock file)`);
  }
  const one = join(work, 'one');
  mkdirSync(join(one, 'only'), { recursive: true });
  writeFileSync(join(one, 'only', 'run.json'), '{}');
  assertOneError(
    runCli(['report', one]),
    1,
    new RegExp(`^error: ${one} is not a run folder but holds 1 run folder: only; give one of them, e\\.g\\. bn-repro report ${one}/only\\.$`),
  );
});

test('report of a 500-step run names the paper steps it did not reach instead of an empty table', () => {
  const r = runCli(['report', twoSeeds, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  const md = readFileSync(join(twoSeeds, 'report.md'), 'utf8');
  const section = md.split('## Figure 1(a): ours beside the paper\n')[1].split('\n## ')[0];
  assert.match(
    section,
    /This run's last evaluation is at step 500, so it did not reach the paper's steps 10,000, 20,000, 30,000 and 40,000: there is nothing to set beside the paper yet/,
  );
  assert.doesNotMatch(section, /\| step \|/, 'no table header without rows');
  const distance = md.split('## Distance to the paper\n')[1].split('Fig. 1(b, c)')[0];
  assert.doesNotMatch(distance, /\| network \| BN \| RMSE/);
  assert.match(distance, /first digitized step \(3,581 without BN, 4,024 with BN\) to 40,000/, 'the range read from paper/fig1a.csv');
  assert.match(
    distance,
    /No network of this run has an evaluation with a finite accuracy in that range \(this run's last evaluation is at step 500\), so no distance is computed\./,
  );
});

/** A sweep's RunData from hand-written curves: network -> test accuracy at steps 0, 200, 400. */
function sweepData(curves: Record<string, number[]>): RunData {
  const sweep = Object.keys(curves).map((name) => ({ name, bn: name.startsWith('bn'), lrMultiplier: name.endsWith('-x5') ? 5 : 1 }));
  const config = testConfig({ seeds: [0], sweep, train: { steps: 400 } });
  const accuracy: AccuracyRow[] = Object.entries(curves).flatMap(([arm, values]) =>
    values.map((testAccuracy, i) => ({ arm, seed: 0, step: i * 200, trainLoss: 0, testLoss: 0, testAccuracy })),
  );
  return { dir: '/nowhere', runJson: { runs: [] }, config, arms: sweep.map((v) => v.name), seeds: [0], accuracy, activations: [] };
}

test('the fairly tuned table never names a best that reached nothing, and names both networks it compares', () => {
  const none = fairlyTunedTable(sweepData({ baseline: [0.5, 0.8, 0.9], 'baseline-x5': [0.5, 0.85, 0.91], bn: [0.5, 0.9, 0.95], 'bn-x5': [0.5, 0.92, 0.96] }));
  assert.ok(none.includes('| baseline | none reaches 97% | not reached | baseline-x5 | 0.9100 |'), none.join('\n'));
  assert.ok(none.includes('| BN | none reaches 97% | not reached | bn-x5 | 0.9600 |'), none.join('\n'));
  assert.equal(
    none.at(-1),
    'BN against the baseline, each at its best setting: no setting of either family reaches 97%; by final accuracy, bn-x5 ends +0.0500 against baseline-x5.',
  );
  const bnOnly = fairlyTunedTable(sweepData({ baseline: [0.5, 0.8, 0.9], bn: [0.5, 0.9, 0.95], 'bn-x5': [0.5, 0.975, 0.98] }));
  assert.equal(
    bnOnly.at(-1),
    'BN against the baseline, each at its best setting: bn-x5 reaches 97% (step 200); no baseline setting does; by final accuracy, bn-x5 ends +0.0800 against baseline.',
  );
  const baseOnly = fairlyTunedTable(sweepData({ baseline: [0.5, 0.9, 0.97], bn: [0.5, 0.9, 0.95] }));
  assert.equal(
    baseOnly.at(-1),
    'BN against the baseline, each at its best setting: no BN setting reaches 97%; baseline does (step 400); by final accuracy, bn ends -0.0200 against baseline.',
  );
  const both = fairlyTunedTable(sweepData({ baseline: [0.5, 0.9, 0.97], bn: [0.5, 0.98, 0.99] }));
  assert.equal(
    both.at(-1),
    'BN against the baseline, each at its best setting: bn reaches 97% 200 steps sooner than baseline (step 200 against step 400, 2.0x); by final accuracy, bn ends +0.0200 against baseline.',
  );
});

test('the distance section names the networks with no evaluation in the paper range, never a placeholder row', () => {
  const paper = {
    baseline: [
      { step: 300, value: 0.9 },
      { step: 400, value: 0.92 },
    ],
    bn: [
      { step: 500, value: 0.95 },
      { step: 600, value: 0.96 },
    ],
  };
  const lines = paperDistanceSection(sweepData({ baseline: [0.5, 0.8, 0.9], bn: [0.5, 0.9, 0.95] }), paper);
  assert.ok(!lines.some((l) => l.includes('no evaluation in range')));
  assert.ok(lines.includes('| baseline | no | 0.0200 | 1 |'), lines.join('\n')); // step 400: |0.9 - 0.92|
  assert.ok(
    lines.includes("bn has no evaluation with a finite accuracy in that range (this run's last evaluation is at step 400), so no distance is computed for it."),
    lines.join('\n'),
  );
});

test('sweep --help says that seeds and steps come from the config file unless given', () => {
  const help = runCli(['sweep', '--help']).stdout.replace(/\s+/g, ' ');
  assert.match(help, /--steps <n> training steps per run \(default: the config file's, else 50000\)/);
  assert.match(
    help,
    /--seeds <list> training seeds: a list "0,1,2" or a count "3" \(= 0,1,2; "1" is seed 0 alone, --seed 1 is seed 1\) \(default: the config file's, else \[0\]\)/,
  );
  const mnist = runCli(['mnist', '--help']).stdout.replace(/\s+/g, ' ');
  assert.match(mnist, /--steps <n> training steps per run \(default: 50000\)/);
});

// biome-ignore lint/suspicious/noExplicitAny: the tests walk the vega-lite spec as plain JSON
type Json = any;

/**
 * A hand-made 6,000-step folder's data (one seed, evaluations every 1,000 steps): the sweep's
 * networks in a scrambled config order, unit 0's percentiles of baseline in -1..0.3 and of bn in
 * -0.8..1.2, so the shared y range of (b, c) is [-1, 1.5].
 */
function figureData(names: string[]): RunData {
  const sweep = names.map((name) => ({ name, bn: name.startsWith('bn'), lrMultiplier: Number(name.split('-x')[1] ?? 1) }));
  const config = testConfig({ seeds: [0], sweep, train: { steps: 6000 }, eval: { every: 1000, units: [0] } });
  const steps = [0, 1000, 2000, 3000, 4000, 5000, 6000];
  const accuracy: AccuracyRow[] = names.flatMap((arm) =>
    steps.map((step) => ({ arm, seed: 0, step, trainLoss: 0, testLoss: 0, testAccuracy: 0.75 + step / 40000 })),
  );
  const p = (arm: string, step: number) =>
    arm === 'baseline'
      ? new Map([
          [15, -1],
          [50, -0.5],
          [85, 0.3],
        ])
      : new Map([
          [15, -0.8],
          [50, 0.1],
          [85, step === 6000 ? 1.2 : 1],
        ]);
  const activations = names.flatMap((arm) => steps.map((step) => ({ arm, seed: 0, step, unit: 0, p: p(arm, step) })));
  return { dir: '/nowhere', runJson: { runs: [] }, config, arms: names, seeds: [0], accuracy, activations };
}
const SCRAMBLED = ['bn-x30', 'baseline', 'bn-x5', 'bn', 'baseline-x5'];
const BY_RATE = ['baseline', 'bn', 'baseline-x5', 'bn-x5', 'bn-x30'];

test("figure1: the paper's curves dashed within the run's steps, one y range for (b) and (c), x = [0, steps]", async () => {
  const data = figureData(SCRAMBLED);
  const spec = figureSpec(data, 0) as Json;
  const [a, b, c] = spec.hconcat;
  const paperLayer = a.layer.find((l: Json) => l.mark.strokeDash !== undefined);
  assert.deepEqual(paperLayer.mark.strokeDash, [4, 3]);
  const curves = readPaperCurves();
  const baselinePaper = paperLayer.data.values.filter((r: Json) => r.arm === 'baseline');
  assert.deepEqual(baselinePaper[0], { arm: 'baseline', step: 3581, value: 0.7117 }, 'the first point of paper/fig1a.csv without BN');
  assert.equal(baselinePaper.at(-1).step, 6000, "cut at the run's last step");
  assert.equal(baselinePaper.length, curves.baseline.filter((q) => q.step <= 6000).length + 1, 'every paper point up to 6,000 and the interpolated end');
  assert.equal(paperLayer.data.values.filter((r: Json) => r.arm === 'bn')[0].step, 4024);
  assert.equal(a.title.subtitle, "dashed: the paper's Fig. 1(a)");
  assert.deepEqual(b.encoding.y.scale.domain, [-1, 1.5]);
  assert.deepEqual(c.encoding.y.scale.domain, [-1, 1.5]);
  for (const enc of [...a.layer.map((l: Json) => l.encoding), b.encoding, c.encoding]) assert.deepEqual(enc.x.scale.domain, [0, 6000]);
  assert.match(b.title.subtitle, /^baseline, learning rate 0\.1, init std 0\.1$/, 'the setting panel (b) shows');
  assert.match(c.title.subtitle, /^bn, learning rate 0\.1, init std 0\.1$/);
  assert.ok(a.layer.find((l: Json) => l.mark.type === 'area').mark.opacity >= 0.4, 'a seed band that shows');
  assert.ok(renderPng(await renderSvg(spec)).length > 1000, 'it renders');
});

test('one colour per network in every figure, legends by learning rate then name, the sweep on its own steps', async () => {
  const data = figureData(SCRAMBLED);
  const fig1 = (figureSpec(data, 0) as Json).hconcat[0].layer[0].encoding.color;
  assert.deepEqual(fig1.scale.domain, BY_RATE);
  assert.deepEqual(fig1.sort, BY_RATE);
  const colourOf = new Map(BY_RATE.map((name, i) => [name, NETWORK_PALETTE[i]]));
  assert.deepEqual(
    fig1.scale.range,
    BY_RATE.map((n) => colourOf.get(n)),
  );
  const sweep = sweepFigureSpec(data) as Json;
  const [without, withBn] = sweep.hconcat.map((panel: Json) => panel.layer[0].encoding.color.scale);
  assert.deepEqual(without, { domain: ['baseline', 'baseline-x5'], range: [colourOf.get('baseline'), colourOf.get('baseline-x5')] });
  assert.deepEqual(withBn, { domain: ['bn', 'bn-x5', 'bn-x30'], range: [colourOf.get('bn'), colourOf.get('bn-x5'), colourOf.get('bn-x30')] });
  for (const panel of sweep.hconcat) {
    for (const layer of panel.layer) assert.deepEqual(layer.encoding.x.scale.domain, [0, 6000]);
    assert.ok(Math.max(...panel.layer[1].data.values.map((r: Json) => r.step)) <= 6000, "the paper's curve does not widen the axis");
  }
  const landscape = landscapeFigureSpec(
    { ics: [], landscape: BY_RATE.map((arm) => ({ arm, seed: 0, step: 1000, lossMin: 1, lossMax: 2, gradChangeMax: 1, betaSmoothness: 1 })) },
    data,
  ) as Json;
  assert.deepEqual(landscape.vconcat[0].hconcat[1].encoding.color.scale, networkColorsOf(BY_RATE, colourOf));
  assert.deepEqual(landscape.vconcat[0].hconcat[1].encoding.x.scale.domain, [0, 6000]);
  const column = sweepFigureSpec(data, 'column') as Json;
  assert.equal(column.vconcat.length, 2, 'the column layout stacks the panels');
  assert.ok(renderPng(await renderSvg(column)).length > 1000);
});

const networkColorsOf = (names: string[], colourOf: Map<string, string>) => ({ domain: names, range: names.map((n) => colourOf.get(n)) });

test('plot --layout column writes figure1-column.* beside the wide strip; a layout it does not know is one usage error', () => {
  const wide = runCli(['plot', twoSeeds, '--quiet']);
  assert.equal(wide.code, 0, wide.stderr);
  const before = readFileSync(join(twoSeeds, 'figure1.png'));
  const column = runCli(['plot', twoSeeds, '--layout', 'column']);
  assert.equal(column.code, 0, column.stderr);
  assert.match(column.stderr, /wrote \S+figure1-column\.svg and \S+figure1-column\.png/);
  assert.ok(readFileSync(join(twoSeeds, 'figure1.png')).equals(before), 'the wide figure is left as it was');
  const svg = readFileSync(join(twoSeeds, 'figure1-column.svg'), 'utf8');
  const width = Number(/width="(\d+)"/.exec(svg)![1]);
  assert.ok(width <= 320, `a column figure is at most about 3.3 in (320 CSS px at 96 per inch) wide, got ${width}`);
  // 500 steps: the paper's curves start later, so none is drawn (resvg cannot draw a fully clipped line) and the subtitle says why.
  const short = (figureSpec(readEndedRun(twoSeeds), 0) as Json).hconcat[0];
  assert.equal(short.layer.length, 2, 'mean line and seed band, no paper layer');
  assert.equal(short.title.subtitle, "the paper's curve starts at step 3,581");
  assert.deepEqual(short.layer[0].encoding.x.scale.domain, [0, 500]);
  assertOneError(runCli(['plot', twoSeeds, '--layout', 'paper']), 2, /^error: --layout must be wide or column \(got "paper"\)\.$/);
  assertOneError(
    runCli(['plot', twoSeeds, '--layout', 'column', '--layout', 'wide']),
    2,
    /^error: --layout is given twice \("column" and "wide"\); give it once\.$/,
  );
});
