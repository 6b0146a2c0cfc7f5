/**
 * The CNN's evaluation graphs (the ORT twin of src/engines/cnn-evaluator.ts). `convBatchStatsModel`:
 * the training-mode net on one population mini-batch, giving each BN layer's batch mean and
 * (biased) variance, which the engine averages over Algorithm 2's K batches. `convEvalModel`: one
 * chunk of n held-out examples with fixed statistics per map and unit (population or moving),
 * giving the chunk's summed cross-entropy, its count of right answers and the probed units of the
 * last hidden layer's inputs to the nonlinearity (inference mode, as cnn-evaluator.ts).
 */
import { GraphBuilder } from './graph.js';
import { crossEntropy } from './net-graph.js';
import { affineLayers, convForwardInference, convForwardTrain, convParamInputs, type ConvNetSpec } from './conv-graph.js';
import { bnLayerValues, imageSize } from './conv-step-graph.js';

export const batchMeanName = (i: number) => `batch.mean${i}`;
export const batchVarianceName = (i: number) => `batch.variance${i}`;
/** Inference statistics' input names of convEvalModel, per BN layer. */
export const statNames = (spec: ConvNetSpec) => ({
  mean: affineLayers(spec).map((_, i) => `stat.mean${i}`),
  variance: affineLayers(spec).map((_, i) => `stat.variance${i}`),
});

/** Batch moments of every BN layer on x (m x 784), and the values each was taken over (rows). */
export function convBatchStatsModel(spec: ConvNetSpec, m: number): { model: Uint8Array; rows: number[] } {
  const g = new GraphBuilder('float32');
  const p = convParamInputs(g, spec);
  const fwd = convForwardTrain(g, spec, p, g.input('x', [m, imageSize(spec)]), m);
  const layers = bnLayerValues(fwd);
  const units = affineLayers(spec).map((l) => l.units);
  layers.forEach((l, i) => {
    g.output(batchMeanName(i), l.mean!, [units[i]]);
    g.output(batchVarianceName(i), l.variance!, [units[i]]);
  });
  return { model: g.encode(), rows: layers.map((l) => l.rows) };
}

/** Outputs `lossSum` (summed test cross-entropy of the chunk), `correct` and `probePre` (n x units). */
export function convEvalModel(spec: ConvNetSpec, n: number, units: number[]): Uint8Array {
  const g = new GraphBuilder('float32');
  const p = convParamInputs(g, spec);
  const x = g.input('testX', [n, imageSize(spec)]);
  const y = g.input('testY', [n, spec.classes]);
  const labels = g.input('testLabels', [n], 'int64');
  let stats: { mean: string[]; variance: string[] } | undefined;
  if (spec.bn) {
    const names = statNames(spec);
    const widths = affineLayers(spec).map((l) => l.units);
    stats = { mean: names.mean.map((s, i) => g.input(s, [widths[i]])), variance: names.variance.map((s, i) => g.input(s, [widths[i]])) };
  }
  const { logits, lastPre } = convForwardInference(g, spec, p, x, n, stats);
  // rows = 1: the chunk's sum; the engine divides the sum over chunks by the test count.
  g.output('lossSum', crossEntropy(g, logits, y, 1, spec.logSoftmax).loss, []);
  const right = g.op('Cast', [g.op('Equal', [g.op('ArgMax', [logits], { axis: 1, keepdims: 0 }), labels])], { to: 1 /* FLOAT */ });
  g.output('correct', g.sum(right), []);
  g.output('probePre', g.op('Gather', [lastPre, g.ints(units)], { axis: 1 }), [n, units.length]);
  return g.encode();
}
