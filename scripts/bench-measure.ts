/**
 * Measurements behind `npm run bench`: median ms per training step of our step and of the
 * straightforward reference loop, and the cost of one evaluation and of one landscape/ICS
 * measurement, on the active tfjs backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchSampler } from '../src/model/batches.js';
import type { Arm, ResolvedConfig } from '../src/config/config.js';
import { CLASSES, IMAGE_PIXELS, type Dataset } from '../src/data/dataset.js';
import { Evaluator } from '../src/model/evaluate.js';
import { LandscapeProbe } from '../src/training/measure/probe.js';
import { createNet, disposeNet, variable, type Net } from '../src/model/net.js';
import { ReferenceTrainer } from '../src/model/reference.js';
import { sgdStep } from '../src/model/sgd.js';
import { Rng } from '../src/core/random.js';

export interface Budget {
  warmup: number;
  chunks: number;
  stepsPerChunk: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function newNet(config: ResolvedConfig, arm: Arm): Net {
  const shape = { inputSize: IMAGE_PIXELS, hiddenUnits: config.model.hiddenUnits, classes: CLASSES };
  return createNet(shape, { bn: arm === 'bn', initStd: config.model.initStd, epsilon: config.batchNorm.epsilon }, Rng.stream(0, 'init'));
}

/** Median over chunks of the mean ms per step within a chunk (each chunk ends with a device read). */
function timeChunks(budget: Budget, step: () => void, sync: () => void): number {
  for (let i = 0; i < budget.warmup; i++) step();
  sync();
  const perStep: number[] = [];
  for (let c = 0; c < budget.chunks; c++) {
    const t0 = performance.now();
    for (let i = 0; i < budget.stepsPerChunk; i++) step();
    sync();
    perStep.push((performance.now() - t0) / budget.stepsPerChunk);
  }
  return median(perStep);
}

/** Our training step (host-side batches, hand-written backward, lr folded into dLogits). */
export function oursMsPerStep(config: ResolvedConfig, data: Dataset, arm: Arm, budget: Budget): number {
  const net = newNet(config, arm);
  const sampler = new BatchSampler(data.train, config.train.batchSize, Rng.stream(0, 'shuffle'));
  const lossSum = variable(tf.scalar(0));
  const ms = timeChunks(
    budget,
    () => {
      const b = sampler.next();
      sgdStep(net, b, config.train.learningRate, lossSum);
      tf.dispose([b.x, b.xT, b.y]);
    },
    () => lossSum.dataSync(),
  );
  disposeNet(net);
  lossSum.dispose();
  return ms;
}

/** The naive loop: optimizer.minimize with autodiff, batches gathered from a device tensor. */
export function naiveMsPerStep(config: ResolvedConfig, data: Dataset, arm: Arm, budget: Budget): number {
  const net = newNet(config, arm);
  const sampler = new BatchSampler(data.train, config.train.batchSize, Rng.stream(0, 'shuffle'));
  const trainer = new ReferenceTrainer(net, data.train, config.train.learningRate);
  const ms = timeChunks(
    budget,
    () => void trainer.step(sampler.nextIndices()),
    () => {},
  );
  trainer.dispose();
  disposeNet(net);
  return ms;
}

/** One evaluation: Algorithm 2 statistics (BN) + test loss/accuracy + activation percentiles. */
export async function evaluationMs(config: ResolvedConfig, data: Dataset, arm: Arm, repeats: number): Promise<number> {
  const net = newNet(config, arm);
  const evaluator = new Evaluator(config, data.train, data.test, 0);
  await evaluator.evaluate(net); // warm-up
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await evaluator.evaluate(net);
    times.push(performance.now() - t0);
  }
  evaluator.dispose();
  disposeNet(net);
  return median(times);
}

/** Median ms of one Santurkar et al. measurement (ICS of every layer and the landscape probe). */
export async function measurementMs(config: ResolvedConfig, data: Dataset, arm: Arm, repeats: number): Promise<number> {
  const net = newNet(config, arm);
  const probe = new LandscapeProbe(config, data.train, 0);
  const run = { arm, seed: 0 };
  await probe.measure(net, config.train.learningRate, run, 0); // warm-up
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await probe.measure(net, config.train.learningRate, run, 0);
    times.push(performance.now() - t0);
  }
  probe.dispose();
  disposeNet(net);
  return median(times);
}
