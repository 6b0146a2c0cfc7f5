/**
 * A depth sweep trained by the CLI (issue 20, item 3): each network at its own depth, whose layers
 * activations.csv and ics.csv use and the folder reader checks per network; report's depth table
 * and ICS table, plot's depth.svg/png, and --resume of the ended folder.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setCell } from './folder-fixtures.js';
import { copyOf, snapshot } from './folder-helpers.js';
import { assertRefused, readCsv, runCli, tempDir } from './helpers.js';

const work = tempDir('bn-repro-depth-');
const config = join(work, 'depth.json');
writeFileSync(
  config,
  JSON.stringify({
    name: 'tiny-depth',
    seeds: [0],
    sweep: [
      { name: 'baseline-1', bn: false, lrMultiplier: 1, hiddenUnits: [12] },
      { name: 'bn-1', bn: true, lrMultiplier: 1, hiddenUnits: [12] },
      { name: 'bn-3', bn: true, lrMultiplier: 1, hiddenUnits: [12, 12, 12] },
    ],
    train: { steps: 100 },
    eval: { every: 50, probeSize: 100, units: [0, 1], landscape: { every: 2 } },
    batchNorm: { populationBatches: 2 },
    data: { source: 'embedded', trainSubset: 500, testSubset: 200 },
  }),
);
const folder = join(work, 'run');

test('a depth sweep trains each network at its own depth: activations.csv and ics.csv use its own layers', () => {
  const r = runCli(['sweep', config, '--jobs', '1', '--out', folder, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  const layersOf = (file: string, arm: string) => [
    ...new Set(
      readCsv(join(folder, file))
        .rows.filter((row) => row.arm === arm)
        .map((row) => row.layer),
    ),
  ];
  assert.deepEqual(layersOf('activations.csv', 'baseline-1'), ['0']);
  assert.deepEqual(layersOf('activations.csv', 'bn-3'), ['2']);
  assert.deepEqual(layersOf('ics.csv', 'bn-1'), ['0', '1']);
  assert.deepEqual(layersOf('ics.csv', 'bn-3'), ['0', '1', '2', '3']);
  const runJson = JSON.parse(readFileSync(join(folder, 'run.json'), 'utf8'));
  assert.deepEqual(runJson.config.sweep[2].hiddenUnits, [12, 12, 12], 'the variant depth is in the resolved config');
});

test('report and plot of a depth sweep: the depth table and depth.svg/png; the folder reads back', () => {
  const report = runCli(['report', folder, '--quiet']);
  assert.equal(report.code, 0, report.stderr);
  const text = readFileSync(join(folder, 'report.md'), 'utf8');
  assert.match(text, /## Depth sweep: sigmoid networks of increasing depth/);
  assert.match(text, /\n\| 1 \| [^|]+ \| 0\.\d{4} \| [^|]+ \| 0\.\d{4} \|\n\| 3 \| – \| – \| [^|]+ \| 0\.\d{4} \|\n/);
  // The ICS table names each network's own layers: baseline-1's second weight layer is its output, bn-3's fourth.
  const ics = text.split('\n').filter((l) => /^\| (baseline-1|bn-3) \| (hidden \d|output) \| steps 10-100 \|/.test(l));
  assert.deepEqual(
    ics.map((l) => l.split(' | ').slice(0, 2).join(' | ')),
    ['| baseline-1 | hidden 1', '| baseline-1 | output', '| bn-3 | hidden 1', '| bn-3 | hidden 2', '| bn-3 | hidden 3', '| bn-3 | output'],
  );
  const plot = runCli(['plot', folder, '--quiet']);
  assert.equal(plot.code, 0, plot.stderr);
  const svg = readFileSync(join(folder, 'depth.svg'), 'utf8');
  assert.ok(svg.includes('>hidden layers</text>') && svg.includes('>with BN</text>'));
  assert.ok(existsSync(join(folder, 'depth.png')));
  const resumed = runCli(['mnist', '--resume', folder, '--quiet']);
  assert.equal(resumed.code, 0, resumed.stderr);
});

test("a row at another network's layer is refused: each network's rows are checked against its own depth", () => {
  const copy = copyOf(folder);
  // bn-1 records layer 0 only; layer 2 is bn-3's.
  setCell(join(copy, 'activations.csv'), 'bn-1,0,50,0,', 'layer', '2');
  const before = snapshot(copy);
  assertRefused(runCli(['report', copy]), 1, /activations\.csv is damaged: line \d+, layer\/unit 2\/0 is not one this run records/);
  assert.deepEqual(snapshot(copy), before);
});
