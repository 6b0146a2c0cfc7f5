import assert from 'node:assert/strict';
import { test } from 'node:test';
import { meanAndPopulationStd, percentiles } from '../src/model/metrics.js';
import { assertClose } from './helpers.js';

test('percentiles interpolate linearly between order statistics (NumPy default)', () => {
  // numpy.percentile([1, 2, 3, 4, 5], [0, 15, 50, 85, 100]) = [1, 1.6, 3, 4.4, 5]
  const got = percentiles([5, 3, 1, 4, 2], [0, 15, 50, 85, 100]);
  [1, 1.6, 3, 4.4, 5].forEach((want, i) => assertClose(got[i], want, 1e-12, `p[${i}]`));
  // numpy.percentile([10, 20, 40, 80], [15, 50, 85]) = [14.5, 30, 62]
  const two = percentiles(Float32Array.from([80, 10, 40, 20]), [15, 50, 85]);
  [14.5, 30, 62].forEach((want, i) => assertClose(two[i], want, 1e-9, `q[${i}]`));
});

test('percentiles of one value are that value, and input is left unsorted', () => {
  assert.deepEqual(percentiles([7], [15, 85]), [7, 7]);
  const data = [3, 1, 2];
  percentiles(data, [50]);
  assert.deepEqual(data, [3, 1, 2]);
  assert.throws(() => percentiles([], [50]), /empty/);
});

test('meanAndPopulationStd uses the population standard deviation', () => {
  const { mean, std } = meanAndPopulationStd([2, 4, 4, 4, 5, 5, 7, 9]);
  assert.equal(mean, 5);
  assert.equal(std, 2);
});
