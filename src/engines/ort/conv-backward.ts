/**
 * The CNN's hand-written backward pass as ONNX graph pieces, the maths of src/model/conv-backward.ts
 * (checked against finite differences and that file in test/engine-ort-cnn-grad.test.ts). A conv stage
 * is an affine layer on its im2col patches: dW = patches^T dz, and the input gradient is
 * col2im(dz W^T). BN per map (Sec. 3.2) over m' rows: dgamma = sum(g xhat), dbeta = sum(g),
 * dz = gamma invStd (g - (dbeta + xhat dgamma) / m'). Max-pools route to their mask (conv-ops.ts).
 * dLogits = (softmax - targets) * gradScale / m, so every gradient carries gradScale (the learning rate).
 */
import type { GraphBuilder } from './graph.js';
import type { AffineValues, ConvForwardValues, ConvNetSpec } from './conv-graph.js';
import { activationBackward, col2im, maxPoolBackward } from './conv-ops.js';

/** The layer's parameter gradients (into `grads`) and dL/dz (z = input W, before BN or bias). */
function affineBackward(g: GraphBuilder, spec: ConvNetSpec, p: Map<string, string>, dAct: string, c: AffineValues, grads: Map<string, string>): string {
  const dPre = activationBackward(g, dAct, c.act, spec.activation);
  let dz = dPre;
  if (spec.bn) {
    const dGamma = g.sum(g.mul(dPre, c.xhat!), [0]);
    const dBeta = g.sum(dPre, [0]);
    const scale = g.mul(p.get(`${c.name}.gamma`)!, c.invStd!);
    dz = g.mul(scale, g.sub(dPre, g.div(g.add(g.mul(c.xhat!, dGamma), dBeta), g.scalar(c.rows))));
    grads.set(`${c.name}.gamma`, dGamma);
    grads.set(`${c.name}.beta`, dBeta);
  } else {
    grads.set(`${c.name}.b`, g.sum(dPre, [0]));
  }
  grads.set(`${c.name}.w`, g.matMul(g.transpose(c.input), dz));
  return dz;
}

/** The gradient of every parameter by name (convParamSlots' names), from the log-probabilities of the forward pass. */
export function convBackward(
  g: GraphBuilder,
  spec: ConvNetSpec,
  p: Map<string, string>,
  fwd: ConvForwardValues,
  logProbs: string,
  targets: string,
  m: number,
  gradScale: number,
): Map<string, string> {
  const grads = new Map<string, string>();
  const dLogits = g.mul(g.sub(g.op('Exp', [logProbs]), targets), g.scalar(gradScale / m));
  const top = fwd.hidden.at(-1);
  if (!top) throw new Error('convBackward: the CNN needs at least one hidden layer');
  grads.set('out.w', g.matMul(g.transpose(top.act), dLogits));
  grads.set('out.b', g.sum(dLogits, [0]));
  let d = g.matMul(dLogits, g.transpose(p.get('out.w')!));
  for (let i = fwd.hidden.length - 1; i >= 0; i--) {
    const dz = affineBackward(g, spec, p, d, fwd.hidden[i], grads);
    d = g.matMul(dz, g.transpose(p.get(`${fwd.hidden[i].name}.w`)!));
  }
  // Below the first conv stage lies the image: no gradient needed there.
  const firstConv = fwd.stages.findIndex((s) => s.type === 'conv');
  for (let i = fwd.stages.length - 1; i >= firstConv; i--) {
    const s = fwd.stages[i];
    if (s.type === 'pool') {
      d = maxPoolBackward(g, d, s.mask, s.shape, m);
      continue;
    }
    const [pp, q, f] = s.shape.outShape;
    const dz = affineBackward(g, spec, p, g.reshape(d, [m * pp * q, f]), s.layer, grads);
    if (i > firstConv) d = col2im(g, g.matMul(dz, g.transpose(p.get(`${s.layer.name}.w`)!)), s.shape, m);
  }
  return grads;
}
