/**
 * plot DIR1 DIR2 --out DIR (issue 21, part 3): two folders of different learning rates in one
 * Figure 1, each line labelled by what differs ("lr 0.1" vs "lr 0.5"), or by folder name when
 * nothing does; `report` the same for the numbers; the folders are left unchanged and an existing
 * output is never overwritten.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readCsv, runCli, tempDir } from './helpers.js';
import { snapshot } from './folder-helpers.js';

const work = tempDir('bn-repro-compare-');
const S = ['--data', 'embedded', '--steps', '100', '--eval-every', '50', '--subset', '600', '--test-subset', '200', '--jobs', '1', '--quiet'];
const folders = ['0.1', '0.5'].map((lr) => {
  const out = join(work, `lr${lr}`);
  assert.equal(runCli(['mnist', ...S, '--lr', lr, '--out', out]).code, 0);
  return out;
});
/** The texts an SVG draws (legend labels, titles). */
const textsOf = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);

test('two folders of different learning rates: one figure, its lines and panels labelled lr 0.1 and lr 0.5', () => {
  const before = folders.map(snapshot);
  const out = join(work, 'compared');
  const r = runCli(['plot', ...folders, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const texts = textsOf(readFileSync(join(out, 'figure1.svg'), 'utf8'));
  for (const label of ['lr 0.1: baseline', 'lr 0.1: bn', 'lr 0.5: baseline', 'lr 0.5: bn']) assert.ok(texts.includes(label), `legend holds ${label}`);
  for (const title of ['(b) lr 0.1, baseline: sigmoid input, unit 0', '(e) lr 0.5, bn: sigmoid input, unit 0']) assert.ok(texts.includes(title), title);
  assert.ok(readFileSync(join(out, 'figure1.png')).subarray(1, 4).equals(Buffer.from('PNG')));
  folders.forEach((f, i) => assert.deepEqual(snapshot(f), before[i], `${f} unchanged`));
  // A second figure into the same folder is refused; the first stays as it was.
  const svg = readFileSync(join(out, 'figure1.svg'));
  const again = runCli(['plot', ...folders, '--out', out]);
  assert.equal(again.code, 1);
  assert.equal(again.stderr, `error: ${join(out, 'figure1.svg')} already exists; choose another --out so nothing is overwritten.\n`);
  assert.deepEqual(readFileSync(join(out, 'figure1.svg')), svg);
});

test('folders whose configs agree are labelled by folder name; several folders need --out', () => {
  const twin = join(work, 'twin');
  cpSync(folders[0], twin, { recursive: true });
  const out = join(work, 'twins');
  const r = runCli(['plot', folders[0], twin, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const texts = textsOf(readFileSync(join(out, 'figure1.svg'), 'utf8'));
  assert.ok(texts.includes('lr0.1: bn') && texts.includes('twin: bn'), texts.join(' | '));
  const bare = runCli(['plot', ...folders]);
  assert.equal(bare.code, 2);
  assert.equal(bare.stderr, 'error: several run folders need --out DIR, the folder for what compares them.\n');
});

test('report of two folders: a row per network of each, its final accuracy that of its accuracy.csv', () => {
  const out = join(work, 'report');
  const r = runCli(['report', ...folders, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(join(out, 'report.md'), 'utf8'), r.stdout);
  assert.match(r.stdout, /^\| lr 0\.1 \| `.*lr0\.1` \| baseline, bn \| 0 \| 100 \| 0\.1 \|$/m);
  for (const [i, lr] of ['0.1', '0.5'].entries()) {
    for (const arm of ['baseline', 'bn']) {
      const last = readCsv(join(folders[i], 'accuracy.csv'))
        .rows.filter((row) => row.arm === arm)
        .at(-1)!;
      const row = r.stdout.split('\n').find((l) => l.startsWith(`| lr ${lr}: ${arm} | `));
      assert.equal(row?.split(' | ')[1], Number(last.test_accuracy).toFixed(4), `lr ${lr} ${arm}`);
    }
  }
  const again = runCli(['report', ...folders, '--out', out]);
  assert.equal(again.code, 1);
  assert.equal(again.stderr, `error: ${join(out, 'report.md')} already exists; choose another --out so nothing is overwritten.\n`);
});
