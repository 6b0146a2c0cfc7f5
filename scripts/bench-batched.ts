/**
 * The batched stack for `npm run bench -- --count` (and timings by hand): the members of a stack
 * grouped by arm, each group's runs on a leading axis of one subgraph (batchedStackModel), so an op
 * is one kernel for the whole group, not one per run as in bench-stacked.ts's copies. Members keep
 * their own init, batch order and learning rate, as there.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { BatchSampler } from '../src/model/batches.js';
import type { ResolvedConfig } from '../src/config/config.js';
import { CLASSES, IMAGE_PIXELS, type Dataset } from '../src/data/dataset.js';
import { layoutDims } from '../src/engines/ort/layout.js';
import { paramSlots } from '../src/engines/ort/net-graph.js';
import { LOG_SOFTMAX, loadOrt, sessionOptions, type OrtProvider } from '../src/engines/ort/runtime.js';
import { LOSS_SUM, NEXT, batchedStackModel, type StepSpec } from '../src/engines/ort/step-graph.js';
import { createNet, disposeNet, netVariables } from '../src/model/net.js';
import { Rng } from '../src/core/random.js';
import type { Stack, StackMember } from './bench-stacked.js';

/** Equal-length arrays one after another. */
function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A session of the batched stack (one group per arm present) with every member's initial state. */
export async function openBatchedStack(
  config: ResolvedConfig,
  data: Dataset,
  provider: OrtProvider,
  members: StackMember[],
  extra: InferenceSession.SessionOptions = {},
): Promise<Stack> {
  const ort = await loadOrt();
  const m = config.train.batchSize;
  const shape = { inputSize: IMAGE_PIXELS, hiddenUnits: config.model.hiddenUnits, classes: CLASSES };
  const groups = [false, true]
    .map((bn) => ({ bn, members: members.filter((mb) => mb.bn === bn), prefix: bn ? 'bn/' : 'baseline/' }))
    .filter((gr) => gr.members.length > 0)
    .map((gr) => {
      const spec: StepSpec = {
        ...shape,
        bn: gr.bn,
        epsilon: config.batchNorm.epsilon,
        batchSize: m,
        learningRate: config.train.learningRate,
        logSoftmax: LOG_SOFTMAX[provider],
      };
      return { ...gr, spec, learningRates: gr.members.map(() => config.train.learningRate) };
    });
  const session = await ort.InferenceSession.create(batchedStackModel(groups), { ...sessionOptions(provider), ...extra });
  const state: Record<string, Tensor> = {};
  const samplers = groups.map(({ spec, members: group, prefix }) => {
    const k = group.length;
    const layout = { kind: 'batched', runs: k } as const;
    const values = group.map(({ bn, seed }) => {
      const net = createNet(shape, { bn, initStd: config.model.initStd, epsilon: config.batchNorm.epsilon }, Rng.stream(seed, 'init'));
      const vars = netVariables(net).map((v) => Float32Array.from(v.dataSync() as Float32Array));
      disposeNet(net);
      return vars;
    });
    paramSlots(spec).forEach((s, i) => {
      state[prefix + s.name] = new ort.Tensor('float32', concat(values.map((v) => v[i])), layoutDims(layout, s.dims));
    });
    state[prefix + LOSS_SUM] = new ort.Tensor('float32', new Float32Array(k), [k]);
    return group.map(({ seed }) => new BatchSampler(data.train, m, Rng.stream(seed, 'shuffle')));
  });
  const names = Object.keys(state);
  const step = async () => {
    const feeds: Record<string, Tensor> = { ...state };
    groups.forEach(({ prefix }, gi) => {
      const batches = samplers[gi].map((s) => s.nextHost(false));
      const k = batches.length;
      feeds[`${prefix}x`] = new ort.Tensor('float32', concat(batches.map((b) => b.x)), [k, m, IMAGE_PIXELS]);
      feeds[`${prefix}y`] = new ort.Tensor('float32', concat(batches.map((b) => b.y)), [k, m, CLASSES]);
    });
    const out = await session.run(feeds);
    for (const name of names) state[name] = out[name.replace(/\/(?=[^/]*$)/, `/${NEXT}`)];
  };
  return { session: () => session, step, dispose: () => session.release() };
}
