/**
 * The CNN (src/model/conv-net.ts; Ioffe & Szegedy 2015, Sec. 3.2 and 4.2) as ONNX graph pieces,
 * op for op the maths of src/model/conv-forward.ts: a conv stage is im2col, one MatMul and then BN
 * per feature map over the (m*P*Q) rows of its (m*P*Q) x F output (Algorithm 1 with m' = m*P*Q
 * values per map, one gamma and beta per map, no bias) or a bias per map; then ReLU or sigmoid.
 * Max-pools, fully connected layers (BN per unit, m' = m) and the logits follow. Parameters are
 * graph inputs named in convNetVariables' order (convParamSlots).
 */
import type { Activation } from '../../config/config.js';
import type { CnnPlan } from '../../config/conv-shapes.js';
import type { GraphBuilder } from './graph.js';
import { SINGLE } from './layout.js';
import { batchNorm, type LayerValues, type LogSoftmaxForm } from './net-graph.js';
import { activate, im2col, maxPool, type ConvShape, type PoolShape } from './conv-ops.js';

export interface ConvNetSpec {
  plan: CnnPlan;
  hiddenUnits: number[];
  classes: number;
  bn: boolean;
  epsilon: number;
  activation: Activation;
  logSoftmax: LogSoftmaxForm;
}

/** One layer with parameters: a conv stage (`c<j>`) or a hidden layer (`h<i>`), in bnWidths order. */
export interface AffineLayer {
  name: string;
  fanIn: number;
  units: number;
}

/** The conv stages, then the hidden layers: the layers with weights below the logits. */
export function affineLayers(spec: ConvNetSpec): AffineLayer[] {
  const conv = spec.plan.stages.flatMap((s) => (s.type === 'conv' ? [s] : []));
  const widths = [spec.plan.flatSize, ...spec.hiddenUnits];
  return [
    ...conv.map((s, j) => ({ name: `c${j}`, fanIn: s.kernel * s.kernel * s.inShape[2], units: s.outShape[2] })),
    ...spec.hiddenUnits.map((units, i) => ({ name: `h${i}`, fanIn: widths[i], units })),
  ];
}

/** The parameters in convNetVariables' order: per layer w then b | gamma, beta; then out.w, out.b. */
export function convParamSlots(spec: ConvNetSpec): { name: string; dims: number[] }[] {
  const slots = affineLayers(spec).flatMap((l) => [
    { name: `${l.name}.w`, dims: [l.fanIn, l.units] },
    ...(spec.bn ? ['gamma', 'beta'].map((p) => ({ name: `${l.name}.${p}`, dims: [l.units] })) : [{ name: `${l.name}.b`, dims: [l.units] }]),
  ]);
  const last = spec.hiddenUnits.at(-1) ?? spec.plan.flatSize;
  return [...slots, { name: 'out.w', dims: [last, spec.classes] }, { name: 'out.b', dims: [spec.classes] }];
}

export function convParamInputs(g: GraphBuilder, spec: ConvNetSpec, prefix = ''): Map<string, string> {
  return new Map(convParamSlots(spec).map((s) => [s.name, g.input(prefix + s.name, s.dims)]));
}

/** Graph values of one affine layer, as conv-forward.ts's AffineCache: net-graph.ts's LayerValues (`input`: the patches for a conv stage) with its name and row count. */
export interface AffineValues extends LayerValues {
  name: string;
  /** The values each BN statistic is taken over: m*P*Q (conv) or m (fully connected). */
  rows: number;
}

export type StageValues = { type: 'conv'; shape: ConvShape; layer: AffineValues } | { type: 'pool'; shape: PoolShape; mask: string };

export interface ConvForwardValues {
  stages: StageValues[];
  hidden: AffineValues[];
  logits: string;
}

/** Training-mode forward pass of m examples x (m x 784): batch statistics per map and unit. */
export function convForwardTrain(g: GraphBuilder, spec: ConvNetSpec, p: Map<string, string>, x: string, m: number): ConvForwardValues {
  const layers = affineLayers(spec);
  let k = 0;
  const affine = (input: string, rows: number): AffineValues => {
    const { name, units } = layers[k++];
    const z = g.matMul(input, p.get(`${name}.w`)!);
    const values = spec.bn
      ? batchNorm(g, SINGLE, z, p.get(`${name}.gamma`)!, p.get(`${name}.beta`)!, spec.epsilon, 1, rows, units)
      : { pre: g.add(z, p.get(`${name}.b`)!) };
    return { name, input, rows, ...values, act: activate(g, values.pre, spec.activation) };
  };
  let h = x;
  const stages = spec.plan.stages.map((s): StageValues => {
    if (s.type === 'pool') {
      const { out, mask } = maxPool(g, h, s, m, true);
      h = out;
      return { type: 'pool', shape: s, mask: mask! };
    }
    const [pp, q, f] = s.outShape;
    const layer = affine(im2col(g, h, s, m), m * pp * q);
    h = g.reshape(layer.act, [m, pp * q * f]);
    return { type: 'conv', shape: s, layer };
  });
  const hidden = spec.hiddenUnits.map(() => {
    const layer = affine(h, m);
    h = layer.act;
    return layer;
  });
  return { stages, hidden, logits: g.add(g.matMul(h, p.get('out.w')!), p.get('out.b')!) };
}

/**
 * Inference-mode logits of n examples with fixed statistics per BN layer (Algorithm 2; inputs
 * `stats`, in affineLayers' order), and the last hidden layer's inputs to the nonlinearity.
 */
export function convForwardInference(
  g: GraphBuilder,
  spec: ConvNetSpec,
  p: Map<string, string>,
  x: string,
  n: number,
  stats?: { mean: string[]; variance: string[] },
): { logits: string; lastPre: string } {
  const layers = affineLayers(spec);
  let k = 0;
  let lastPre = x;
  const affine = (input: string): string => {
    const { name } = layers[k];
    const z = g.matMul(input, p.get(`${name}.w`)!);
    let pre: string;
    if (spec.bn && stats) {
      const scale = g.mul(p.get(`${name}.gamma`)!, g.op('Reciprocal', [g.op('Sqrt', [g.add(stats.variance[k], g.scalar(spec.epsilon))])]));
      pre = g.add(g.mul(g.sub(z, stats.mean[k]), scale), p.get(`${name}.beta`)!);
    } else {
      pre = g.add(z, p.get(`${name}.b`)!);
    }
    k++;
    lastPre = pre;
    return activate(g, pre, spec.activation);
  };
  let h = x;
  for (const s of spec.plan.stages) {
    if (s.type === 'pool') h = maxPool(g, h, s, n, false).out;
    else h = g.reshape(affine(im2col(g, h, s, n)), [n, s.outShape[0] * s.outShape[1] * s.outShape[2]]);
  }
  for (const _ of spec.hiddenUnits) h = affine(h);
  return { logits: g.add(g.matMul(h, p.get('out.w')!), p.get('out.b')!), lastPre };
}
