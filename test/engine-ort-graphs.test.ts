/**
 * The ORT engine's graphs alone, on the CPU provider: the step graph's backward against central
 * finite differences of its own loss (float64, so the differences are exact to ~1e-9), and K runs
 * stacked in one graph stepping exactly as K separate graphs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { paramSlots, type NetSpec } from '../src/engines/ort/net-graph.js';
import { sessionOptions } from '../src/engines/ort/runtime.js';
import { LOSS_SUM, NEXT, gradModel, stackPrefix, stackedStepModel, stepModel, type StepSpec } from '../src/engines/ort/step-graph.js';
import { Rng } from '../src/core/random.js';

const size = (dims: number[]) => dims.reduce((a, b) => a * b, 1);

test('the graph backward equals central finite differences of the graph loss (float64, tiny nets, both arms)', async () => {
  for (const bn of [false, true]) {
    const spec: NetSpec & { batchSize: number } = { inputSize: 6, hiddenUnits: [5, 4], classes: 3, bn, epsilon: 1e-3, batchSize: 7 };
    const session = await ort.InferenceSession.create(gradModel(spec, 'float64'), sessionOptions('cpu'));
    const rng = Rng.stream(11, 'grad-check');
    const f64 = (n: number, f: () => number, dims: number[]) => new ort.Tensor('float64', Float64Array.from({ length: n }, f), dims);
    const feeds: Record<string, ort.Tensor> = {
      x: f64(7 * 6, () => rng.uniform(), [7, 6]),
      y: f64(7 * 3, () => 0, [7, 3]),
    };
    for (let i = 0; i < 7; i++) (feeds.y.data as Float64Array)[i * 3 + (i % 3)] = 1;
    // gamma near 1, the rest small and random: no symmetric point where a gradient vanishes by chance.
    for (const s of paramSlots(spec)) feeds[s.name] = f64(size(s.dims), () => (s.name.endsWith('gamma') ? 1 : 0) + 0.5 * rng.normal(), s.dims);
    const out = await session.run(feeds);
    const lossAt = async () => ((await session.run(feeds)).loss.data as Float64Array)[0];
    const h = 1e-5;
    let checked = 0;
    for (const s of paramSlots(spec)) {
      const values = feeds[s.name].data as Float64Array;
      const analytic = out[`grad.${s.name}`].data as Float64Array;
      for (let k = 0; k < values.length; k++) {
        const v = values[k];
        values[k] = v + h;
        const up = await lossAt();
        values[k] = v - h;
        const down = await lossAt();
        values[k] = v;
        const numeric = (up - down) / (2 * h);
        assert.ok(
          Math.abs(numeric - analytic[k]) <= 1e-7 + 1e-5 * Math.abs(numeric),
          `${bn ? 'bn' : 'baseline'} ${s.name}[${k}]: graph ${analytic[k]} vs finite difference ${numeric}`,
        );
        checked++;
      }
    }
    assert.equal(
      checked,
      paramSlots(spec).reduce((n, s) => n + size(s.dims), 0),
    );
    await session.release();
  }
});

test('two runs stacked in one graph (baseline at lr 0.5, BN at lr 0.1) step bit for bit as two separate graphs', async () => {
  const base = { inputSize: 6, hiddenUnits: [5, 4], classes: 3, epsilon: 1e-3, batchSize: 7 };
  const specs: StepSpec[] = [
    { ...base, bn: false, learningRate: 0.5 },
    { ...base, bn: true, learningRate: 0.1, momentum: 0.9 },
  ];
  const stacked = await ort.InferenceSession.create(stackedStepModel(specs), sessionOptions('cpu'));
  const single = await Promise.all(specs.map((s) => ort.InferenceSession.create(stepModel(s), sessionOptions('cpu'))));
  const rng = Rng.stream(5, 'stack-check');
  const f32 = (dims: number[], f: () => number) => new ort.Tensor('float32', Float32Array.from({ length: size(dims) }, f), dims);
  // Each run's state: parameters, loss sum, and (BN) moving statistics, by its single-graph name.
  const states = specs.map((spec) => {
    const st: Record<string, ort.Tensor> = { [LOSS_SUM]: f32([], () => 0) };
    for (const s of paramSlots(spec)) st[s.name] = f32(s.dims, () => 0.3 * rng.normal());
    if (spec.momentum !== undefined) {
      spec.hiddenUnits.forEach((u, i) => {
        st[`moving.mean${i}`] = f32([u], () => 0);
        st[`moving.variance${i}`] = f32([u], () => 1);
      });
    }
    return st;
  });
  let stackedState = Object.fromEntries(states.flatMap((st, r) => Object.entries(st).map(([k, v]) => [stackPrefix(r) + k, v])));
  for (let step = 0; step < 5; step++) {
    const batches = specs.map(() => ({ x: f32([7, 6], () => rng.uniform()), y: f32([7, 3], () => 0) }));
    for (const b of batches) for (let i = 0; i < 7; i++) (b.y.data as Float32Array)[i * 3 + ((i + step) % 3)] = 1;
    const feeds: Record<string, ort.Tensor> = { ...stackedState };
    batches.forEach((b, r) => {
      feeds[`${stackPrefix(r)}x`] = b.x;
      feeds[`${stackPrefix(r)}y`] = b.y;
    });
    const out = await stacked.run(feeds);
    stackedState = Object.fromEntries(Object.keys(stackedState).map((k) => [k, out[k.replace('/', `/${NEXT}`)]]));
    for (let r = 0; r < specs.length; r++) {
      const o = await single[r].run({ ...states[r], x: batches[r].x, y: batches[r].y });
      for (const k of Object.keys(states[r])) states[r][k] = o[NEXT + k];
    }
  }
  let compared = 0;
  states.forEach((st, r) =>
    Object.entries(st).forEach(([k, v]) => {
      assert.deepEqual(Array.from(stackedState[stackPrefix(r) + k].data as Float32Array), Array.from(v.data as Float32Array), `run ${r} ${k}`);
      compared++;
    }),
  );
  assert.equal(compared, 7 + 13, 'baseline: 6 parameters + loss sum; BN: 8 parameters + loss sum + 4 moving statistics');
  assert.ok((states[1][LOSS_SUM].data as Float32Array)[0] > 0, 'the loss sum moved');
  await stacked.release();
  await Promise.all(single.map((s) => s.release()));
});
