/**
 * The ONNX graphs of the ORT engine, built once per run: the whole SGD step (forward, backward,
 * update, loss sum, moving averages) as one graph, and the evaluation (Algorithm 2 population
 * statistics, test loss and correct count, the probe's sigmoid inputs) as another.
 */
import { gatherBatch, type ResidentSet } from './device-batch.js';
import { GraphBuilder, type FloatType } from './graph.js';
import { layoutDims, SINGLE } from './layout.js';
import { backward, crossEntropy, forwardInference, forwardTrain, paramInputs, paramSlots, type NetSpec } from './net-graph.js';

export interface StepSpec extends NetSpec {
  batchSize: number;
  learningRate: number;
  /** Moving-average momentum when batchNorm.inference = "moving" (BN only). */
  momentum?: number;
  /** Momentum SGD's mu (train.momentum) when > 0: the velocity becomes state (velocityName). */
  sgdMomentum?: number;
}

/** Names of the moving statistics inputs (outputs add NEXT). */
export const movingNames = (units: number[]) => ({ mean: units.map((_, i) => `moving.mean${i}`), variance: units.map((_, i) => `moving.variance${i}`) });
export const NEXT = 'next.';
/** The velocity state input of parameter `param` (momentum SGD, src/model/momentum.ts). */
export const velocityName = (param: string) => `velocity.${param}`;
export const LOSS_SUM = 'lossSum';

/**
 * One SGD step, p <- p - lr * grad, on x (m x inputs) and one-hot y; lossSum <- lossSum + loss.
 * Every state value is an input `name` and an output `next.name`.
 */
export function stepModel(spec: StepSpec): Uint8Array {
  const g = new GraphBuilder('float32');
  addStep(g, spec, '');
  return g.encode();
}

/**
 * The steps of several runs (each its own spec: arm, learning rate) in one graph, run r's inputs
 * and outputs named `run<r>/` + the names of stepModel: one call steps them all (lockstep's
 * `copies` layout, src/engines/stack-layout.ts).
 */
export function stackedStepModel(specs: StepSpec[]): Uint8Array {
  const g = new GraphBuilder('float32');
  specs.forEach((spec, r) => addStep(g, spec, stackPrefix(r)));
  return g.encode();
}

export const stackPrefix = (run: number) => `run${run}/`;

/** Runs of one arm batched in one subgraph (layout.ts): run r steps at learningRates[r]. */
export interface BatchedGroup {
  spec: StepSpec;
  learningRates: number[];
  /** Prefix of the group's inputs and outputs, which are stepModel's names with K in front of each dims. */
  prefix: string;
}

/**
 * Groups of batched runs in one graph: one call steps all, each op one kernel per group; `singles`
 * adds runs as their own step subgraphs under their prefixes (lockstep members alone in their
 * group, with a spec the batched layout does not build, or of another model: the CNN's addConvStep).
 */
export function batchedStackModel(groups: BatchedGroup[], singles: { addStep: (g: GraphBuilder, prefix: string) => void; prefix: string }[] = []): Uint8Array {
  const g = new GraphBuilder('float32');
  for (const { spec, learningRates, prefix } of groups) addStep(g, { ...spec, layout: { kind: 'batched', runs: learningRates.length } }, prefix, learningRates);
  for (const { addStep: add, prefix } of singles) add(g, prefix);
  return g.encode();
}

/**
 * stepModel's step as a subgraph of `g` under `prefix`; batched over `learningRates` in spec.layout.
 * `resident` (single layout only): the batch is gathered from the uploaded training set by row
 * indices (device-batch.ts) instead of fed as x and y.
 */
export function addStep(g: GraphBuilder, spec: StepSpec, prefix: string, learningRates?: number[], resident?: ResidentSet): void {
  const m = spec.batchSize;
  const l = spec.layout ?? SINGLE;
  const dims = (d: number[]) => layoutDims(l, d);
  const p = paramInputs(g, spec, prefix);
  if (resident && l.kind !== 'single') throw new Error('addStep: a device-resident batch is built for the single layout only');
  const { x, y } = resident
    ? gatherBatch(g, prefix, resident, m, spec.inputSize, spec.classes)
    : { x: g.input(`${prefix}x`, dims([m, spec.inputSize])), y: g.input(`${prefix}y`, dims([m, spec.classes])) };
  const lossDims = l.kind === 'batched' ? [l.runs] : [];
  const lossSum = g.input(prefix + LOSS_SUM, lossDims);
  const fwd = forwardTrain(g, spec, p, x, m);
  const { loss, logProbs } = crossEntropy(g, fwd.logits, y, m, spec.logSoftmax, l);
  const grads = backward(g, spec, p, { layers: fwd.layers, logProbs }, y, m, learningRates ?? spec.learningRate);
  const mu = spec.sgdMomentum !== undefined && spec.sgdMomentum > 0 ? g.scalar(spec.sgdMomentum) : undefined;
  for (const s of paramSlots(spec)) {
    // grads hold lr * g already; with momentum, v <- mu * v + lr * g and p <- p - v (momentum.ts).
    let step = grads.get(s.name)!;
    if (mu) {
      const v = g.input(prefix + velocityName(s.name), dims(s.dims));
      step = g.add(g.mul(v, mu), step);
      g.output(prefix + NEXT + velocityName(s.name), step, dims(s.dims));
    }
    g.output(prefix + NEXT + s.name, g.sub(p.get(s.name)!, step), dims(s.dims));
  }
  g.output(prefix + NEXT + LOSS_SUM, g.add(lossSum, loss), lossDims);
  if (spec.bn && spec.momentum !== undefined) {
    // stat <- momentum * stat + (1 - momentum) * batch stat, the variance unbiased, as sgd.ts.
    const names = movingNames(spec.hiddenUnits);
    const mom = g.scalar(spec.momentum);
    const rest = g.scalar(1 - spec.momentum);
    spec.hiddenUnits.forEach((u, i) => {
      const mean = g.input(prefix + names.mean[i], dims([u]));
      const variance = g.input(prefix + names.variance[i], dims([u]));
      const unbiased = g.mul(fwd.layers[i].variance!, g.scalar(m / (m - 1)));
      g.output(prefix + NEXT + names.mean[i], g.add(g.mul(mean, mom), g.mul(fwd.layers[i].mean!, rest)), dims([u]));
      g.output(prefix + NEXT + names.variance[i], g.add(g.mul(variance, mom), g.mul(unbiased, rest)), dims([u]));
    });
  }
}

