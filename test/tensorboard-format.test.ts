/**
 * TensorBoard event files against the format (issue 21, parts 1 and 2): the CRC32C check value and
 * TensorFlow's masking, framing that a cut or damaged file reads back to its whole records, and a
 * tiny embedded run whose events, decoded by protobufjs from TensorBoard's messages, hold exactly
 * the rows of its CSVs; `--tensorboard off` writes none.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { EventCodec } from '../src/run/tensorboard/event.js';
import { CRC_MASK_DELTA, crc32c, frameRecord, maskedCrc32c, readRecords } from '../src/run/tensorboard/tfrecord.js';
import { runCli, tempDir } from './helpers.js';
import { csvPoints, decodeEvents, eventFiles, eventPoints, framedRecords, mask } from './tensorboard-decode.js';

const tiny = ['--data', 'embedded', '--steps', '60', '--eval-every', '20', '--subset', '600', '--test-subset', '200', '--jobs', '1', '--quiet'];

test('CRC32C gives the published check value, and the stored CRCs are masked as TensorFlow masks them', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(CRC_MASK_DELTA, 0xa282ead8);
  // By hand: 0xE3069283 rotated right by 15 is 0x2507C60D; plus 0xA282EAD8 (mod 2^32) is 0xC78AB0E5.
  assert.equal(maskedCrc32c(Buffer.from('123456789')), 0xc78ab0e5);
  assert.equal(mask(0xe3069283), 0xc78ab0e5);
  const record = frameRecord(Buffer.from('abc'));
  assert.equal(record.length, 8 + 4 + 3 + 4);
  assert.equal(record.readBigUInt64LE(0), 3n);
  assert.equal(record.readUInt32LE(8), mask(crc32c(record.subarray(0, 8))));
  assert.equal(record.subarray(12, 15).toString(), 'abc');
  assert.equal(record.readUInt32LE(15), mask(crc32c(Buffer.from('abc'))));
});

test('a file cut anywhere inside a record reads back every whole record before the cut', () => {
  const codec = new EventCodec();
  const records = [
    codec.fileVersion(1),
    codec.scalars(2, 10, [{ tag: 'loss/test', value: 0.5 }]),
    codec.scalars(3, 20, [{ tag: 'loss/test', value: 0.25 }]),
  ].map(frameRecord);
  const file = Buffer.concat(records);
  const ends = records.map((_, i) => records.slice(0, i + 1).reduce((n, r) => n + r.length, 0));
  for (let cut = 0; cut <= file.length; cut++) {
    const whole = ends.filter((e) => e <= cut).length;
    const ours = readRecords(file.subarray(0, cut));
    assert.equal(ours.records.length, whole, `cut at ${cut}`);
    assert.equal(ours.stop, ends.includes(cut) || cut === 0 ? 'end' : 'cut', `cut at ${cut}`);
    assert.equal(framedRecords(file.subarray(0, cut)).records.length, whole, `cut at ${cut} (format reader)`);
  }
  const events = decodeEvents(file);
  assert.deepEqual(
    events.map((e) => [e.step, e.wall_time, e.file_version ?? '', e.summary?.value.map((v) => [v.tag, v.simple_value]) ?? []]),
    [
      [0, 1, 'brain.Event:2', []],
      [10, 2, '', [['loss/test', 0.5]]],
      [20, 3, '', [['loss/test', 0.25]]],
    ],
  );
  // One flipped byte in the second record's data: the first record only, and the reason.
  const damaged = Buffer.from(file);
  damaged[ends[0] + 14] ^= 0xff;
  assert.deepEqual([readRecords(damaged).records.length, readRecords(damaged).stop], [1, 'damaged']);
  assert.equal(framedRecords(damaged).records.length, 1);
});

test('the events of a tiny embedded run decode to exactly the rows of its CSVs (every tag, step and value)', () => {
  const out = join(tempDir(), 'run');
  const r = runCli(['mnist', ...tiny, '--landscape-every', '2', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const files = eventFiles(out);
  assert.deepEqual([...files.keys()].sort(), ['baseline-seed0', 'bn-seed0']);
  for (const [run, paths] of files) {
    assert.equal(paths.length, 1, run);
    const name = paths[0].split('/').pop()!;
    const [, seconds, host] = /^events\.out\.tfevents\.(\d+)\.(.+)$/.exec(name) ?? [];
    assert.equal(host, hostname(), name);
    const events = decodeEvents(readFileSync(paths[0]));
    assert.equal(framedRecords(readFileSync(paths[0])).rest, 0, 'no bytes after the last whole record');
    assert.equal(events[0].file_version, 'brain.Event:2');
    assert.ok(Math.abs(events[0].wall_time - Number(seconds)) < 2, 'the name holds the start time in seconds');
    const steps = events.slice(1).map((e) => e.step);
    assert.deepEqual([...new Set(steps)], [0, 20, 40, 60], `${run}: an event (or two, with a measurement) per evaluation, in order`);
  }
  const expected = csvPoints(out);
  // 2 runs x 4 evaluations x (4 accuracy values - no train loss at step 0) + 5 units x 5 activation values;
  // ICS (4 layers x 2) and the landscape (4) at every 2nd evaluation: steps 0, 40 and 60 (the last).
  assert.equal(expected.length, 2 * (4 * 4 - 1 + 4 * 25 + 3 * (8 + 4)));
  assert.deepEqual(eventPoints(out), expected);
});

test('--tensorboard off writes no event files; a bad value is one usage error', () => {
  const out = join(tempDir(), 'run');
  const r = runCli(['mnist', ...tiny, '--tensorboard', 'off', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(existsSync(join(out, 'tensorboard')), false);
  assert.deepEqual(readdirSync(out).sort(), ['accuracy.csv', 'activations.csv', 'checkpoints', 'run.json']);
  assert.equal(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).config.tensorboard, 'off');
  const bad = runCli(['mnist', ...tiny, '--tensorboard', 'maybe', '--out', join(tempDir(), 'run')]);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr, 'error: --tensorboard: config key "tensorboard" must be one of "on", "off" (got "maybe").\n');
});
