/**
 * What a user reads after a run and in its figures (issue 19, parts 2 and 3): the next-steps line,
 * the listing of a folder of run folders, short runs' reports, and the figures' vega-lite specs
 * (series, domains, colours, legend order), checked on a tiny 2-seed run and a tiny sweep.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli, tempDir, type CliResult } from './helpers.js';

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
