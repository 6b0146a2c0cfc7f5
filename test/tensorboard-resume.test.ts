/**
 * TensorBoard event files across a crash, damage and merge (issue 21, part 1): a SIGKILLed run,
 * resumed, holds every step once and in order; a damaged or unwritable events file is one warning
 * line and training goes on; merge carries each run's files over unchanged.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { memoryLogger } from '../src/core/logger.js';
import { tensorboardRecorder } from '../src/run/tensorboard/recorder.js';
import { readCsv, runCli, settle, start, tempDir, testConfig, waitForCheckpoint } from './helpers.js';
import { csvPoints, decodeEvents, eventFiles, eventPoints, framedRecords } from './tensorboard-decode.js';

const work = tempDir('bn-repro-tb-');
const S = ['--bn', 'on', '--steps', '600', '--eval-every', '50', '--subset', '600', '--test-subset', '200', '--jobs', '1', '--data', 'embedded', '--quiet'];
const config = join(work, 'ck.json');
writeFileSync(config, JSON.stringify({ train: { checkpointEvery: 200 }, eval: { probeSize: 100 }, batchNorm: { populationBatches: 3 } }));
/** `extra` flags replace those of S (an option given twice is a usage error). */
const train = (out: string, ...extra: string[]) => {
  const given = new Set(extra.filter((a) => a.startsWith('--')));
  const base = S.flatMap((a, i) => (a.startsWith('--') && !given.has(a) ? (S[i + 1]?.startsWith('--') || S[i + 1] === undefined ? [a] : [a, S[i + 1]]) : []));
  return ['mnist', '--config', config, ...base, '--out', out, ...extra];
};
const bnEvents = (dir: string) => eventFiles(dir).get('bn-seed0')!;
const stepsOf = (path: string) =>
  decodeEvents(readFileSync(path))
    .filter((e) => e.summary)
    .map((e) => e.step);
const tbWarnings = (stderr: string) => stderr.split('\n').filter((l) => /tfevents|TensorBoard/.test(l));

