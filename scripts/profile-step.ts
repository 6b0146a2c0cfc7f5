/** Ad-hoc: kernels and time per training step (not part of the build output contract). */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend.js';
import { silentLogger } from '../src/logger.js';
import { BatchSampler } from '../src/batches.js';
import { createNet } from '../src/model/net.js';
import { sgdStep } from '../src/model/sgd.js';
import { Rng } from '../src/random.js';
import { syntheticSplit } from '../test/helpers.js';

await initBackend((process.argv[2] ?? 'wasm') as 'wasm', silentLogger);
const train = syntheticSplit(6000, 1);
for (const bn of [false, true]) {
  const net = createNet({ inputSize: 784, hiddenUnits: [100, 100, 100], classes: 10 }, { bn, initStd: 0.1, epsilon: 1e-3 }, Rng.stream(0, 'i'));
  const sampler = new BatchSampler(train, 60, Rng.stream(0, 's'));
  const lossSum = tf.variable(tf.scalar(0));
  const step = () => { const b = sampler.next(); sgdStep(net, b, 0.1, lossSum); tf.dispose([b.x, b.xT, b.y]); };
  for (let i = 0; i < 50; i++) step();
  const prof = await tf.profile(() => { step(); });
  const byKernel = new Map<string, number>();
  for (const k of prof.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + 1);
  const n = 1000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) step();
  lossSum.dataSync();
  console.log(bn ? 'bn' : 'baseline', 'kernels/step', prof.kernels.length, 'ms/step', ((performance.now() - t0) / n).toFixed(3));
  console.log([...byKernel.entries()].sort((a, b) => b[1] - a[1]).map(([k, c]) => `${k}:${c}`).join(' '));
}
