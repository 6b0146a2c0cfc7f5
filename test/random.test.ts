import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../src/core/random.js';

test('named streams are reproducible and independent', () => {
  const a = Rng.stream(3, 'init');
  const b = Rng.stream(3, 'init');
  const c = Rng.stream(3, 'shuffle');
  const d = Rng.stream(4, 'init');
  const draw = (r: Rng) => Array.from({ length: 5 }, () => r.nextUint32());
  const first = draw(a);
  assert.deepEqual(first, draw(b));
  assert.notDeepEqual(first, draw(c));
  assert.notDeepEqual(first, draw(d));
});

test('state can be saved and restored mid-stream', () => {
  const r = Rng.stream(1, 'x');
  r.uniform();
  const saved = r.state();
  const next = [r.uniform(), r.normal(), r.int(10)];
  const again = Rng.fromState(saved);
  assert.deepEqual([again.uniform(), again.normal(), again.int(10)], next);
});

test('permutation holds every index once; normal samples have mean 0 and variance 1', () => {
  const r = Rng.stream(7, 'p');
  const p = r.permutation(1000);
  assert.deepEqual(
    Array.from(p).sort((x, y) => x - y),
    Array.from({ length: 1000 }, (_, i) => i),
  );
  let sum = 0;
  let sq = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const z = r.normal();
    sum += z;
    sq += z * z;
  }
  assert.ok(Math.abs(sum / n) < 0.03, `mean ${sum / n}`);
  assert.ok(Math.abs(sq / n - 1) < 0.04, `variance ${sq / n}`);
});
