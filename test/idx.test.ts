import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeIdx, parseIdx } from '../src/data/idx.js';
import { splitFromIdx } from '../src/data/mnist-files.js';
import { UserError } from '../src/core/errors.js';

const twoImages = () =>
  encodeIdx(
    [2, 28, 28],
    Uint8Array.from({ length: 2 * 784 }, (_, i) => i % 256),
  );
const twoLabels = () => encodeIdx([2], Uint8Array.from([3, 7]));

test('parses a good IDX file: dimensions and payload', () => {
  const parsed = parseIdx(twoImages(), 3, 'imgs');
  assert.deepEqual(parsed.dims, [2, 28, 28]);
  assert.equal(parsed.data.length, 2 * 784);
  assert.equal(parsed.data[257], 1);
});

test('builds a split scaled to [0,1] with its labels', () => {
  const split = splitFromIdx(twoImages(), twoLabels(), 'x');
  assert.equal(split.count, 2);
  assert.deepEqual(Array.from(split.labels), [3, 7]);
  assert.equal(split.images[255], 1);
  assert.equal(split.images[51], Math.fround(51 / 255));
});

test('rejects a wrong magic number, naming the file', () => {
  const bytes = twoImages();
  bytes[2] = 0x0d; // float type instead of unsigned byte
  assert.throws(
    () => parseIdx(bytes, 3, 'train images'),
    (e: Error) => e instanceof UserError && /train images has magic number 0x00000d03/.test(e.message),
  );
  assert.throws(() => parseIdx(twoLabels(), 3, 'labels'), /magic number 0x00000801, expected 0x00000803/);
});

test('rejects truncated files and trailing bytes', () => {
  const bytes = twoImages();
  assert.throws(() => parseIdx(bytes.subarray(0, bytes.length - 10), 3, 'f'), /f is truncated: header dimensions 2x28x28 need 1568 bytes, found 1558/);
  assert.throws(() => parseIdx(bytes.subarray(0, 6), 3, 'f'), /truncated inside its IDX header/);
  assert.throws(() => parseIdx(bytes.subarray(0, 2), 3, 'f'), /too short for an IDX header/);
  const longer = new Uint8Array(bytes.length + 1);
  longer.set(bytes);
  assert.throws(() => parseIdx(longer, 3, 'f'), /has trailing bytes/);
});

test('rejects images and labels whose counts differ', () => {
  const threeLabels = encodeIdx([3], Uint8Array.from([1, 2, 3]));
  assert.throws(() => splitFromIdx(twoImages(), threeLabels, 'training'), /training images and labels disagree: 2 images but 3 labels/);
});

test('rejects labels outside 0..9 and images that are not 28x28', () => {
  assert.throws(() => splitFromIdx(twoImages(), encodeIdx([2], Uint8Array.from([3, 12])), 't'), /labels hold 12 at index 1/);
  const small = encodeIdx([2, 27, 28], new Uint8Array(2 * 27 * 28));
  assert.throws(() => splitFromIdx(small, twoLabels(), 't'), /27x28, expected 28x28/);
});
