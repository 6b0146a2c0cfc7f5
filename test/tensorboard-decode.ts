/**
 * A reader of TensorBoard event files for the tests, written from the format and not from our
 * writer: TFRecord framing read byte by byte with its CRCs checked by TensorFlow's masking formula
 * (on the `crc-32` package's CRC32C), and each Event decoded by protobufjs from the message text of
 * tensorflow/core/util/event.proto and tensorflow/core/framework/summary.proto (fields we use).
 * Also: the rows of a run folder's CSVs as the (run, tag, step, value) points the events must hold.
 */
import crc32c from 'crc-32/crc32c.js';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { readCsv } from './helpers.js';

/** Copied field for field (names, numbers, types) from TensorFlow's event.proto and summary.proto. */
const PROTO = `
syntax = "proto3";
package tensorflow;
message Summary {
  message Value {
    string node_name = 7;
    string tag = 1;
    oneof value {
      float simple_value = 2;
      bytes obsolete_old_style_histogram = 3;
    }
  }
  repeated Value value = 1;
}
message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    bytes graph_def = 4;
    Summary summary = 5;
  }
}`;

const Event = protobuf.parse(PROTO, { keepCase: true }).root.lookupType('tensorflow.Event');

export const mask = (crc: number) => ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
const maskedCrc = (b: Uint8Array) => mask(crc32c.buf(b) >>> 0);

export interface DecodedEvent {
  wall_time: number;
  step: number;
  file_version?: string;
  summary?: { value: { tag: string; simple_value: number }[] };
}

/** The whole records of `bytes`, stopping at a cut or bad record; `rest` = bytes after the last whole one. */
export function framedRecords(bytes: Buffer): { records: Buffer[]; rest: number } {
  const records: Buffer[] = [];
  let at = 0;
  while (at + 12 <= bytes.length) {
    const header = bytes.subarray(at, at + 8);
    if (bytes.readUInt32LE(at + 8) !== maskedCrc(header)) break;
    const length = Number(bytes.readBigUInt64LE(at));
    if (at + 16 + length > bytes.length) break;
    const data = bytes.subarray(at + 12, at + 12 + length);
    if (bytes.readUInt32LE(at + 12 + length) !== maskedCrc(data)) break;
    records.push(data);
    at += 16 + length;
  }
  return { records, rest: bytes.length - at };
}

export function decodeEvents(bytes: Buffer): DecodedEvent[] {
  return framedRecords(bytes).records.map((r) => Event.toObject(Event.decode(r), { longs: Number, defaults: true }) as DecodedEvent);
}

/** The events files of each run's log folder under DIR/tensorboard: run name -> file paths. */
export function eventFiles(dir: string): Map<string, string[]> {
  const root = join(dir, 'tensorboard');
  return new Map(readdirSync(root).map((run) => [run, readdirSync(join(root, run)).map((f) => join(root, run, f))]));
}

/** Every scalar of a folder's events as "run tag step value" lines (value as float32), sorted. */
export function eventPoints(dir: string): string[] {
  const out: string[] = [];
  for (const [run, files] of eventFiles(dir)) {
    for (const f of files) {
      for (const e of decodeEvents(readFileSync(f))) for (const v of e.summary?.value ?? []) out.push(`${run} ${v.tag} ${e.step} ${v.simple_value}`);
    }
  }
  return out.sort();
}

/** A CSV cell as the float32 TensorBoard holds; '' is no value. */
const f32 = (cell: string) => Math.fround(cell === 'nan' ? NaN : cell === 'inf' ? Infinity : cell === '-inf' ? -Infinity : Number(cell));

/** The tag of each value column, as the README's table of TensorBoard tags gives it. */
const ACCURACY_TAGS: Record<string, string> = { train_loss: 'loss/train', test_loss: 'loss/test', test_accuracy: 'accuracy/test', elapsed_s: 'time/elapsed_s' };

/** Every value cell of the folder's CSVs as "run tag step value" lines, sorted. */
export function csvPoints(dir: string): string[] {
  const out: string[] = [];
  const add = (file: string, tagOf: (row: Record<string, string>, column: string) => string | undefined) => {
    const { rows } = readCsv(join(dir, file));
    for (const row of rows) {
      for (const [column, cell] of Object.entries(row)) {
        const tag = tagOf(row, column);
        if (tag !== undefined && cell !== '') out.push(`${row.arm}-seed${row.seed} ${tag} ${row.step} ${f32(cell)}`);
      }
    }
  };
  const keys = new Set(['arm', 'seed', 'step', 'layer', 'unit']);
  add('accuracy.csv', (_r, c) => ACCURACY_TAGS[c]);
  add('activations.csv', (r, c) => (keys.has(c) ? undefined : `activations/layer${r.layer}_unit${r.unit}/${c}`));
  const files = readdirSync(dir);
  if (files.includes('ics.csv')) add('ics.csv', (r, c) => (keys.has(c) ? undefined : `ics/layer${r.layer}/${c}`));
  if (files.includes('landscape.csv')) add('landscape.csv', (_r, c) => (keys.has(c) ? undefined : `landscape/${c}`));
  return out.sort();
}
