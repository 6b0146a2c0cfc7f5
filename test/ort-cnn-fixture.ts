/**
 * What the CNN tests of the ONNX Runtime engines share (engine-ort-cnn.test.ts and
 * engine-ort-cnn-grad.test.ts): the engine under test (BN_REPRO_ORT_BACKEND, default ort-cpu; `npm
 * run test:webgpu` sets ort-webgpu), a small CNN whose second conv stage makes col2im run, and its
 * config on embedded digits.
 */
import type { CnnPlan } from '../src/config/conv-shapes.js';
import { planCnn } from '../src/config/conv-shapes.js';
import { testConfig } from './helpers.js';

export const ENGINE = (process.env.BN_REPRO_ORT_BACKEND ?? 'ort-cpu') as 'ort-cpu' | 'ort-webgpu' | 'ort-cuda';
export const PROVIDER = ENGINE.slice(4) as 'cpu' | 'webgpu' | 'cuda';
/** The CPU-only tests (float64 gradients, resume, the CLI) skip on the GPU providers. */
export const cpuOnly = { skip: ENGINE !== 'ort-cpu' && `${ENGINE}: the CPU provider's test` };

/** conv 5x5x3, pool 2, conv 3x3x4, pool 2 on 28x28: 24x24x3 -> 12x12x3 -> 10x10x4 -> 5x5x4 = 100 values, then 12 hidden units. */
export const LAYERS = [
  { type: 'conv' as const, kernel: 5, maps: 3 },
  { type: 'pool' as const, size: 2 },
  { type: 'conv' as const, kernel: 3, maps: 4 },
  { type: 'pool' as const, size: 2 },
];
export const HIDDEN = [12];
export const PLAN = planCnn(LAYERS, [28, 28, 1]) as CnnPlan;

/** Evaluations after step 0 in a run, and the test images each one reads: 3 of 300 on the CPU; 1 of 100 on SwiftShader, where each takes seconds. */
export const EVALS = ENGINE === 'ort-cpu' ? 3 : 1;
const TEST_IMAGES = ENGINE === 'ort-cpu' ? 300 : 100;

export const cnnConfig = (steps: number, batchNorm: Record<string, unknown> = {}) =>
  testConfig({
    model: { kind: 'cnn', activation: 'relu', hiddenUnits: HIDDEN, convLayers: LAYERS },
    train: { steps, batchSize: 20, learningRate: 0.1, checkpointEvery: 0 },
    eval: { every: Math.max(1, Math.floor(steps / EVALS)), units: [0, 5], probeSize: TEST_IMAGES / 2 },
    batchNorm: { populationBatches: 3, ...batchNorm },
    data: { source: 'embedded', trainSubset: 600, testSubset: TEST_IMAGES },
  });
