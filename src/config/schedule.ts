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

/**
 * The evaluation steps a run writes up to `end` (Sec. 4.1 protocol: 0, every N, the last step),
 * ascending: the steps where evaluatesAt holds, found by striding over multiples of eval.every
 * (O(steps / every), not O(steps): the folder readers call it per run), and `end` itself when
 * the run ended there (diverged or stopped between evaluations).
 */
export function evalStepsUpTo(config: ResolvedConfig, end: number, ended: boolean): number[] {
  const { every } = config.eval;
  const total = config.train.steps;
  const steps = [0];
  for (let s = every; s <= Math.min(end, total); s += every) steps.push(s);
  // Every step pushed is <= end, so the last step and `end` can only come after them.
  if (total <= end && steps.at(-1) !== total) steps.push(total);
  if (ended && steps.at(-1) !== end) steps.push(end);
  return steps;
}
