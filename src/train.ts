/**
 * One training run (one arm, one seed) of the Sec. 4.1 protocol: seeded init, seeded per-epoch
 * shuffle, plain SGD with a constant learning rate for `train.steps` steps of m examples, and an
 * evaluation at step 0, every `eval.every` steps and at the last step. Emits plain records to the
 * recorder and does no I/O of its own.
 */
import * as tf from '@tensorflow/tfjs';
import type { Arm, ResolvedConfig } from './config.js';
import { CLASSES, IMAGE_PIXELS, type Dataset } from './data/dataset.js';
import { BatchSampler } from './batches.js';
import { Evaluator } from './evaluate.js';
import { createNet, disposeNet, disposeStats, variable } from './model/net.js';
import { createMovingStats, sgdStep } from './model/sgd.js';
import { Rng } from './random.js';
import type { EvalRecord, Recorder, RunSummary } from './records.js';

export interface RunContext {
  config: ResolvedConfig;
  data: Dataset;
  recorder: Recorder;
  /** Seconds since an arbitrary origin; injected so tests can fix time. */
  now?: () => number;
}

/** How often the loop yields to the event loop (progress redraws, signals). */
const YIELD_EVERY_STEPS = 50;

export async function trainRun(arm: Arm, seed: number, ctx: RunContext): Promise<RunSummary> {
  const { config, data, recorder } = ctx;
  const now = ctx.now ?? (() => performance.now() / 1000);
  const bn = arm === 'bn';
  const shape = { inputSize: IMAGE_PIXELS, hiddenUnits: config.model.hiddenUnits, classes: CLASSES };
  // Both arms of a seed draw the same initial weights and see the same batches.
  const net = createNet(shape, { bn, initStd: config.model.initStd, epsilon: config.batchNorm.epsilon }, Rng.stream(seed, 'init'));
  const sampler = new BatchSampler(data.train, config.train.batchSize, Rng.stream(seed, 'shuffle'));
  const evaluator = new Evaluator(config, data.train, data.test, seed);
  const moving = bn && config.batchNorm.inference === 'moving' ? createMovingStats(config.model.hiddenUnits, config.batchNorm.momentum) : undefined;
  const lossSum = variable(tf.scalar(0));
  const run = { arm, seed };
  const total = config.train.steps;
  const start = now();
  let lastEvalStep = 0;
  let best = -Infinity;
  let last: EvalRecord | undefined;
  let divergedAtStep: number | undefined;

  const evaluate = async (step: number): Promise<void> => {
    const sum = (await lossSum.data())[0];
    tf.tidy(() => lossSum.assign(tf.zerosLike(lossSum)));
    const trainLoss = step === 0 ? NaN : sum / (step - lastEvalStep);
    lastEvalStep = step;
    const ev = await evaluator.evaluate(net, moving?.stats);
    last = { ...run, step, trainLoss, testLoss: ev.testLoss, testAccuracy: ev.testAccuracy, elapsedS: now() - start };
    best = Math.max(best, ev.testAccuracy);
    const layer = config.model.hiddenUnits.length - 1;
    await recorder.evaluation(
      last,
      ev.units.map((u) => ({ ...run, step, layer, ...u })),
    );
    if (step > 0 && !Number.isFinite(trainLoss)) divergedAtStep = step;
  };

  try {
    recorder.runStarted?.(run, total);
    await evaluate(0);
    for (let step = 1; step <= total && divergedAtStep === undefined; step++) {
      const batch = sampler.next();
      sgdStep(net, batch, config.train.learningRate, lossSum, moving);
      tf.dispose([batch.x, batch.xT, batch.y]);
      if (step % config.eval.every === 0 || step === total) await evaluate(step);
      if (step % YIELD_EVERY_STEPS === 0 || step === total) {
        recorder.stepDone?.(run, step);
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  } finally {
    disposeNet(net);
    disposeStats(moving?.stats);
    evaluator.dispose();
    lossSum.dispose();
  }
  const wallS = now() - start;
  const steps = lastEvalStep;
  const summary: RunSummary = {
    ...run,
    steps,
    wallS,
    stepsPerSecond: steps / wallS,
    finalTestAccuracy: last?.testAccuracy ?? NaN,
    finalTestLoss: last?.testLoss ?? NaN,
    bestTestAccuracy: best,
    ...(divergedAtStep !== undefined ? { divergedAtStep } : {}),
  };
  await recorder.runFinished?.(summary);
  return summary;
}
