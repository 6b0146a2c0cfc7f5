/**
 * The README's plotting recipes (docs/recipes/figure1.py with pandas + matplotlib,
 * docs/recipes/figure1a.gp with gnuplot) run as the README shows them on the folders it
 * recommends: a 2-seed run and a sweep, both made here by the CLI on embedded digits. They must
 * write a real PNG into the run folder (touching nothing else there) and draw the seed mean of the
 * networks asked for by name. Where python3 with pandas and matplotlib, or gnuplot, is missing the
 * tests skip with that reason, unless BN_REPRO_REQUIRE_RECIPES=1 (CI installs them from Debian).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { snapshot } from './folder-helpers.js';
import { ROOT, readCsv, runCli, tempDir, tinySweepConfig } from './helpers.js';

const REQUIRED = process.env.BN_REPRO_REQUIRE_RECIPES === '1';
/** A hung plotting tool is killed (SIGKILL) and fails the test. */
const TOOL_TIMEOUT_MS = 120_000;
const PYTHON_RECIPE = 'docs/recipes/figure1.py';
const GNUPLOT_RECIPE = join(ROOT, 'docs', 'recipes', 'figure1a.gp');

function tool(command: string, args: string[], cwd = ROOT) {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: TOOL_TIMEOUT_MS, killSignal: 'SIGKILL' });
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', failed: r.error };
}

/** The first python3 that imports pandas and matplotlib ($BN_REPRO_PYTHON, then PATH, then Debian's). */
const python = [process.env.BN_REPRO_PYTHON, 'python3', '/usr/bin/python3']
  .filter((p): p is string => Boolean(p))
  .find((p) => tool(p, ['-c', 'import pandas, matplotlib']).code === 0);
const haveGnuplot = tool('gnuplot', ['-e', 'set terminal pngcairo']).code === 0;
const skipReason = (have: boolean, what: string) =>
  have || REQUIRED ? false : `${what} is not installed here (CI installs it; BN_REPRO_REQUIRE_RECIPES=1 makes this a failure)`;
const skipPython = skipReason(python !== undefined, 'python3 with pandas and matplotlib');
const skipGnuplot = skipReason(haveGnuplot, 'gnuplot with the pngcairo terminal');
/** The interpreter, or a failure that says why (reached only when BN_REPRO_REQUIRE_RECIPES=1 forbids the skip). */
const py = (): string => python ?? assert.fail('no python3 with pandas and matplotlib here, and BN_REPRO_REQUIRE_RECIPES=1');

const work = tempDir('bn-repro-recipes-');
const twoSeeds = join(work, 'two-seeds');
const sweep = join(work, 'sweep');

before(() => {
  if (skipPython && skipGnuplot) return;
  const tiny = join(work, 'tiny.json');
  writeFileSync(
    tiny,
    JSON.stringify({
      train: { steps: 300 },
      eval: { every: 100, probeSize: 200, units: [0, 1] },
      batchNorm: { populationBatches: 3 },
      data: { source: 'embedded', trainSubset: 1000, testSubset: 300 },
    }),
  );
  const run = runCli(['mnist', '--config', tiny, '--seeds', '2', '--out', twoSeeds, '--quiet']);
  assert.equal(run.code, 0, run.stderr);
  const sweepConfig = tinySweepConfig(work, 'sweep', {
    sweep: [
      { name: 'baseline', bn: false, lrMultiplier: 1 },
      { name: 'bn', bn: true, lrMultiplier: 1 },
      { name: 'bn-x5', bn: true, lrMultiplier: 5 },
      { name: 'baseline-x5', bn: false, lrMultiplier: 5 },
    ],
  });
  const swept = runCli(['sweep', sweepConfig, '--out', sweep, '--quiet']);
  assert.equal(swept.code, 0, swept.stderr);
});

/** Asserts that `dir` holds what `before` held, byte for byte, plus exactly the file `added`. */
function assertOnlyAdded(dir: string, before: Map<string, string>, added: string): void {
  const now = snapshot(dir);
  assert.deepEqual(
    [...now.keys()].filter((k) => !before.has(k)),
    [added],
  );
  for (const [name, bytes] of before) assert.equal(now.get(name), bytes, `${name} changed`);
}

