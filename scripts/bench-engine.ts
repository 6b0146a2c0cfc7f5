/**
 * Timings through the train loop's engine interface (src/engines/train-engine.ts), for the
 * backends whose step is not a tfjs sgdStep: the ONNX Runtime engine's one graph call per step,
 * and its one graph call per evaluation. Same budgets and medians as bench-measure.ts.
 */
import { BatchSampler } from '../src/model/batches.js';
import { CLASSES, IMAGE_PIXELS, type Dataset } from '../src/data/dataset.js';
import type { Arm, ResolvedConfig } from '../src/config/config.js';
import { createTrainEngine, type TrainEngine } from '../src/engines/train-engine.js';
import { createNet, disposeNet } from '../src/model/net.js';
import { Rng } from '../src/core/random.js';
import { median, type Budget } from './bench-measure.js';

async function withEngine<T>(config: ResolvedConfig, data: Dataset, arm: Arm, body: (engine: TrainEngine) => Promise<T>): Promise<T> {
  const shape = { inputSize: IMAGE_PIXELS, hiddenUnits: config.model.hiddenUnits, classes: CLASSES };
  const net = createNet(shape, { bn: arm === 'bn', initStd: config.model.initStd, epsilon: config.batchNorm.epsilon }, Rng.stream(0, 'init'));
  const sampler = new BatchSampler(data.train, config.train.batchSize, Rng.stream(0, 'shuffle'));
  const engine = await createTrainEngine({ config, data, seed: 0, net, learningRate: config.train.learningRate, sampler, lossSum: 0 });
  try {
    return await body(engine);
  } finally {
    await engine.dispose();
    disposeNet(net);
  }
}

/** Median over chunks of the mean ms per engine step (each chunk ends by reading the loss sum). */
export function engineMsPerStep(config: ResolvedConfig, data: Dataset, arm: Arm, budget: Budget): Promise<number> {
  return withEngine(config, data, arm, async (engine) => {
    for (let i = 0; i < budget.warmup; i++) await engine.step();
    await engine.lossSum();
    const perStep: number[] = [];
    for (let c = 0; c < budget.chunks; c++) {
      const t0 = performance.now();
      for (let i = 0; i < budget.stepsPerChunk; i++) await engine.step();
      await engine.lossSum();
      perStep.push((performance.now() - t0) / budget.stepsPerChunk);
    }
    return median(perStep);
  });
}

/** Median ms of one engine evaluation (Algorithm 2 statistics, test loss and accuracy, the probe). */
export function engineEvaluationMs(config: ResolvedConfig, data: Dataset, arm: Arm, repeats: number): Promise<number> {
  return withEngine(config, data, arm, async (engine) => {
    await engine.evaluate(); // warm-up
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const t0 = performance.now();
      await engine.evaluate();
      times.push(performance.now() - t0);
    }
    return median(times);
  });
}
