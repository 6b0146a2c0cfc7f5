/**
 * One training run (one arm, one seed) of the Sec. 4.1 protocol: seeded init, seeded per-epoch
 * shuffle, plain SGD with a constant learning rate for `train.steps` steps of m examples, and an
 * evaluation at step 0, every `eval.every` steps and at the last step. Emits plain records (and
 * checkpoint states) to the recorder and does no I/O of its own. A run can start from a
 * checkpoint and continues exactly as if it had never stopped; asked to stop, it checkpoints.
 * Steps and evaluations run on the engine of the chosen backend (src/engines/: tfjs or ONNX Runtime).
 */
import type { ResolvedConfig, Variant } from '../config.js';
import { CLASSES, IMAGE_PIXELS, type Dataset } from '../data/dataset.js';
import { BatchSampler } from '../batches.js';
import { encodeNet, encodeStats, encodeVelocity, restoreNet, restoreVelocity, type RunCheckpoint } from './checkpoint.js';
import { createTrainEngine } from '../engines/train-engine.js';
import { createNet, disposeNet, disposeStats } from '../model/net.js';
import { createMovingStats } from '../model/sgd.js';
import { createVelocity, disposeVelocity } from '../model/momentum.js';
import { LandscapeProbe, measuresAt } from '../measure/probe.js';
import { Rng } from '../random.js';
import { hiddenUnitsOf } from '../runs.js';
import type { EvalRecord, Recorder, RunSummary } from './records.js';

export interface RunContext {
  config: ResolvedConfig;
  data: Dataset;
  recorder: Recorder;
  /** Continue from this checkpoint instead of step 0. */
  resume?: RunCheckpoint;
  /** Polled between steps: true asks the run to checkpoint and return early. */
  shouldStop?: () => boolean;
  /** Called after every step, when no engine call is in flight (worker threads park there on a forced quit). */
  atStepBoundary?: () => void;
  /** Seconds since an arbitrary origin; injected so tests can fix time. */
  now?: () => number;
}

/** How often the loop yields to the event loop (progress redraws, signals, stop requests). */
const YIELD_EVERY_STEPS = 50;

export async function trainRun(variant: Variant, seed: number, ctx: RunContext): Promise<RunSummary> {
  const { config, data, recorder, resume } = ctx;
  const now = ctx.now ?? (() => performance.now() / 1000);
  const arm = variant.name;
  const bn = variant.bn;
  const learningRate = config.train.learningRate * variant.lrMultiplier;
  const hiddenUnits = hiddenUnitsOf(config, variant);
  const shape = { inputSize: IMAGE_PIXELS, hiddenUnits, classes: CLASSES };
  // Every variant of a seed draws the same initial weights and sees the same batches.
  const net = createNet(shape, { bn, initStd: variant.initStd ?? config.model.initStd, epsilon: config.batchNorm.epsilon }, Rng.stream(seed, 'init'));
  const sampler = new BatchSampler(data.train, config.train.batchSize, Rng.stream(seed, 'shuffle'));
  const probe = config.eval.landscape.every > 0 ? new LandscapeProbe(config, data.train, seed) : undefined;
  const moving = bn && config.batchNorm.inference === 'moving' ? createMovingStats(hiddenUnits, config.batchNorm.momentum) : undefined;
  // Plain SGD (momentum 0, the default) builds no velocity at all.
  const velocity = config.train.momentum > 0 ? createVelocity(net, config.train.momentum) : undefined;
  const run = { arm, seed };
  const total = config.train.steps;
  const start = now() - (resume?.elapsedS ?? 0);
  let step = resume?.step ?? 0;
  let lastEvalStep = resume?.lastEvalStep ?? 0;
  let best = resume?.bestAccuracy ?? -Infinity;
  let last: EvalRecord | undefined = resume?.last;
  let divergedAtStep: number | undefined;
  let interrupted = false;
  if (resume) {
    restoreNet(net, resume.params, moving?.stats, resume.moving);
    sampler.restore(resume.sampler);
    if (velocity) restoreVelocity(velocity, resume.velocity);
  }
  const engine = await createTrainEngine({ config, data, seed, net, moving, velocity, learningRate, sampler, lossSum: resume?.lossSum ?? 0 });

  const evaluate = async (): Promise<void> => {
    const sum = await engine.lossSum();
    engine.resetLossSum();
    const trainLoss = step === 0 ? null : sum / (step - lastEvalStep);
    lastEvalStep = step;
    const ev = await engine.evaluate();
    last = { ...run, step, trainLoss, testLoss: ev.testLoss, testAccuracy: ev.testAccuracy, elapsedS: now() - start };
    best = Math.max(best, ev.testAccuracy);
    const layer = hiddenUnits.length - 1;
    await recorder.evaluation(
      last,
      ev.units.map((u) => ({ ...run, step, layer, ...u })),
    );
    if (probe && measuresAt(config, step)) {
      engine.syncNet();
      const m = probe.measure(net, learningRate, run, step);
      await recorder.measurement?.(m.ics, m.landscape);
    }
    if (trainLoss !== null && !Number.isFinite(trainLoss)) divergedAtStep = step;
  };

  const checkpoint = async (): Promise<void> => {
    if (!recorder.checkpoint) return;
    engine.syncNet();
    await recorder.checkpoint({
      ...run,
      step,
      lastEvalStep,
      lossSum: await engine.lossSum(),
      bestAccuracy: best,
      last,
      elapsedS: now() - start,
      params: encodeNet(net),
      moving: moving ? encodeStats(moving.stats) : undefined,
      ...(velocity ? { velocity: encodeVelocity(velocity) } : {}),
      sampler: sampler.state(),
    });
  };

  try {
    recorder.runStarted?.(run, total, step);
    if (!resume) await evaluate();
    const every = config.train.checkpointEvery;
    while (step < total && divergedAtStep === undefined) {
      step++;
      await engine.step();
      ctx.atStepBoundary?.();
      if (step % config.eval.every === 0 || step === total) await evaluate();
      if (every > 0 && step % every === 0 && step < total && divergedAtStep === undefined) await checkpoint();
      if (step % YIELD_EVERY_STEPS === 0 || step === total) {
        recorder.stepDone?.(run, step);
        // A NaN or Inf loss ends the run here rather than at the next evaluation (one scalar read).
        if (step !== lastEvalStep && !Number.isFinite(await engine.lossSum())) await evaluate();
        if (divergedAtStep !== undefined) break;
        await new Promise((resolve) => setImmediate(resolve));
        if (step < total && ctx.shouldStop?.()) {
          await checkpoint();
          interrupted = true;
          break;
        }
      }
    }
  } finally {
    await engine.dispose();
    disposeNet(net);
    disposeStats(moving?.stats);
    disposeVelocity(velocity);
    probe?.dispose();
  }
  const wallS = now() - start;
  const summary: RunSummary = {
    ...run,
    steps: step,
    wallS,
    stepsPerSecond: step / wallS,
    finalTestAccuracy: last?.testAccuracy ?? NaN,
    finalTestLoss: last?.testLoss ?? NaN,
    bestTestAccuracy: best,
    ...(divergedAtStep !== undefined ? { divergedAtStep } : {}),
    ...(interrupted ? { interrupted } : {}),
  };
  await recorder.runFinished?.(summary);
  return summary;
}
