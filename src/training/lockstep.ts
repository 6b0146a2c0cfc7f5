/**
 * Lockstep training: the runs of a group (a process's, a --jobs worker's) stepped together by
 * the stacked ONNX Runtime engine, one graph call per step for all, MLP and CNN runs alike
 * (ort-stacked-engine.ts). Each run keeps its RunLoop
 * (run-loop.ts), the bookkeeping of a single run: own init, learning rate, batch order, BN
 * statistics, evaluations, divergence check, checkpoints and rows. A run that ends (finished,
 * diverged) is summed up at once and leaves the stack; the others go on. Asked to stop, every
 * run still training checkpoints, as a single run does.
 */
import { OrtStackedEngine } from '../engines/ort-stacked-engine.js';
import { activeOrtProvider } from '../engines/ort/runtime.js';
import type { RunSpec } from './records.js';
import type { RunSummary } from './records.js';
import { RunLoop, type RunContext } from './run-loop.js';

export async function trainLockstep(runs: RunSpec[], ctx: Omit<RunContext, 'resume'>): Promise<RunSummary[]> {
  const provider = activeOrtProvider();
  // lockstepFor (src/config/lockstep-rule.ts) refuses lockstep on tfjs backends before any run starts.
  if (!provider) throw new Error('lockstep training without an ONNX Runtime backend');
  const loops = runs.map((r) => new RunLoop(r.variant, r.seed, { ...ctx, resume: r.resume }));
  const summaries = new Map<number, RunSummary>();
  const end = async (i: number) => {
    loops[i].dispose();
    summaries.set(i, await loops[i].finish());
  };
  try {
    const engine = await OrtStackedEngine.create(
      loops.map((l) => l.engineContext()),
      provider,
    );
    try {
      for (const [i, loop] of loops.entries()) await loop.begin(engine.member(i));
      let active = loops.flatMap((l, i) => (l.active ? [i] : []));
      while (active.length > 0) {
        await engine.step(active);
        ctx.atStepBoundary?.();
        let yieldPoint = false;
        for (const i of active) if (await loops[i].stepped()) yieldPoint = true;
        if (yieldPoint && active.some((i) => loops[i].active)) {
          await new Promise((resolve) => setImmediate(resolve));
          if (ctx.shouldStop?.()) for (const i of active) if (loops[i].active) await loops[i].interrupt();
        }
        for (const i of active) if (!loops[i].active) await end(i);
        active = active.filter((i) => loops[i].active);
      }
    } finally {
      await engine.dispose();
    }
    // Runs that were over before they began (resumed at their last step) end here.
    for (const i of loops.keys()) if (!summaries.has(i)) await end(i);
  } catch (err) {
    for (const i of loops.keys()) if (!summaries.has(i)) loops[i].dispose();
    throw err;
  }
  return loops.map((_, i) => summaries.get(i) as RunSummary);
}
