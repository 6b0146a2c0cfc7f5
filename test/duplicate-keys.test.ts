/**
 * A config key given twice is a usage error naming it (issue 17, probed beyond the list:
 * `{"train":{"steps":100,"steps":200}}` used to train 200 steps silently).
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { firstDuplicateKey } from '../src/config/duplicate-keys.js';
import { runCli, tempDir } from './helpers.js';

test('firstDuplicateKey: the dotted path of the first repeated key, nested and in lists; none for keys repeated in different objects', () => {
  assert.equal(firstDuplicateKey('{"train":{"steps":100,"steps":200}}'), 'train.steps');
  assert.equal(firstDuplicateKey('{"a":1,"a":2}'), 'a');
  assert.equal(firstDuplicateKey('{"x":{"y":{"z":1,"z":2}}}'), 'x.y.z');
  assert.equal(firstDuplicateKey('{"sweep":[{"name":"x","name":"y"}]}'), 'sweep.name');
  assert.equal(firstDuplicateKey('{"a":1,"b":{"a":2}}'), undefined);
  assert.equal(firstDuplicateKey('{"sweep":[{"name":"x"},{"name":"y"}]}'), undefined);
});

test('mnist --config with a key given twice: exit 2, one sentence naming the key, nothing written', () => {
  const dir = tempDir();
  const config = join(dir, 'dup.json');
  writeFileSync(config, '{"train":{"steps":100,"steps":200},"data":{"source":"embedded"}}');
  const out = join(dir, 'run');
  const r = runCli(['mnist', '--config', config, '--out', out, '--quiet']);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr, `error: Config file ${config} gives key "train.steps" twice; give it once.\n`);
  assert.equal(existsSync(out), false);
});
