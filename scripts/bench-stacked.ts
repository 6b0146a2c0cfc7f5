/**
 * The stacked ORT step for `npm run bench`: K runs (arms alternating baseline / BN, seeds 0, 0,
 * 1, 1, ...; each its own init, batch order and learning rate) stepped by one graph call, timed in
 * run-steps per second. A measurement of what lockstep training would gain; the train loop
 * itself still steps one run per call.
 */
import type { Tensor } from 'onnxruntime-node';
import { BatchSampler } from '../src/batches.js';
import type { ResolvedConfig } from '../src/config.js';
import { CLASSES, IMAGE_PIXELS, type Dataset } from '../src/data/dataset.js';
import { paramSlots } from '../src/engines/ort/net-graph.js';
import { loadOrt, sessionOptions, type OrtProvider } from '../src/engines/ort/runtime.js';
import { LOSS_SUM, NEXT, stackPrefix, stackedStepModel, type StepSpec } from '../src/engines/ort/step-graph.js';
import { createNet, disposeNet, netVariables } from '../src/model/net.js';
import { Rng } from '../src/random.js';
import { median, type Budget } from './bench-measure.js';

export async function stackedMsPerCall(config: ResolvedConfig, data: Dataset, provider: OrtProvider, k: number, budget: Budget): Promise<number> {
  const ort = await loadOrt();
  const m = config.train.batchSize;
  const shape = { inputSize: IMAGE_PIXELS, hiddenUnits: config.model.hiddenUnits, classes: CLASSES };
  const runs = Array.from({ length: k }, (_, r) => ({ bn: r % 2 === 1, seed: Math.floor(r / 2) }));
  const specs: StepSpec[] = runs.map(({ bn }) => ({ ...shape, bn, epsilon: config.batchNorm.epsilon, batchSize: m, learningRate: config.train.learningRate }));
  const session = await ort.InferenceSession.create(stackedStepModel(specs), sessionOptions(provider));
  const state: Record<string, Tensor> = {};
  const names: string[] = [];
  const samplers = runs.map(({ bn, seed }, r) => {
    const net = createNet(shape, { bn, initStd: config.model.initStd, epsilon: config.batchNorm.epsilon }, Rng.stream(seed, 'init'));
    const vars = netVariables(net);
    paramSlots(specs[r]).forEach((s, i) => {
      state[stackPrefix(r) + s.name] = new ort.Tensor('float32', Float32Array.from(vars[i].dataSync() as Float32Array), s.dims);
      names.push(stackPrefix(r) + s.name);
    });
    disposeNet(net);
    state[stackPrefix(r) + LOSS_SUM] = new ort.Tensor('float32', new Float32Array([0]), []);
    names.push(stackPrefix(r) + LOSS_SUM);
    return new BatchSampler(data.train, m, Rng.stream(seed, 'shuffle'));
  });
  const step = async () => {
    const feeds: Record<string, Tensor> = { ...state };
    samplers.forEach((sampler, r) => {
      const { x, y } = sampler.nextHost(false);
      feeds[`${stackPrefix(r)}x`] = new ort.Tensor('float32', x, [m, IMAGE_PIXELS]);
      feeds[`${stackPrefix(r)}y`] = new ort.Tensor('float32', y, [m, CLASSES]);
    });
    const out = await session.run(feeds);
    for (const name of names) state[name] = out[name.replace(/\/(?=[^/]*$)/, `/${NEXT}`)];
  };
  for (let i = 0; i < budget.warmup; i++) await step();
  const perCall: number[] = [];
  for (let c = 0; c < budget.chunks; c++) {
    const t0 = performance.now();
    for (let i = 0; i < budget.stepsPerChunk; i++) await step();
    perCall.push((performance.now() - t0) / budget.stepsPerChunk);
  }
  await session.release();
  return median(perCall);
}
