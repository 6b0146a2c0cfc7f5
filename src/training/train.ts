/**
 * One training run (one arm, one seed) of the Sec. 4.1 protocol: seeded init, seeded per-epoch
 * shuffle, plain SGD with a constant learning rate for `train.steps` steps of m examples, and an
 * evaluation at step 0, every `eval.every` steps and at the last step. Emits plain records (and
 * checkpoint states) to the recorder and does no I/O of its own. A run can start from a
 * checkpoint and continues exactly as if it had never stopped; asked to stop, it checkpoints.
 * Steps and evaluations run on the engine of the chosen backend (src/engines/: tfjs or ONNX Runtime);
 * the run's bookkeeping is RunLoop's (run-loop.ts), shared with lockstep training (lockstep.ts).
 */
import type { Variant } from '../config/config.js';
import { createTrainEngine } from '../engines/train-engine.js';
import type { RunSummary } from './records.js';
import { RunLoop, type RunContext } from './run-loop.js';

export type { RunContext } from './run-loop.js';

export async function trainRun(variant: Variant, seed: number, ctx: RunContext): Promise<RunSummary> {
  const loop = new RunLoop(variant, seed, ctx);
  try {
    const engine = await createTrainEngine(loop.engineContext());
    try {
      await loop.begin(engine);
      while (loop.active) {
        await engine.step();
        ctx.atStepBoundary?.();
        if (!(await loop.stepped()) || !loop.active) continue;
        await new Promise((resolve) => setImmediate(resolve));
        if (ctx.shouldStop?.()) await loop.interrupt();
      }
    } finally {
      await engine.dispose();
    }
  } finally {
    loop.dispose();
  }
  return loop.finish();
}
