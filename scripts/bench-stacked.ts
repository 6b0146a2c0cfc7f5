/**
 * The stacked ORT step for `npm run bench`: K runs (arms alternating baseline / BN, seeds 0, 0,
 * 1, 1, ...; each its own init, batch order and learning rate) stepped by one graph call, timed in
 * run-steps per second. It times the engine lockstep training uses (OrtStackedEngine, src/run/lockstep.ts:
 * `--lockstep on`), so these figures are what lockstep gains or costs; src/lockstep.ts's `auto` table cites them.
 */
import { BatchSampler } from '../src/batches.js';
import type { ResolvedConfig } from '../src/config.js';
import { CLASSES, IMAGE_PIXELS, type Dataset } from '../src/data/dataset.js';
import { OrtStackedEngine } from '../src/engines/ort-stacked-engine.js';
import type { OrtProvider } from '../src/engines/ort/runtime.js';
import type { EngineContext } from '../src/engines/train-engine.js';
import { createNet, disposeNet } from '../src/model/net.js';
import { Rng } from '../src/random.js';
import { median, type Budget } from './bench-measure.js';

export async function stackedMsPerCall(config: ResolvedConfig, data: Dataset, provider: OrtProvider, k: number, budget: Budget): Promise<number> {
  const m = config.train.batchSize;
  const shape = { inputSize: IMAGE_PIXELS, hiddenUnits: config.model.hiddenUnits, classes: CLASSES };
  const runs = Array.from({ length: k }, (_, r) => ({ bn: r % 2 === 1, seed: Math.floor(r / 2) }));
  const ctxs: EngineContext[] = runs.map(({ bn, seed }) => ({
    config,
    data,
    seed,
    net: createNet(shape, { bn, initStd: config.model.initStd, epsilon: config.batchNorm.epsilon }, Rng.stream(seed, 'init')),
    learningRate: config.train.learningRate,
    sampler: new BatchSampler(data.train, m, Rng.stream(seed, 'shuffle')),
    lossSum: 0,
  }));
  const engine = await OrtStackedEngine.create(ctxs, provider);
  const all = runs.map((_, r) => r);
  const step = () => engine.step(all);
  try {
    for (let i = 0; i < budget.warmup; i++) await step();
    const perCall: number[] = [];
    for (let c = 0; c < budget.chunks; c++) {
      const t0 = performance.now();
      for (let i = 0; i < budget.stepsPerChunk; i++) await step();
      perCall.push((performance.now() - t0) / budget.stepsPerChunk);
    }
    return median(perCall);
  } finally {
    await engine.dispose();
    for (const ctx of ctxs) disposeNet(ctx.net);
  }
}
