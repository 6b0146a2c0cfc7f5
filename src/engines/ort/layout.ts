/**
 * Where a graph's tensors put the runs it steps. `single`: one run, matrices rows x columns (the
 * engine's graphs). `batched`: K runs of one arm on a leading axis (weights K x in x out, biases and
 * BN statistics K x 1 x units, the batch K x m x inputs), so each op is one kernel for all K runs
 * (what JAX's vmap does) instead of K copies of the step. The single layout builds exactly the ops
 * it always built, so the engine's graphs and rows do not change.
 */
import type { GraphBuilder } from './graph.js';

export type Layout = { kind: 'single' } | { kind: 'batched'; runs: number };

export const SINGLE: Layout = { kind: 'single' };

const batched = (l: Layout) => l.kind === 'batched';

/** A parameter's graph dims: dims of one run, or K x dims with vectors as K x 1 x units (they broadcast over rows). */
export function layoutDims(l: Layout, dims: number[]): number[] {
  if (l.kind === 'single') return dims;
  return dims.length === 1 ? [l.runs, 1, dims[0]] : [l.runs, ...dims];
}

/** The axis of the examples (rows) and the axis of the classes or units. */
export const rowAxis = (l: Layout) => (batched(l) ? 1 : 0);
export const colAxis = (l: Layout) => rowAxis(l) + 1;

/** Each run's matrix transposed. */
export const transposeRuns = (g: GraphBuilder, l: Layout, a: string) => (batched(l) ? g.op('Transpose', [a], { perm: [0, 2, 1] }) : g.transpose(a));

/** Sum over the rows: [units] for one run, K x 1 x units batched (the shape of a vector parameter). */
export const sumRows = (g: GraphBuilder, l: Layout, a: string) => (batched(l) ? g.op('ReduceSum', [a, g.ints([1])], { keepdims: 1 }) : g.sum(a, [0]));

/** Mean over the rows, shaped as sumRows. */
export const meanRows = (g: GraphBuilder, l: Layout, a: string) => (batched(l) ? g.op('ReduceMean', [a], { axes: [1], keepdims: 1 }) : g.mean(a, [0]));

/** Sum of everything of one run: a scalar, or one value per run (K). */
export const sumPerRun = (g: GraphBuilder, l: Layout, a: string) => (batched(l) ? g.op('ReduceSum', [a, g.ints([1, 2])], { keepdims: 0 }) : g.sum(a));

/**
 * A per-run constant: one run's value as a scalar; batched, K values shaped K x 1 x 1 so that run
 * r's rows get values[r] (e.g. each run's own learning rate).
 */
export const perRunConstant = (g: GraphBuilder, l: Layout, values: number[]) => (batched(l) ? g.floats(values, [values.length, 1, 1]) : g.scalar(values[0]));
