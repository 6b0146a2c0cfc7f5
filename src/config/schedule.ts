/**
 * When a run evaluates and measures, in one place: the train loop asks it as it goes, and the run
 * folder's readers ask it which rows a run has written (Sec. 4.1 protocol: an evaluation at step 0,
 * every `eval.every` steps and at the last step; the Santurkar et al. measurements at every
 * `eval.landscape.every`-th evaluation).
 */
import type { ResolvedConfig } from './config.js';

/** True when the run evaluates after `step` steps. */
export function evaluatesAt(config: ResolvedConfig, step: number): boolean {
  return step % config.eval.every === 0 || step === config.train.steps;
}

/** True when the evaluation at `step` is followed by a measurement. */
export function measuresAt(config: ResolvedConfig, step: number): boolean {
  const every = config.eval.landscape.every;
  if (every === 0) return false;
  return step % (every * config.eval.every) === 0 || step === config.train.steps;
}

/** The evaluation steps a run writes up to `end` (Sec. 4.1 protocol: 0, every N, the last step). */
export function evalStepsUpTo(config: ResolvedConfig, end: number, ended: boolean): number[] {
  const steps = new Set<number>([0]);
  for (let s = 1; s <= Math.min(end, config.train.steps); s++) if (evaluatesAt(config, s)) steps.add(s);
  if (ended) steps.add(end);
  return [...steps].sort((a, b) => a - b);
}