/** The loss and the true gradients (`grad.<name>`) of one mini-batch, no update: for the gradient check. */
export function gradModel(spec: NetSpec & { batchSize: number }, dtype: FloatType): Uint8Array {
  const g = new GraphBuilder(dtype);
  const m = spec.batchSize;
  const p = paramInputs(g, spec);
  const x = g.input('x', [m, spec.inputSize]);
  const y = g.input('y', [m, spec.classes]);
  const fwd = forwardTrain(g, spec, p, x, m);
  const { loss, logProbs } = crossEntropy(g, fwd.logits, y, m, spec.logSoftmax);
  const grads = backward(g, spec, p, { layers: fwd.layers, logProbs }, y, m, 1);
  g.output('loss', loss, []);
  for (const s of paramSlots(spec)) g.output(`grad.${s.name}`, grads.get(s.name)!, s.dims);
  return g.encode();
}

export interface EvalSpec extends NetSpec {
  testCount: number;
  /** Probe rows (the first of the test set); equal to testCount when the probe is the whole set. */
  probeCount: number;
  /** Columns of the last hidden layer whose sigmoid inputs are probed. */
  units: number[];
  /** BN with population statistics: K mini-batches of m rows in the input `popX`. */
  population?: { batches: number; batchSize: number };
  /** BN with moving averages: the inputs named by movingNames. */
  moving?: boolean;
}

/**
 * Outputs `loss` (mean test cross-entropy), `correct` (count of right argmax) and `probePre`
 * (units x probe: the sigmoid inputs of the training-mode net on the probe, as Evaluator).
 */
export function evalModel(spec: EvalSpec): Uint8Array {
  const g = new GraphBuilder('float32');
  const n = spec.testCount;
  const p = paramInputs(g, spec);
  const testX = g.input('testX', [n, spec.inputSize]);
  const testY = g.input('testY', [n, spec.classes]);
  const labels = g.input('testLabels', [n], 'int64');
  const probeX = spec.probeCount === n ? testX : g.input('probeX', [spec.probeCount, spec.inputSize]);
  let stats: { mean: string[]; variance: string[] } | undefined;
  if (spec.population) {
    const { batches: k, batchSize: m } = spec.population;
    const pop = forwardTrain(g, spec, p, g.input('popX', [k * m, spec.inputSize]), k * m, k);
    // E[x] = mean of the batch means; Var[x] = m/(m-1) * mean of the batch variances (Alg. 2).
    const avg = (v: string) => (k > 1 ? g.mean(v, [0, 1]) : v);
    stats = { mean: pop.layers.map((l) => avg(l.mean!)), variance: pop.layers.map((l) => g.mul(avg(l.variance!), g.scalar(m / (m - 1)))) };
  } else if (spec.moving) {
    const names = movingNames(spec.hiddenUnits);
    stats = { mean: spec.hiddenUnits.map((u, i) => g.input(names.mean[i], [u])), variance: spec.hiddenUnits.map((u, i) => g.input(names.variance[i], [u])) };
  }
  const logits = forwardInference(g, spec, p, testX, stats);
  g.output('loss', crossEntropy(g, logits, testY, n, spec.logSoftmax).loss, []);
  const right = g.op('Cast', [g.op('Equal', [g.op('ArgMax', [logits], { axis: 1, keepdims: 0 }), labels])], { to: 1 /* FLOAT */ });
  g.output('correct', g.sum(right), []);
  const probe = forwardTrain(g, spec, p, probeX, spec.probeCount);
  const picked = g.op('Gather', [probe.layers.at(-1)!.pre, g.ints(spec.units)], { axis: 1 });
  g.output('probePre', g.transpose(picked), [spec.units.length, spec.probeCount]);
  return g.encode();
}
