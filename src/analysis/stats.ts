/**
 * Statistics over seeds and over training: mean and band of a curve across seeds, the first step
 * at which a curve reaches a target, and the stability of a sigmoid-input distribution (Fig. 1b,c).
 */
export interface BandPoint {
  step: number;
  mean: number;
  /** Sample standard deviation over seeds (0 for one seed). */
  std: number;
  min: number;
  max: number;
  n: number;
}

/** Mean and sample standard deviation (n - 1; 0 when n = 1). */
export function meanAndSampleStd(values: number[]): { mean: number; std: number } {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std };
}

/** Per step, the mean, std, min and max over the seeds that have a value at that step. */
export function band(points: { seed: number; step: number; value: number }[]): BandPoint[] {
  const bySteps = new Map<number, number[]>();
  for (const p of points) {
    if (!bySteps.has(p.step)) bySteps.set(p.step, []);
    bySteps.get(p.step)!.push(p.value);
  }
  return [...bySteps.entries()]
    .sort(([a], [b]) => a - b)
    .map(([step, values]) => ({ step, ...meanAndSampleStd(values), min: Math.min(...values), max: Math.max(...values), n: values.length }));
}

/** The first step at which `curve` (sorted by step) is at or above `target`, else null. */
export function stepsToReach(curve: { step: number; value: number }[], target: number): number | null {
  return curve.find((p) => p.value >= target)?.step ?? null;
}

/** The value at the last step <= `step` (evaluations may not fall on round numbers). */
export function valueAt(curve: { step: number; value: number }[], step: number): number | null {
  let out: number | null = null;
  for (const p of curve) if (p.step <= step) out = p.value;
  return out;
}

export interface Stability {
  /** Steps at which the measurement starts (the first evaluation at >= 10% of training) and ends. */
  fromStep: number;
  toStep: number;
  spreadFrom: number;
  spreadTo: number;
  /** spreadTo - spreadFrom, where spread = p85 - p15. */
  spreadChange: number;
  /** max over evaluations at >= fromStep of |p50 - p50(fromStep)|. */
  medianDrift: number;
}

/**
 * Stability of one unit's sigmoid-input distribution after the first `warmup` fraction of
 * training (0.1 = 10%), from its p15 / p50 / p85 trace.
 */
export function stability(trace: { step: number; p15: number; p50: number; p85: number }[], totalSteps: number, warmup = 0.1): Stability | null {
  const sorted = [...trace].sort((a, b) => a.step - b.step);
  const start = sorted.find((t) => t.step >= warmup * totalSteps);
  const end = sorted.at(-1);
  if (!start || !end) return null;
  const after = sorted.filter((t) => t.step >= start.step);
  const spreadFrom = start.p85 - start.p15;
  const spreadTo = end.p85 - end.p15;
  return {
    fromStep: start.step,
    toStep: end.step,
    spreadFrom,
    spreadTo,
    spreadChange: spreadTo - spreadFrom,
    medianDrift: Math.max(...after.map((t) => Math.abs(t.p50 - start.p50))),
  };
}
