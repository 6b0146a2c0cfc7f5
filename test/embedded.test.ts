import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadEmbeddedAll, splitEmbedded } from '../src/data/embedded.js';
import { IMAGE_PIXELS, subset } from '../src/data/dataset.js';
import { Rng } from '../src/core/random.js';

const all = loadEmbeddedAll();

/** Identifies an example by its pixels, so overlap is detected whatever the indices. */
const key = (images: Float32Array, i: number) => images.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS).join(',');

test('the package holds 10,000 labelled digits with pixels in [0, 1]', () => {
  assert.equal(all.count, 10000);
  assert.equal(all.images.length, 10000 * IMAGE_PIXELS);
  for (let d = 0; d < 10; d++) assert.ok(all.labels.includes(d));
  assert.ok(all.images.every((v) => v >= 0 && v <= 1));
});

test('the seeded split is disjoint, has the asked sizes and is seed-stable', () => {
  const a = splitEmbedded(all, 8000, 2000, Rng.stream(0, 'embedded-split'));
  const b = splitEmbedded(all, 8000, 2000, Rng.stream(0, 'embedded-split'));
  const c = splitEmbedded(all, 8000, 2000, Rng.stream(1, 'embedded-split'));
  assert.equal(a.train.count, 8000);
  assert.equal(a.test.count, 2000);
  const trainKeys = new Set(Array.from({ length: a.train.count }, (_, i) => key(a.train.images, i)));
  // A few digits in the package are exact duplicates of one another; count positions, not pixels.
  const overlapping = Array.from({ length: a.test.count }, (_, i) => key(a.test.images, i)).filter((k) => trainKeys.has(k));
  const dupes = all.count - new Set(Array.from({ length: all.count }, (_, i) => key(all.images, i))).size;
  assert.ok(overlapping.length <= dupes, `${overlapping.length} test digits equal a train digit; the package has ${dupes} duplicates`);
  assert.deepEqual(a.test.labels, b.test.labels);
  assert.deepEqual(a.test.images, b.test.images);
  assert.notDeepEqual(a.test.labels, c.test.labels);
  assert.throws(() => splitEmbedded(all, 9000, 2000, Rng.stream(0, 'x')), /fewer than 9000 train \+ 2000 test/);
});

test('subsets are deterministic, sized and drawn from the split', () => {
  const s1 = subset(all, 100, Rng.stream(5, 'train-subset'));
  const s2 = subset(all, 100, Rng.stream(5, 'train-subset'));
  assert.equal(s1.count, 100);
  assert.deepEqual(s1.labels, s2.labels);
  assert.equal(subset(all, 0, Rng.stream(5, 'x')), all, '0 means the whole split');
});
