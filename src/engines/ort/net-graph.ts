/**
 * The Sec. 4.1 nets as ONNX graph pieces, op for op the maths of src/model/forward.ts and
 * backward.ts (Algorithm 1 over the mini-batch with the biased variance, sigmoid, softmax
 * cross-entropy, the hand-written backward with the learning rate folded into dLogits).
 * Parameters are graph inputs named in netVariables' order (see paramNames). spec.layout batches
 * K runs of one arm on a leading axis (layout.ts); without it, one run, op for op as always.
 */
import type { GraphBuilder } from './graph.js';
import { SINGLE, colAxis, layoutDims, meanRows, perRunConstant, sumPerRun, sumRows, transposeRuns, type Layout } from './layout.js';

export interface NetSpec {
  inputSize: number;
  hiddenUnits: number[];
  classes: number;
  bn: boolean;
  epsilon: number;
  /** The loss's log-softmax (default `op`); see LogSoftmaxForm. */
  logSoftmax?: LogSoftmaxForm;
  /** One run (default) or K runs batched; see layout.ts. */
  layout?: Layout;
}

interface ParamSlot {
  name: string;
  dims: number[];
}

/** The parameters in netVariables' order: per hidden layer w then b | gamma, beta; then out.w, out.b. */
export function paramSlots(spec: NetSpec): ParamSlot[] {
  const widths = [spec.inputSize, ...spec.hiddenUnits];
  const slots = spec.hiddenUnits.flatMap((units, i): ParamSlot[] => [
    { name: `h${i}.w`, dims: [widths[i], units] },
    ...(spec.bn
      ? [
          { name: `h${i}.gamma`, dims: [units] },
          { name: `h${i}.beta`, dims: [units] },
        ]
      : [{ name: `h${i}.b`, dims: [units] }]),
  ]);
  return [...slots, { name: 'out.w', dims: [widths.at(-1)!, spec.classes] }, { name: 'out.b', dims: [spec.classes] }];
}

/** Graph values of one layer, as forward.ts's LayerCache. */
export interface LayerValues {
  input: string;
  pre: string;
  act: string;
  xhat?: string;
  invStd?: string;
  /** Batch moments: [units], or [groups, 1, units] when the batch was split into groups. */
  mean?: string;
  variance?: string;
}

/** Declares every parameter as a graph input named prefix + name (dims per spec.layout); returns name -> value. */
export function paramInputs(g: GraphBuilder, spec: NetSpec, prefix = ''): Map<string, string> {
  return new Map(paramSlots(spec).map((s) => [s.name, g.input(prefix + s.name, layoutDims(spec.layout ?? SINGLE, s.dims))]));
}

/**
 * Algorithm 1 on z (rows x units). With groups > 1 the rows are `groups` mini-batches of
 * rows/groups examples, each normalized by its own moments (Algorithm 2's N_BN^tr over K batches).
 */
export function batchNorm(g: GraphBuilder, l: Layout, z: string, gamma: string, beta: string, epsilon: number, groups: number, rows: number, units: number) {
  const grouped = groups > 1 ? g.reshape(z, [groups, rows / groups, units]) : z;
  // Grouped (one run only) and batched both hold the rows on axis 1, keeping it.
  const keep = (a: string) => (groups > 1 ? g.op('ReduceMean', [a], { axes: [1], keepdims: 1 }) : meanRows(g, l, a));
  const mean = keep(grouped);
  const centered = g.sub(grouped, mean);
  const variance = keep(g.mul(centered, centered)); // biased: divides by m
  const invStd = g.op('Reciprocal', [g.op('Sqrt', [g.add(variance, g.scalar(epsilon))])]);
  const xhat3 = g.mul(centered, invStd);
  const xhat = groups > 1 ? g.reshape(xhat3, [rows, units]) : xhat3;
  return { mean, variance, invStd, xhat, pre: g.add(g.mul(xhat, gamma), beta) };
}

/** Training-mode forward pass (batch statistics) of `rows` examples in `groups` mini-batches. */
export function forwardTrain(
  g: GraphBuilder,
  spec: NetSpec,
  p: Map<string, string>,
  x: string,
  rows: number,
  groups = 1,
): { layers: LayerValues[]; logits: string } {
  const l = spec.layout ?? SINGLE;
  if (groups > 1 && l.kind !== 'single') throw new Error('grouped batch statistics are built for one run only');
  const layers: LayerValues[] = [];
  let h = x;
  spec.hiddenUnits.forEach((units, i) => {
    const z = g.matMul(h, p.get(`h${i}.w`)!);
    const values = spec.bn
      ? batchNorm(g, l, z, p.get(`h${i}.gamma`)!, p.get(`h${i}.beta`)!, spec.epsilon, groups, rows, units)
      : { pre: g.add(z, p.get(`h${i}.b`)!) };
    const act = g.sigmoid(values.pre);
    layers.push({ input: h, ...values, act });
    h = act;
  });
  return { layers, logits: g.add(g.matMul(h, p.get('out.w')!), p.get('out.b')!) };
}

