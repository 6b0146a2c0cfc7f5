/**
 * How the lockstep engine (ort-stacked-engine.ts) lays out the runs it steps, per ORT provider, in
 * one place. `copies`: each run its own copy of the step subgraph (K times the kernels of one run,
 * and each run's numbers bit for bit those of separate training). `batched`: the runs of one step
 * spec on a leading axis of one subgraph (layout.ts), one kernel per op for all of them.
 *
 * Measured on ort-cpu (2026-12-01, the paper's net, 3 runs, 20 steps): the batched step differs
 * from separate graphs in the last bits (MatMul over a leading axis sums in another order; baseline
 * 36,365 of 299,133 state values differ, at most 1.3e-7 relative; BN 2.2e-6), so the CPU keeps
 * `copies` and lockstep on ort-cpu stays bit-identical to separate training (where `auto` is off
 * anyway, src/lockstep.ts). GPU providers pay per dispatch, so they batch; their rows equal
 * separate training within the tolerances (test/lockstep-batched.test.ts). The batched
 * layout is built for the MLP: CNN members (issue 20) are copies on every provider, GPU ones too.
 */
import type { OrtProvider } from './ort/runtime.js';

export type StackLayout = 'copies' | 'batched';

export const STACK_LAYOUT: Record<OrtProvider, StackLayout> = { cpu: 'copies', webgpu: 'batched', cuda: 'batched' };
