/**
 * The ONNX graphs of the CNN's ORT engine, built once per run: the whole SGD step (forward,
 * hand-written backward, update, loss sum, moving averages per map and unit) as one graph, as
 * step-graph.ts does for the MLP, and the loss-and-gradients graph of the gradient check.
 * State names are step-graph.ts's: parameter `name` in, `next.name` out; the moving statistics
 * are movingNames over the BN layers in bnWidths order (conv stages, then hidden layers).
 */
import { GraphBuilder, type FloatType } from './graph.js';
import { crossEntropy } from './net-graph.js';
import { LOSS_SUM, NEXT, movingNames, velocityName } from './step-graph.js';
import { affineLayers, convForwardTrain, convParamInputs, convParamSlots, type ConvForwardValues, type ConvNetSpec } from './conv-graph.js';
import { convBackward } from './conv-backward.js';

export interface ConvStepSpec extends ConvNetSpec {
  batchSize: number;
  learningRate: number;
  /** Moving-average momentum when batchNorm.inference = "moving" (BN only). */
  momentum?: number;
  /** Momentum SGD's mu (train.momentum) when > 0: the velocity becomes state (velocityName), as for the MLP. */
  sgdMomentum?: number;
}

/** The moving statistics' input names, one mean and one variance per BN layer. */
export const convMovingNames = (spec: ConvNetSpec) => movingNames(affineLayers(spec).map((l) => l.units));

/** Values per example of the net's input (784 for MNIST). */
export const imageSize = (spec: ConvNetSpec) => spec.plan.stages[0].inShape.reduce((a, b) => a * b, 1);

/** The forward pass's layers with weights in bnWidths order: conv stages, then hidden layers. */
export const bnLayerValues = (fwd: ConvForwardValues) => [...fwd.stages.flatMap((s) => (s.type === 'conv' ? [s.layer] : [])), ...fwd.hidden];

/**
 * One SGD step, p <- p - lr * grad (or momentum SGD's), on x (m x 784) and one-hot y; lossSum <-
 * lossSum + loss. A subgraph of `g`, its inputs and outputs named `prefix` + their one-run names:
 * prefix '' for one run (ort-engine.ts); one per run in lockstep's copies layout
 * (ort-stacked-engine.ts). The builder names every inner value afresh, so subgraphs never share one.
 */
export function addConvStep(g: GraphBuilder, spec: ConvStepSpec, prefix: string): void {
  const m = spec.batchSize;
  const p = convParamInputs(g, spec, prefix);
  const x = g.input(`${prefix}x`, [m, imageSize(spec)]);
  const y = g.input(`${prefix}y`, [m, spec.classes]);
  const lossSum = g.input(prefix + LOSS_SUM, []);
  const fwd = convForwardTrain(g, spec, p, x, m);
  const { loss, logProbs } = crossEntropy(g, fwd.logits, y, m, spec.logSoftmax);
  const grads = convBackward(g, spec, p, fwd, logProbs, y, m, spec.learningRate);
  const mu = spec.sgdMomentum !== undefined && spec.sgdMomentum > 0 ? g.scalar(spec.sgdMomentum) : undefined;
  for (const s of convParamSlots(spec)) {
    // grads hold lr * g already; with momentum, v <- mu * v + lr * g and p <- p - v (momentum.ts).
    let step = grads.get(s.name)!;
    if (mu) {
      step = g.add(g.mul(g.input(prefix + velocityName(s.name), s.dims), mu), step);
      g.output(prefix + NEXT + velocityName(s.name), step, s.dims);
    }
    g.output(prefix + NEXT + s.name, g.sub(p.get(s.name)!, step), s.dims);
  }
  g.output(prefix + NEXT + LOSS_SUM, g.add(lossSum, loss), []);
  if (spec.bn && spec.momentum !== undefined) {
    // stat <- momentum * stat + (1 - momentum) * batch stat, the variance unbiased by m'/(m'-1), as conv-train.ts.
    const names = convMovingNames(spec);
    const mom = g.scalar(spec.momentum);
    const rest = g.scalar(1 - spec.momentum);
    const widths = affineLayers(spec).map((l) => l.units);
    bnLayerValues(fwd).forEach((layer, i) => {
      const mean = g.input(prefix + names.mean[i], [widths[i]]);
      const variance = g.input(prefix + names.variance[i], [widths[i]]);
      const unbiased = g.mul(layer.variance!, g.scalar(layer.rows / (layer.rows - 1)));
      g.output(prefix + NEXT + names.mean[i], g.add(g.mul(mean, mom), g.mul(layer.mean!, rest)), [widths[i]]);
      g.output(prefix + NEXT + names.variance[i], g.add(g.mul(variance, mom), g.mul(unbiased, rest)), [widths[i]]);
    });
  }
}

/** The loss and the true gradients (`grad.<name>`) of one mini-batch, no update: for the gradient check. */
export function convGradModel(spec: ConvNetSpec & { batchSize: number }, dtype: FloatType): Uint8Array {
  const g = new GraphBuilder(dtype);
  const m = spec.batchSize;
  const p = convParamInputs(g, spec);
  const x = g.input('x', [m, imageSize(spec)]);
  const y = g.input('y', [m, spec.classes]);
  const fwd = convForwardTrain(g, spec, p, x, m);
  const { loss, logProbs } = crossEntropy(g, fwd.logits, y, m, spec.logSoftmax);
  const grads = convBackward(g, spec, p, fwd, logProbs, y, m, 1);
  g.output('loss', loss, []);
  for (const s of convParamSlots(spec)) g.output(`grad.${s.name}`, grads.get(s.name)!, s.dims);
  return g.encode();
}
