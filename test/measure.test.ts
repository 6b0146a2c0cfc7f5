/**
 * The Santurkar et al. (2018) measurements: host vector maths against hand-computed values, the
 * gradients at shifted parameters against central finite differences, ICS's first layer exactly
 * (0, 1), and the landscape against an independent path (variables moved by assign, tfjs autodiff).
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { registerReferenceGradients } from '../src/model/autodiff-gradients.js';
import { forwardTrain, softmaxCrossEntropy } from '../src/model/forward.js';
import { gradTensors, lossAndGrads, shiftedNet, weightGrad } from '../src/model/gradients.js';
import { createNet, disposeNet, netVariables, type AnyNet } from '../src/model/net.js';
import { measureIcs } from '../src/training/measure/ics.js';
import { measureLandscape } from '../src/training/measure/landscape.js';
import { cosine, distance, norm } from '../src/training/measure/vectors.js';
import { Rng } from '../src/core/random.js';
import { assertClose, assertMatchesFiniteDifferences, useTestBackend, valuesOf } from './helpers.js';
import { smallProblem as sharedProblem } from './net-fixtures.js';

before(useTestBackend);

test('vector maths: norm, distance and cosine of hand-computed vectors', () => {
  const a = [Float32Array.from([3, 0]), Float32Array.from([4])];
  const b = [Float32Array.from([0, 0]), Float32Array.from([4])];
  assert.equal(norm(a), 5);
  assert.equal(distance(a, b), 3);
  assertClose(cosine(a, b), 4 / 5, 1e-15, 'cos');
  assert.equal(cosine(a, a), 1);
  assert.ok(Number.isNaN(cosine(a, [new Float32Array(2), new Float32Array(1)])));
});

const smallProblem = (bn: boolean) => sharedProblem(bn, { init: 21, data: 22 });

const lossAt = (net: AnyNet, x: tf.Tensor2D, y: tf.Tensor2D) => tf.tidy(() => softmaxCrossEntropy(forwardTrain(net, x).logits, y).loss.dataSync()[0]);

test('shiftedNet moves exactly the chosen layers by eta * g and leaves the net untouched', () => {
  const { net, x, y } = smallProblem(true);
  const before = netVariables(net).map(valuesOf);
  tf.tidy(() => {
    const { grads } = lossAndGrads(net, x, y);
    const moved = shiftedNet(net, grads, 0.25, (layer) => layer === 1);
    assert.deepEqual(valuesOf(moved.hidden[0].w), before[0], 'layer 0 stays');
    const w1 = valuesOf(net.hidden[1].w);
    const g1 = valuesOf(grads.hidden[1].w);
    valuesOf(moved.hidden[1].w).forEach((v, j) => assertClose(v, w1[j] - 0.25 * g1[j], 1e-6, `w1[${j}]`));
    const gamma = valuesOf(net.hidden[1].gamma!);
    const dGamma = valuesOf(grads.hidden[1].gamma!);
    valuesOf(moved.hidden[1].gamma!).forEach((v, j) => assertClose(v, gamma[j] - 0.25 * dGamma[j], 1e-6, `gamma1[${j}]`));
    assert.deepEqual(valuesOf(moved.out.w), valuesOf(net.out.w), 'the output layer stays');
  });
  assert.deepEqual(netVariables(net).map(valuesOf), before, 'no variable was assigned');
  disposeNet(net);
  tf.dispose([x, y]);
});

/** A net of variables holding `moved`'s values, so finite differences can assign single weights. */
function variableCopy(bn: boolean, moved: AnyNet) {
  const copy = createNet({ inputSize: 6, hiddenUnits: [5, 4], classes: 3 }, { bn, initStd: 1, epsilon: 1e-3 }, Rng.stream(0, 'unused'));
  const values = [...moved.hidden.flatMap((l) => [l.w, l.b, l.gamma, l.beta]), moved.out.w, moved.out.b].filter((t) => t !== undefined);
  netVariables(copy).forEach((v, i) => v.assign(values[i] as tf.Tensor));
  return copy;
}