/** SIGKILLed once the run has checkpointed at step >= 200 and its events have gone past the checkpoint. */
async function killedRun(): Promise<{ dir: string; checkpoint: number }> {
  const dir = join(work, 'killed');
  const child = start(train(dir), 'ignore');
  const ckpt = join(dir, 'checkpoints', 'bn-seed0.json');
  await settle(child, async () => {
    await waitForCheckpoint(ckpt, 200, 120_000);
    const checkpoint = JSON.parse(readFileSync(ckpt, 'utf8')).step;
    const began = Date.now();
    while (Math.max(...stepsOf(bnEvents(dir)[0])) <= checkpoint) {
      if (Date.now() - began > 120_000) throw new Error('no events past the checkpoint within 120 s');
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  });
  return { dir, checkpoint: JSON.parse(readFileSync(ckpt, 'utf8')).step };
}

const killed = killedRun();
const copyOf = async (name: string) => {
  const dir = join(work, name);
  cpSync((await killed).dir, dir, { recursive: true });
  return dir;
};

test('a SIGKILLed run, resumed, has its events in one file holding every step once, equal to its CSV rows', async () => {
  const { checkpoint } = await killed;
  const dir = await copyOf('resumed');
  assert.ok(Math.max(...stepsOf(bnEvents(dir)[0])) > checkpoint, 'the killed run had written events past its checkpoint');
  const r = runCli(['mnist', '--resume', dir, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(tbWarnings(r.stderr), []);
  const [file, ...others] = bnEvents(dir);
  assert.deepEqual(others, [], 'the resumed run goes on in its file');
  assert.equal(framedRecords(readFileSync(file)).rest, 0);
  assert.equal(decodeEvents(readFileSync(file))[0].file_version, 'brain.Event:2');
  assert.deepEqual(
    stepsOf(file),
    Array.from({ length: 13 }, (_, i) => i * 50),
  );
  const points = eventPoints(dir);
  assert.equal(new Set(points).size, points.length, 'no point twice');
  assert.deepEqual(points, csvPoints(dir));
  assert.equal(readCsv(join(dir, 'accuracy.csv')).rows.length, 13);
});

test('a damaged events file: one warning line, its records before the damage kept, training goes on', async () => {
  const { checkpoint } = await killed;
  const dir = await copyOf('damaged');
  const [file] = bnEvents(dir);
  const bytes = readFileSync(file);
  const { records } = framedRecords(bytes);
  // Flip a byte inside the third record (the evaluation at step 50): the file_version and step 0 stay.
  const third = records.slice(0, 2).reduce((n, rec) => n + rec.length + 16, 0);
  bytes[third + 14] ^= 0xff;
  writeFileSync(file, bytes);
  const r = runCli(['mnist', '--resume', dir, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(tbWarnings(r.stderr), [`warning: ${file} was damaged after its first 2 events; those are kept and the run's events go on after them.`]);
  const after = Array.from({ length: 12 - checkpoint / 50 }, (_, i) => checkpoint + 50 * (i + 1));
  assert.deepEqual(stepsOf(file), [0, ...after]);
  assert.equal(readCsv(join(dir, 'accuracy.csv')).rows.length, 13, 'every row of the run');
});

test('an events file that cannot be written: one warning line, training goes on to the end', async () => {
  const dir = await copyOf('unwritable');
  const [file] = bnEvents(dir);
  rmSync(file);
  mkdirSync(file); // a folder where the file was
  const r = runCli(['mnist', '--resume', dir, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(tbWarnings(r.stderr), [
    `warning: TensorBoard event files under ${join(dir, 'tensorboard')} cannot be written (${file} is not a regular file); training goes on without them, and the CSV files hold every result.`,
  ]);
  assert.equal(readCsv(join(dir, 'accuracy.csv')).rows.length, 13);
  assert.equal(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).status, 'finished');
});

test('the recorder never throws when its folder is in the way, and warns once', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'tensorboard'), 'a file in the way');
  const logger = memoryLogger();
  const recorder = tensorboardRecorder(dir, testConfig({ eval: { units: [0] } }), logger);
  const run = { arm: 'bn', seed: 0 };
  recorder.runStarted?.(run, 100, 0);
  for (const step of [0, 50, 100]) {
    await recorder.evaluation({ ...run, step, trainLoss: 1, testLoss: 1, testAccuracy: 0.5, elapsedS: 1 }, [
      { ...run, step, layer: 2, unit: 0, percentiles: [0, 1, 2], mean: 1, std: 1 },
    ]);
  }
  await recorder.runFinished?.({ ...run, steps: 100, wallS: 1, stepsPerSecond: 100, finalTestAccuracy: 0.5, finalTestLoss: 1, bestTestAccuracy: 0.5 });
  await recorder.close();
  assert.equal(logger.lines.length, 1, logger.lines.join('\n'));
  assert.equal(
    logger.lines[0],
    `warning: TensorBoard event files under ${join(dir, 'tensorboard')} cannot be written (${join(dir, 'tensorboard')} is not a folder of the run's own); training goes on without them, and the CSV files hold every result.`,
  );
});

test("merge carries each run's event files over unchanged", () => {
  const parts = [0, 1].map((seed) => {
    const out = join(work, `seed${seed}`);
    assert.equal(runCli(train(out, '--steps', '100', '--seed', String(seed))).code, 0);
    return out;
  });
  const merged = join(work, 'merged');
  const r = runCli(['merge', ...parts, '--out', merged]);
  assert.equal(r.code, 0, r.stderr);
  const files = eventFiles(merged);
  assert.deepEqual([...files.keys()].sort(), ['bn-seed0', 'bn-seed1']);
  parts.forEach((part, seed) => {
    const [source] = eventFiles(part).get(`bn-seed${seed}`)!;
    const [copy, ...more] = files.get(`bn-seed${seed}`)!;
    assert.deepEqual(more, []);
    assert.equal(copy.split('/').pop(), source.split('/').pop());
    assert.deepEqual(readFileSync(copy), readFileSync(source));
  });
  assert.deepEqual(eventPoints(merged), csvPoints(merged));
});