/** Width and height of a PNG file, after checking its signature, IHDR, IEND and a non-trivial size. */
function pngSize(path: string): { width: number; height: number } {
  const png = readFileSync(path);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${path} is not a PNG`);
  assert.equal(png.toString('latin1', 12, 16), 'IHDR');
  assert.equal(png.toString('latin1', png.length - 8, png.length - 4), 'IEND', `${path} is truncated`);
  assert.ok(png.length > 10_000, `${path} is only ${png.length} bytes: nothing drawn`);
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/** Each network's mean test accuracy over seeds at its last step, and the seed count, from accuracy.csv. */
function finalMeans(dir: string): Map<string, { step: number; mean: number; seeds: number }> {
  const rows = readCsv(join(dir, 'accuracy.csv')).rows;
  const out = new Map<string, { step: number; mean: number; seeds: number }>();
  for (const arm of new Set(rows.map((r) => r.arm))) {
    const own = rows.filter((r) => r.arm === arm);
    const step = Math.max(...own.map((r) => Number(r.step)));
    const last = own.filter((r) => Number(r.step) === step).map((r) => Number(r.test_accuracy));
    out.set(arm, { step, mean: last.reduce((a, b) => a + b, 0) / last.length, seeds: last.length });
  }
  return out;
}

/** Runs the Python recipe as the README shows it, from the project root, and checks what it drew. */
function checkPython(dir: string, nets: string[] | undefined): void {
  const before = snapshot(dir);
  const r = tool(py(), [PYTHON_RECIPE, dir, ...(nets ? ['--nets', ...nets] : [])]);
  assert.equal(r.code, 0, `${r.stderr}${r.failed ?? ''}`);
  const drawn = nets ?? ['baseline', 'bn'];
  const expected = finalMeans(dir);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, drawn.length + 1, r.stdout);
  drawn.forEach((net, i) => {
    const m = /^(\S+): final test accuracy ([\d.]+) at step (\d+), mean of (\d+) seed\(s\)$/.exec(lines[i]);
    assert.ok(m, `unexpected line: ${lines[i]}`);
    const want = expected.get(net)!;
    assert.equal(m[1], net);
    assert.ok(Math.abs(Number(m[2]) - want.mean) <= 5e-7, `${net}: printed ${m[2]}, the CSV's seed mean is ${want.mean}`);
    assert.equal(Number(m[3]), want.step);
    assert.equal(Number(m[4]), 2);
  });
  const png = join(dir, 'figure1-matplotlib.png');
  assert.equal(lines.at(-1), `wrote ${png}`);
  // Panel (a) plus one percentile panel per network, 4 x 3.4 inches each at 150 dpi.
  assert.deepEqual(pngSize(png), { width: 600 * (drawn.length + 1), height: 510 });
  assertOnlyAdded(dir, before, 'figure1-matplotlib.png');
}

test('the Python recipe draws the seed mean of baseline and bn of a 2-seed run into its folder', { skip: skipPython }, () => {
  checkPython(twoSeeds, undefined);
});

test("the Python recipe picks a sweep's networks by name", { skip: skipPython }, () => {
  checkPython(sweep, ['baseline-x5', 'bn-x5', 'bn']);
});

test('the Python recipe names the networks or units a folder has when asked for one it lacks, and refuses a folder that is no run', {
  skip: skipPython,
}, () => {
  const before = snapshot(sweep);
  const r = tool(py(), [PYTHON_RECIPE, sweep, '--nets', 'bn-x30']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim(), `no network ['bn-x30'] in ${sweep}; it has ['baseline', 'baseline-x5', 'bn', 'bn-x5']`);
  assert.deepEqual(snapshot(sweep), before);
  const noUnit = tool(py(), [PYTHON_RECIPE, sweep, '--unit', '7']);
  assert.equal(noUnit.code, 1);
  assert.equal(noUnit.stderr.trim(), `unit 7 is not recorded in ${sweep}; it has [0, 1]`);
  assert.deepEqual(snapshot(sweep), before);
  const notRun = tool(py(), [PYTHON_RECIPE, work]);
  assert.equal(notRun.code, 1);
  assert.equal(notRun.stderr.trim(), `no accuracy.csv in ${work}: give a run folder of bn-repro mnist, sweep or merge`);
});

