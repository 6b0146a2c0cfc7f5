/**
 * The pure half of `npm run bench -- --count`: reading ONNX Runtime's profiler trace and turning
 * kernel counts into the bench JSON's `dispatches` rows. No ORT, no tfjs here, so a test can feed
 * it hand-written traces.
 *
 * What onnxruntime-node 1.30 writes (seen here with `enableProfiling: true`): one JSON array of
 * Chrome-trace events, in a file `<profileFilePrefix>_<local date and time>.json`
 * (`session.endProfiling()` returns nothing in the Node binding, so the file is found by its prefix).
 * - cat "Session", name "model_run": one per `session.run`, with `ts` and `dur` in us on the CPU clock;
 * - cat "Node", name "<node name>_kernel_time": one per node kernel executed, inside its
 *   model_run's span, `args.provider` naming the execution provider that ran it
 *   ("CPUExecutionProvider", "WebGpuExecutionProvider": a WebGPU session's CPU fallbacks show here);
 * - cat "Api" (WebGPU provider only): one per compute program dispatched to the GPU
 *   ("<node>&<op>&<program>"), timed by GPU timestamp queries relative to the first dispatch, not on
 *   the CPU clock (ORT's own TODO), so they cannot be placed in a model_run span: they are
 *   counted over the whole trace and divided by the number of runs.
 */
import { z } from 'zod';

const TraceEvent = z.object({
  cat: z.string(),
  name: z.string(),
  ts: z.number(),
  dur: z.number().optional(),
  args: z.object({ provider: z.string().optional() }).loose().optional(),
});
export type TraceEvent = z.infer<typeof TraceEvent>;
const Trace = z.array(TraceEvent);

/** The kernels of one `session.run`. */
export interface RunKernels {
  /** Node kernels executed, all providers together. */
  nodes: number;
  /** Node kernels per execution provider, e.g. { CPUExecutionProvider: 110 }. */
  byProvider: Record<string, number>;
}

/** What one profiled session did, per run. */
export interface TraceCount {
  runs: RunKernels[];
  /** WebGPU compute programs dispatched per run (Api events / runs); undefined without any. */
  gpuProgramsPerRun?: number;
}

/** Parses an ORT profile file's text; a trace of another shape is a bug here, so it throws. */
export function parseOrtTrace(text: string): TraceEvent[] {
  return Trace.parse(JSON.parse(text));
}

const isRun = (e: TraceEvent) => e.cat === 'Session' && e.name === 'model_run';
const isKernel = (e: TraceEvent) => e.cat === 'Node' && e.name.endsWith('_kernel_time');

/** The node kernels of each model_run, in run order, and the GPU programs per run. */
export function countTrace(events: TraceEvent[]): TraceCount {
  const runs = events.filter(isRun).sort((a, b) => a.ts - b.ts);
  const kernels = events.filter(isKernel);
  const counted = runs.map((run): RunKernels => {
    const end = run.ts + (run.dur ?? 0);
    const inside = kernels.filter((k) => k.ts >= run.ts && k.ts <= end);
    const byProvider: Record<string, number> = {};
    for (const k of inside) {
      const provider = k.args?.provider ?? 'unknown';
      byProvider[provider] = (byProvider[provider] ?? 0) + 1;
    }
    return { nodes: inside.length, byProvider };
  });
  const programs = events.filter((e) => e.cat === 'Api').length;
  return { runs: counted, gpuProgramsPerRun: programs > 0 && runs.length > 0 ? programs / runs.length : undefined };
}

/** `--stacked 1,2,6,30`: the stack sizes K, each a positive integer (an empty list: none). */
export function stackSizes(text: string): number[] {
  const ks = text.split(',').filter((s) => s.trim() !== '');
  const bad = ks.find((s) => !/^\s*[1-9]\d*\s*$/.test(s));
  if (bad !== undefined) throw new Error(`--stacked takes positive integers separated by commas, e.g. 1,2,6,30 (got "${bad}").`);
  return ks.map(Number);
}

/** One row of the bench JSON's `dispatches`. */
export interface DispatchRow {
  backend: string;
  arm: string;
  /** Runs stepped by one call (1: the engine's own step; tfjs has no stacked step). */
  k: number;
  /** Kernels dispatched by one call (one sgdStep, or one session.run of the K-run graph). */
  perStep: number;
  /** perStep / k: what one run's step costs in dispatches. */
  perRunStep: number;
  /** ORT only: perStep split by execution provider (a WebGPU session's CPU fallbacks). */
  byProvider?: Record<string, number>;
  /** ORT WebGPU only: GPU compute programs per call (one node can be several, a reshape none). */
  gpuPrograms?: number;
  /**
   * ORT only: how the K runs share the graph. `copies`: K independent copies of the step
   * (stackedStepModel; K = 1 is the engine's own graph); `batched`: one subgraph per arm with the runs
   * on a leading axis (batchedStackModel), one kernel per op for all of them.
   */
  layout?: 'copies' | 'batched';
}

export function dispatchRow(
  backend: string,
  arm: string,
  k: number,
  perStep: number,
  extra: Pick<DispatchRow, 'byProvider' | 'gpuPrograms' | 'layout'> = {},
): DispatchRow {
  return { backend, arm, k, perStep, perRunStep: perStep / k, ...extra };
}

/** The table `--count` prints. */
export function dispatchTable(rows: DispatchRow[]): string {
  const pad = (s: string | number, n: number) => String(s).padStart(n);
  const head = `${'backend'.padEnd(11)}${'arm'.padEnd(9)}${'layout'.padEnd(8)}${pad('K', 3)}${pad('per call', 10)}${pad('per run-step', 14)}${pad('GPU programs', 14)}${pad('per run-step', 14)}  on CPU`;
  const body = rows.map((r) => {
    const gpu = r.gpuPrograms === undefined ? ['-', '-'] : [r.gpuPrograms.toFixed(0), (r.gpuPrograms / r.k).toFixed(2)];
    const cpu = r.byProvider && Object.keys(r.byProvider).length > 1 ? String(r.byProvider.CPUExecutionProvider ?? 0) : '-';
    return `${r.backend.padEnd(11)}${r.arm.padEnd(9)}${(r.layout ?? '-').padEnd(8)}${pad(r.k, 3)}${pad(r.perStep, 10)}${pad(r.perRunStep.toFixed(2), 14)}${pad(gpu[0], 14)}${pad(gpu[1], 14)}  ${cpu}`;
  });
  return [head, ...body].join('\n');
}
