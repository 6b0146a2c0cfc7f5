/**
 * The evaluation schedule (src/config/schedule.ts): evalStepsUpTo, which strides over multiples
 * of eval.every, gives exactly what the step-by-step loop over evaluatesAt gave, on random
 * schedules (fast-check), and a hand-listed case.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evalStepsUpTo, evaluatesAt } from '../src/config/schedule.js';
import { testConfig } from './helpers.js';

/** The former O(train.steps) definition: every step from 1 to min(end, steps) that evaluatesAt accepts. */
function loopedEvalSteps(config: ReturnType<typeof testConfig>, end: number, ended: boolean): number[] {
  const steps = new Set<number>([0]);
  for (let s = 1; s <= Math.min(end, config.train.steps); s++) if (evaluatesAt(config, s)) steps.add(s);
  if (ended) steps.add(end);
  return [...steps].sort((a, b) => a - b);
}

test('evalStepsUpTo: 0, every 300, the last step, and where an ended run stopped (hand-listed)', () => {
  const config = testConfig({ train: { steps: 1000 }, eval: { every: 300 } });
  assert.deepEqual(evalStepsUpTo(config, 1000, true), [0, 300, 600, 900, 1000]);
  assert.deepEqual(evalStepsUpTo(config, 1000, false), [0, 300, 600, 900, 1000]);
  assert.deepEqual(evalStepsUpTo(config, 650, false), [0, 300, 600]);
  assert.deepEqual(evalStepsUpTo(config, 650, true), [0, 300, 600, 650]);
  assert.deepEqual(evalStepsUpTo(config, 600, true), [0, 300, 600]);
  assert.deepEqual(evalStepsUpTo(config, 0, true), [0]);
});

test('evalStepsUpTo equals the step-by-step loop on random schedules (steps, every, end, ended)', () => {
  const schedule = fc
    .record({ steps: fc.integer({ min: 1, max: 3000 }), every: fc.integer({ min: 1, max: 4000 }), ended: fc.boolean() })
    .chain((s) => fc.record({ s: fc.constant(s), end: fc.integer({ min: 0, max: s.steps }) }));
  fc.assert(
    fc.property(schedule, ({ s, end }) => {
      const config = testConfig({ train: { steps: s.steps }, eval: { every: s.every } });
      assert.deepEqual(evalStepsUpTo(config, end, s.ended), loopedEvalSteps(config, end, s.ended));
    }),
    { numRuns: 500 },
  );
});