/** Inference-mode logits with fixed per-layer statistics (BN) or none (baseline), as forwardInference. */
export function forwardInference(g: GraphBuilder, spec: NetSpec, p: Map<string, string>, x: string, stats?: { mean: string[]; variance: string[] }): string {
  let h = x;
  spec.hiddenUnits.forEach((_, i) => {
    const z = g.matMul(h, p.get(`h${i}.w`)!);
    let pre: string;
    if (spec.bn) {
      const scale = g.mul(p.get(`h${i}.gamma`)!, g.op('Reciprocal', [g.op('Sqrt', [g.add(stats!.variance[i], g.scalar(spec.epsilon))])]));
      pre = g.add(g.mul(g.sub(z, stats!.mean[i]), scale), p.get(`h${i}.beta`)!);
    } else {
      pre = g.add(z, p.get(`h${i}.b`)!);
    }
    h = g.sigmoid(pre);
  });
  return g.add(g.matMul(h, p.get('out.w')!), p.get('out.b')!);
}

/**
 * How the log-softmax is expressed: `op`, ONNX's LogSoftmax (one node; ORT's WebGPU provider has
 * no kernel for it and runs it on the CPU, with a copy each way); `reduce`, the same function as
 * x - max - log(sum(exp(x - max))) over the classes, ops every provider here runs.
 */
export type LogSoftmaxForm = 'op' | 'reduce';

/** log(softmax(x)) over the classes of (rows x classes) logits, per run. */
function logSoftmax(g: GraphBuilder, x: string, form: LogSoftmaxForm, l: Layout): string {
  const axis = colAxis(l);
  if (form === 'op') return g.op('LogSoftmax', [x], { axis });
  const shifted = g.sub(x, g.op('ReduceMax', [x], { axes: [axis], keepdims: 1 }));
  const logSum = g.op('Log', [g.op('ReduceSum', [g.op('Exp', [shifted]), g.ints([axis])], { keepdims: 1 })]);
  return g.sub(shifted, logSum);
}

/** Mean cross-entropy of logits against one-hot targets over `rows` examples: a scalar, or K (batched). */
export function crossEntropy(
  g: GraphBuilder,
  logits: string,
  targets: string,
  rows: number,
  form: LogSoftmaxForm = 'op',
  l: Layout = SINGLE,
): { loss: string; logProbs: string } {
  const logProbs = logSoftmax(g, logits, form, l);
  return { loss: g.div(g.op('Neg', [sumPerRun(g, l, g.mul(targets, logProbs))]), g.scalar(rows)), logProbs };
}

/**
 * backward.ts's gradients, with dLogits = (softmax - targets) * gradScale / m, by parameter name.
 * BN: dgamma = sum(g xhat), dbeta = sum(g), dz = gamma invStd (g - (dbeta + xhat dgamma) / m).
 * gradScale: one number, or (batched) one per run, e.g. each run's learning rate.
 */
export function backward(
  g: GraphBuilder,
  spec: NetSpec,
  p: Map<string, string>,
  fwd: { layers: LayerValues[]; logProbs: string },
  targets: string,
  m: number,
  gradScale: number | number[],
): Map<string, string> {
  const l = spec.layout ?? SINGLE;
  const grads = new Map<string, string>();
  const scales = (Array.isArray(gradScale) ? gradScale : [gradScale]).map((s) => s / m);
  const dLogits = g.mul(g.sub(g.op('Exp', [fwd.logProbs]), targets), perRunConstant(g, l, scales));
  const L = fwd.layers.length;
  grads.set('out.w', g.matMul(transposeRuns(g, l, fwd.layers[L - 1].act), dLogits));
  grads.set('out.b', sumRows(g, l, dLogits));
  let dAct = g.matMul(dLogits, transposeRuns(g, l, p.get('out.w')!));
  for (let i = L - 1; i >= 0; i--) {
    const c = fwd.layers[i];
    const dPre = g.mul(dAct, g.mul(c.act, g.sub(g.scalar(1), c.act)));
    let dz = dPre;
    if (spec.bn) {
      const dGamma = sumRows(g, l, g.mul(dPre, c.xhat!));
      const dBeta = sumRows(g, l, dPre);
      const scale = g.mul(p.get(`h${i}.gamma`)!, c.invStd!);
      dz = g.mul(scale, g.sub(dPre, g.div(g.add(g.mul(c.xhat!, dGamma), dBeta), g.scalar(m))));
      grads.set(`h${i}.gamma`, dGamma);
      grads.set(`h${i}.beta`, dBeta);
    } else {
      grads.set(`h${i}.b`, sumRows(g, l, dPre));
    }
    grads.set(`h${i}.w`, g.matMul(transposeRuns(g, l, c.input), dz));
    if (i > 0) dAct = g.matMul(dz, transposeRuns(g, l, p.get(`h${i}.w`)!));
  }
  return grads;
}