for (const bn of [false, true]) {
  const name = bn ? 'BN' : 'baseline';

  test(`${name}: the gradient at shifted parameters (ICS's G', the landscape's grad L(theta - eta g)) matches central finite differences`, () => {
    const { net, x, y } = smallProblem(bn);
    let checked = 0;
    // Layers 1 and 2 (the output) after the layers before them moved; then every layer moved.
    for (const [layer, moves] of [
      [1, (j: number) => j < 1],
      [2, (j: number) => j < 2],
      [0, () => true],
    ] as const) {
      let analytic: number[] = [];
      let copy = net;
      tf.tidy(() => {
        const moved = shiftedNet(net, lossAndGrads(net, x, y).grads, 0.5, moves);
        analytic = valuesOf(weightGrad(lossAndGrads(moved, x, y).grads, layer));
        copy = variableCopy(bn, moved);
      });
      const w = layer < 2 ? copy.hidden[layer].w : copy.out.w;
      checked += assertMatchesFiniteDifferences(w, analytic, () => lossAt(copy, x, y), `${name} layer ${layer}`);
      disposeNet(copy);
    }
    assert.equal(checked, 5 * 4 + 4 * 3 + 6 * 5);
    disposeNet(net);
    tf.dispose([x, y]);
  });

  test(`${name}: ICS of the first layer is exactly 0 and cosine 1; later layers move`, async () => {
    const { net, x, y } = smallProblem(bn);
    const ics = await measureIcs(net, x, y, 0.5);
    assert.deepEqual(
      ics.map((l) => l.layer),
      [0, 1, 2],
    );
    assert.equal(ics[0].l2, 0);
    assert.equal(ics[0].cosine, 1);
    for (const l of ics.slice(1)) assert.ok(l.l2 > 0 && l.cosine < 1 && l.cosine > 0, `layer ${l.layer}: ${JSON.stringify(l)}`);
    disposeNet(net);
    tf.dispose([x, y]);
  });

  test(`${name}: ICS equals ||G - G'|| and cos(G, G') computed from a net moved by assign`, async () => {
    const { net, x, y } = smallProblem(bn);
    const lr = 0.3;
    const ics = await measureIcs(net, x, y, lr);
    // Independent path: move the variables of layer 0 by assign, read dL/dW_1 with tfjs autodiff.
    registerReferenceGradients();
    const vars = netVariables(net);
    const gradOf = (v: tf.Variable) =>
      tf.tidy(() => valuesOf(tf.variableGrads(() => softmaxCrossEntropy(forwardTrain(net, x).logits, y).loss, [v]).grads[v.name]));
    const g = gradOf(net.hidden[1].w);
    const layer0 = vars.slice(0, bn ? 3 : 2);
    const steps = layer0.map((v) =>
      tf.tidy(() => tf.mul(tf.variableGrads(() => softmaxCrossEntropy(forwardTrain(net, x).logits, y).loss, [v]).grads[v.name], lr)),
    );
    layer0.forEach((v, i) => v.assign(tf.sub(v, steps[i])));
    const gPrime = gradOf(net.hidden[1].w);
    const toParts = (a: number[]) => [Float32Array.from(a)];
    assertClose(ics[1].l2, distance(toParts(g), toParts(gPrime)), 1e-5 + 1e-3 * ics[1].l2, 'l2');
    assertClose(ics[1].cosine, cosine(toParts(g), toParts(gPrime)), 1e-5, 'cosine');
    tf.dispose(steps);
    disposeNet(net);
    tf.dispose([x, y]);
  });

  test(`${name}: the landscape's losses and gradient changes equal a direct computation at each step size`, async () => {
    const { net, x, y } = smallProblem(bn);
    const etas = [0.1, 0.4, 1.6];
    const point = await measureLandscape(net, x, y, etas);
    const vars = netVariables(net);
    const theta = vars.map((v) => tf.clone(v));
    const g = tf.tidy(() => gradTensors(lossAndGrads(net, x, y).grads).map((t) => tf.keep(t)));
    const gHost = g.map((t) => Float32Array.from(t.dataSync()));
    const losses: number[] = [];
    const changes: number[] = [];
    for (const eta of etas) {
      vars.forEach((v, i) => v.assign(tf.tidy(() => tf.sub(theta[i], tf.mul(g[i], eta)))));
      losses.push(lossAt(net, x, y));
      const moved = tf.tidy(() => gradTensors(lossAndGrads(net, x, y).grads).map((t) => tf.keep(t)));
      changes.push(
        distance(
          gHost,
          moved.map((t) => Float32Array.from(t.dataSync())),
        ),
      );
      tf.dispose(moved);
    }
    assertClose(point.lossMin, Math.min(...losses), 1e-6, 'loss_min');
    assertClose(point.lossMax, Math.max(...losses), 1e-6, 'loss_max');
    assertClose(point.gradChangeMax, Math.max(...changes), 1e-6, 'grad_change_max');
    const ratios = changes.map((c, i) => c / (etas[i] * norm(gHost)));
    assertClose(point.betaSmoothness, Math.max(...ratios), 1e-6, 'beta_smoothness');
    assert.ok(point.lossMax > point.lossMin && point.gradChangeMax > 0);
    tf.dispose([...theta, ...g]);
    disposeNet(net);
    tf.dispose([x, y]);
  });
}