/** Runs the gnuplot recipe from another working folder; returns the table gnuplot drew, per network. */
function runGnuplot(cwd: string, run: string, nets: string | undefined, table?: string) {
  const vars = [`run='${run}'`, ...(nets ? [`nets='${nets}'`] : []), ...(table ? [`set table '${table}'`] : [])].join('; ');
  const r = tool('gnuplot', ['-e', vars, GNUPLOT_RECIPE], cwd);
  assert.equal(r.code, 0, `${r.stderr}${r.failed ?? ''}`);
  assert.equal(r.stderr, '');
}

/** gnuplot's `set table` output: one block per curve, titled, of "x y type" lines. */
function readTable(path: string): Map<string, Array<[number, number]>> {
  const curves = new Map<string, Array<[number, number]>>();
  let points: Array<[number, number]> = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const title = /^# Curve title: "(.*)"$/.exec(line);
    if (title) {
      points = [];
      curves.set(title[1], points);
    } else if (/^\s*-?\d/.test(line)) points.push(line.trim().split(/\s+/).slice(0, 2).map(Number) as [number, number]);
  }
  return curves;
}

function checkGnuplot(folderName: string, nets: string | undefined): void {
  const dir = join(work, folderName);
  const before = snapshot(dir);
  // The same script drawing into a table (first: under `set table` it leaves an empty PNG behind).
  const table = join(tempDir(), 'table.txt');
  runGnuplot(work, folderName, nets, table);
  runGnuplot(work, folderName, nets);
  pngSize(join(dir, 'figure1a-gnuplot.png'));
  assertOnlyAdded(dir, before, 'figure1a-gnuplot.png');
  // Each curve is its network's seed mean at every step.
  const curves = readTable(table);
  const drawn = (nets ?? 'baseline bn').split(' ');
  assert.deepEqual([...curves.keys()], drawn);
  const rows = readCsv(join(dir, 'accuracy.csv')).rows;
  for (const net of drawn) {
    const steps = [...new Set(rows.filter((r) => r.arm === net).map((r) => Number(r.step)))].sort((a, b) => a - b);
    const want = steps.map((step) => {
      const at = rows.filter((r) => r.arm === net && Number(r.step) === step).map((r) => Number(r.test_accuracy));
      assert.equal(at.length, 2, `${net} at step ${step}`);
      return [step, (at[0] + at[1]) / 2];
    });
    const got = curves.get(net)!;
    assert.deepEqual(
      got.map((p) => p[0]),
      steps,
      net,
    );
    got.forEach(([, y], i) => assert.ok(Math.abs(y - want[i][1]) <= 1e-5, `${net} at step ${steps[i]}: gnuplot drew ${y}, the seed mean is ${want[i][1]}`));
  }
}

test("the gnuplot recipe draws a 2-seed run's seed means into its folder, from another working folder", { skip: skipGnuplot }, () => {
  checkGnuplot('two-seeds', undefined);
});

test("the gnuplot recipe picks a sweep's networks by name", { skip: skipGnuplot }, () => {
  checkGnuplot('sweep', 'baseline-x5 bn-x5');
});

test('the README shows the gnuplot recipe verbatim and runs the Python recipe by its path', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const gp = readFileSync(GNUPLOT_RECIPE, 'utf8');
  assert.ok(readme.includes(`\`\`\`gnuplot\n${gp}\`\`\``), 'README.md does not show docs/recipes/figure1a.gp verbatim');
  assert.match(readme, /python3 docs\/recipes\/figure1\.py results\/\S+/);
  assert.match(readme, /python3 docs\/recipes\/figure1\.py results\/\S+ --nets /);
});
