/**
 * The Sec. 4.1 nets as ONNX graph pieces, op for op the maths of src/model/forward.ts and
 * backward.ts (Algorithm 1 over the mini-batch with the biased variance, sigmoid, softmax
 * cross-entropy, the hand-written backward with the learning rate folded into dLogits).
 * Parameters are graph inputs named in netVariables' order (see paramNames).
 */
import type { GraphBuilder } from './graph.js';

export interface NetSpec {
  inputSize: number;
  hiddenUnits: number[];
  classes: number;
  bn: boolean;
  epsilon: number;
  /** The loss's log-softmax (default `op`); see LogSoftmaxForm. */
  logSoftmax?: LogSoftmaxForm;
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

/** Declares every parameter as a graph input named prefix + name; returns name -> value. */
export function paramInputs(g: GraphBuilder, spec: NetSpec, prefix = ''): Map<string, string> {
  return new Map(paramSlots(spec).map((s) => [s.name, g.input(prefix + s.name, s.dims)]));
}

/**
 * Algorithm 1 on z (rows x units). With groups > 1 the rows are `groups` mini-batches of
 * rows/groups examples, each normalized by its own moments (Algorithm 2's N_BN^tr over K batches).
 */
function batchNorm(g: GraphBuilder, z: string, gamma: string, beta: string, epsilon: number, groups: number, rows: number, units: number) {
  const grouped = groups > 1 ? g.reshape(z, [groups, rows / groups, units]) : z;
  const axis = groups > 1 ? 1 : 0;
  const keep = (a: string) => (groups > 1 ? g.op('ReduceMean', [a], { axes: [axis], keepdims: 1 }) : g.mean(a, [axis]));
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
  const layers: LayerValues[] = [];
  let h = x;
  spec.hiddenUnits.forEach((units, i) => {
    const z = g.matMul(h, p.get(`h${i}.w`)!);
    const values = spec.bn
      ? batchNorm(g, z, p.get(`h${i}.gamma`)!, p.get(`h${i}.beta`)!, spec.epsilon, groups, rows, units)
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

/** log(softmax(x)) over axis 1 of a (rows x classes) matrix. */
function logSoftmax(g: GraphBuilder, x: string, form: LogSoftmaxForm): string {
  if (form === 'op') return g.op('LogSoftmax', [x], { axis: 1 });
  const shifted = g.sub(x, g.op('ReduceMax', [x], { axes: [1], keepdims: 1 }));
  const logSum = g.op('Log', [g.op('ReduceSum', [g.op('Exp', [shifted]), g.ints([1])], { keepdims: 1 })]);
  return g.sub(shifted, logSum);
}

/** Mean cross-entropy of logits against one-hot targets over `rows` examples. */
export function crossEntropy(g: GraphBuilder, logits: string, targets: string, rows: number, form: LogSoftmaxForm = 'op'): { loss: string; logProbs: string } {
  const logProbs = logSoftmax(g, logits, form);
  return { loss: g.div(g.op('Neg', [g.sum(g.mul(targets, logProbs))]), g.scalar(rows)), logProbs };
}

/**
 * backward.ts's gradients, with dLogits = (softmax - targets) * gradScale / m, by parameter name.
 * BN: dgamma = sum(g xhat), dbeta = sum(g), dz = gamma invStd (g - (dbeta + xhat dgamma) / m).
 */
export function backward(
  g: GraphBuilder,
  spec: NetSpec,
  p: Map<string, string>,
  fwd: { layers: LayerValues[]; logProbs: string },
  targets: string,
  m: number,
  gradScale: number,
): Map<string, string> {
  const grads = new Map<string, string>();
  const dLogits = g.mul(g.sub(g.op('Exp', [fwd.logProbs]), targets), g.scalar(gradScale / m));
  const L = fwd.layers.length;
  grads.set('out.w', g.matMul(g.transpose(fwd.layers[L - 1].act), dLogits));
  grads.set('out.b', g.sum(dLogits, [0]));
  let dAct = g.matMul(dLogits, g.transpose(p.get('out.w')!));
  for (let i = L - 1; i >= 0; i--) {
    const c = fwd.layers[i];
    const dPre = g.mul(dAct, g.mul(c.act, g.sub(g.scalar(1), c.act)));
    let dz = dPre;
    if (spec.bn) {
      const dGamma = g.sum(g.mul(dPre, c.xhat!), [0]);
      const dBeta = g.sum(dPre, [0]);
      const scale = g.mul(p.get(`h${i}.gamma`)!, c.invStd!);
      dz = g.mul(scale, g.sub(dPre, g.div(g.add(g.mul(c.xhat!, dGamma), dBeta), g.scalar(m))));
      grads.set(`h${i}.gamma`, dGamma);
      grads.set(`h${i}.beta`, dBeta);
    } else {
      grads.set(`h${i}.b`, g.sum(dPre, [0]));
    }
    grads.set(`h${i}.w`, g.matMul(g.transpose(c.input), dz));
    if (i > 0) dAct = g.matMul(dz, g.transpose(p.get(`h${i}.w`)!));
  }
  return grads;
}
