/**
 * Issue 19 item 6: a run.json without its "planned" list. Its digest covers the config and data,
 * not "planned", so an edit that drops the list passes the digest check; --resume then crashed with
 * exit 70 (a bug). Now --resume refuses in one sentence naming run.json and "planned", the folder
 * byte for byte unchanged; report, plot and merge still read a finished folder without it (its
 * runs are then its config's, as for folders older than shards).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { copyOf, editJson, readJson, snapshot } from './folder-helpers.js';
import { finishedRun, interruptedRun, runCases, runJson, type Scene } from './folder-fixtures.js';
import { runCli, tempDir } from './helpers.js';

let killed = '';
let finished = '';
before(async () => {
  killed = await interruptedRun('int1');
  finished = finishedRun('reference');
});

const withoutPlanned = (template: () => string) => (): Scene => {
  const dir = copyOf(template());
  editJson(runJson(dir), (v) => delete v.planned);
  return { args: ['mnist', '--resume', dir], unchanged: [dir] };
};
const NO_PLANNED = /run\.json is damaged: it has no "planned" list of the runs it holds, so --resume cannot tell which runs to continue\./;

runCases('resume', [
  ['an interrupted folder whose run.json lost "planned"', withoutPlanned(() => killed), 1, NO_PLANNED],
  ['a finished folder whose run.json lost "planned"', withoutPlanned(() => finished), 1, NO_PLANNED],
  [
    '"planned" set to null',
    () => {
      const dir = copyOf(killed);
      editJson(runJson(dir), (v) => (v.planned = null));
      return { args: ['mnist', '--resume', dir], unchanged: [dir] };
    },
    1,
    /run\.json is damaged: field "planned": .*expected array, received null/,
  ],
]);

test('report, plot and merge read a finished folder without "planned" as holding its config\'s runs', () => {
  const dir = copyOf(finished);
  editJson(runJson(dir), (v) => delete v.planned);
  const before = snapshot(dir);
  const report = runCli(['report', dir, '--quiet']);
  assert.equal(report.code, 0, report.stderr);
  assert.ok(existsSync(join(dir, 'report.md')));
  const plot = runCli(['plot', dir, '--quiet']);
  assert.equal(plot.code, 0, plot.stderr);
  assert.ok(existsSync(join(dir, 'figure1.png')));
  // Only report's and plot's own files were added: every file the run wrote is as it was.
  const after = snapshot(dir);
  for (const [name, bytes] of before) assert.equal(after.get(name), bytes, `${name} changed`);
  const merged = join(tempDir(), 'merged');
  const merge = runCli(['merge', dir, '--out', merged, '--quiet']);
  assert.equal(merge.code, 0, merge.stderr);
  assert.deepEqual(readJson(runJson(merged)).planned, ['baseline/0', 'bn/0']);
  assert.equal(readJson(runJson(merged)).status, 'finished');
  // The merged folder has its list again, so --resume no longer refuses it: nothing is left to train.
  const resumed = runCli(['mnist', '--resume', merged]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr + resumed.stdout, /nothing to resume/);
  assert.doesNotMatch(resumed.stderr, /error:/);
});
