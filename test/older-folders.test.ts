/**
 * A run folder written by an earlier bn-repro, before config keys it now has existed: its run.json
 * and checkpoints carry the digest of the config as it was saved (without those keys). Such a
 * folder must stay trusted, resumable and readable: the digest covers the config as the file holds
 * it, and a resume writes that config back unchanged rather than today's resolved one (which would
 * give run.json a new digest and orphan the checkpoints' old one).
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ckpt, editCheckpoint, forgedDigest, interruptedRun, runJson } from './folder-fixtures.js';
import { editJson, readJson } from './folder-helpers.js';
import { runCli } from './helpers.js';

/** Makes `dir` look written before these keys existed, its digests as that version wrote them. */
function asWrittenBeforeNewKeys(dir: string): string {
  let digest = '';
  editJson(runJson(dir), (v) => {
    delete v.config.train.momentum;
    delete v.config.lockstep;
    delete v.config.deviceResident;
    delete v.config.model.kind;
    delete v.config.model.convLayers;
    delete v.config.model.activation;
    digest = forgedDigest(v);
    v.digest = digest;
  });
  for (const f of readdirSync(join(dir, 'checkpoints'))) editCheckpoint(join(dir, 'checkpoints', f), (c) => (c.digest = digest));
  return digest;
}

test('an interrupted folder from before keys were added resumes, keeps its saved config and digest, and reads back', async () => {
  const dir = await interruptedRun('older-version');
  assert.ok(readJson(ckpt(dir)).step >= 300, 'the BN run checkpointed before the interrupt');
  const digest = asWrittenBeforeNewKeys(dir);
  const resumed = runCli(['mnist', '--resume', dir, '--quiet']);
  assert.equal(resumed.code, 0, resumed.stderr);
  const after = readJson(runJson(dir));
  assert.equal(after.status, 'finished');
  assert.equal(after.digest, digest, 'run.json keeps the digest it was written with');
  assert.equal(after.config.train.momentum, undefined, 'run.json keeps its config as saved');
  for (const f of readdirSync(join(dir, 'checkpoints'))) assert.equal(readJson(join(dir, 'checkpoints', f)).digest, digest, f);
  // Read back after the resume: every part of the folder still agrees.
  const report = runCli(['report', dir]);
  assert.equal(report.code, 0, report.stderr);
  assert.match(readFileSync(join(dir, 'report.md'), 'utf8'), /## Test accuracy/);
  const again = runCli(['mnist', '--resume', dir, '--quiet']);
  assert.equal(again.code, 0, again.stderr);
});
