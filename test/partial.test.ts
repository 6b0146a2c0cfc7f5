/**
 * plot --partial and report --partial (issue 21, part 4): on a folder being trained they draw and
 * write what it holds so far into *.partial.* files, marked unfinished with the step reached;
 * without --partial they refuse as before; on an ended folder --partial changes nothing.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readCsv, runCli, settle, start, tempDir } from './helpers.js';
import { snapshot } from './folder-helpers.js';

const work = tempDir('bn-repro-partial-');
const config = join(work, 'c.json');
writeFileSync(config, JSON.stringify({ train: { checkpointEvery: 100 }, eval: { probeSize: 100 }, batchNorm: { populationBatches: 3 } }));
const S = ['--config', config, '--eval-every', '50', '--subset', '600', '--test-subset', '200', '--jobs', '1', '--data', 'embedded', '--quiet'];
const rowsOf = (dir: string) => (existsSync(join(dir, 'accuracy.csv')) ? readCsv(join(dir, 'accuracy.csv')).rows : []);
const MARK = /^\*\*UNFINISHED \(status "(\w+)"(, being written)?\): at step (\d+) of (\d+), 1 of 2 runs not started; not a final result\.\*\*$/m;

test('on a folder being trained: plot and report refuse; with --partial they write *.partial.* marked unfinished at its step', async () => {
  const dir = join(work, 'live');
  const child = start(['mnist', ...S, '--steps', '20000', '--out', dir], 'ignore');
  await settle(child, async () => {
    while (rowsOf(dir).length < 4) await new Promise((r) => setTimeout(r, 50));
    for (const verb of ['plot', 'report']) {
      const refused = runCli([verb, dir]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /^error: .* is unfinished: it is being written by `bn-repro mnist .*`.*; wait for it to end\.\n$/);
    }
    const before = Math.max(...rowsOf(dir).map((r) => Number(r.step)));
    const report = runCli(['report', dir, '--partial']);
    const after = Math.max(...rowsOf(dir).map((r) => Number(r.step)));
    assert.equal(report.code, 0, report.stderr);
    const [, status, writer, step, of] = MARK.exec(report.stdout) ?? [];
    assert.deepEqual([status, writer, of], ['running', ', being written', '20000']);
    assert.ok(Number(step) >= before && Number(step) <= after, `step ${step} within [${before}, ${after}]`);
    assert.ok(report.stdout.startsWith('**UNFINISHED') && report.stdout.trimEnd().endsWith('not a final result.**'), 'marked at the top and the end');
    assert.equal(readFileSync(join(dir, 'report.partial.md'), 'utf8'), report.stdout);
    const plot = runCli(['plot', dir, '--partial']);
    assert.equal(plot.code, 0, plot.stderr);
    assert.match(readFileSync(join(dir, 'figure1.partial.svg'), 'utf8'), /UNFINISHED \(status &quot;running&quot;, being written\): at step \d+ of 20000/);
    assert.ok(readFileSync(join(dir, 'figure1.partial.png')).subarray(1, 4).equals(Buffer.from('PNG')));
    for (const f of ['report.md', 'figure1.svg', 'figure1.png']) assert.equal(existsSync(join(dir, f)), false, `no final ${f}`);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  });
  // Killed: still unfinished, and reading it changes nothing but the partial files.
  const kept = snapshot(dir);
  const report = runCli(['report', dir, '--partial']);
  assert.equal(report.code, 0, report.stderr);
  assert.equal(MARK.exec(report.stdout)?.[1], 'running');
  assert.equal(MARK.exec(report.stdout)?.[2], undefined, 'nobody writes it now');
  const now = snapshot(dir);
  for (const [name, bytes] of kept) if (!name.includes('.partial.')) assert.equal(now.get(name), bytes, name);
  assert.deepEqual(
    [...now.keys()].filter((n) => !kept.has(n)),
    [],
  );
});

test('--partial on an ended folder writes the final outputs, as without it', () => {
  const dir = join(work, 'ended');
  assert.equal(runCli(['mnist', ...S, '--steps', '100', '--out', dir]).code, 0);
  const r = runCli(['report', dir, '--partial']);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /UNFINISHED/);
  assert.equal(readFileSync(join(dir, 'report.md'), 'utf8').length > 0, true);
  assert.equal(runCli(['plot', dir, '--partial']).code, 0);
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('partial')),
    [],
  );
  assert.equal(existsSync(join(dir, 'figure1.svg')), true);
});
