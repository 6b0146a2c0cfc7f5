/**
 * Whether the runs a process trains are stepped in lockstep (one stacked ONNX Runtime graph call
 * per step for all of them, src/training/lockstep.ts): the `lockstep` key's decision table, in one place.
 * Lockstep is an ORT feature; the tfjs backends have no stacked engine.
 */
import type { BackendName, ResolvedConfig } from './config.js';
import { UsageError } from '../core/errors.js';

/**
 * What `auto` does per backend; undefined: the backend has no lockstep. Measured with
 * `npm run bench` on this project's 2 cores, ORT CPU provider, one intra-op thread: 447, 332, 356
 * and 420 run-steps/s stacked at K = 1, 2, 6, 30, so stacking gains nothing on the CPU (the kernels
 * run one after another either way) and `auto` is off there; the batched layout (runs on a leading
 * axis) measured within the noise of it too (docs/performance.md). On a GPU provider one call and
 * one set of dispatches serves all K runs (batched: 114 kernels per call for the BN net at K = 2
 * or 6 on ort-webgpu, against 110 per run-step as copies), so `auto` stacks there. CNN runs follow
 * the same table: they stack as copies on every provider (stack-layout.ts), which on a GPU still
 * makes K runs' steps one call (one submission and one wait) where separate runs make K.
 */
export const LOCKSTEP_AUTO: Record<Exclude<BackendName, 'auto'>, boolean | undefined> = {
  'ort-cpu': false,
  'ort-webgpu': true,
  'ort-cuda': true,
  tensorflow: undefined,
  webgpu: undefined,
  wasm: undefined,
  cpu: undefined,
};

/** The usage error of `lockstep: on` on a backend without lockstep (`where` starts the sentence), else undefined. */
export function lockstepRefusal(lockstep: ResolvedConfig['lockstep'], backend: BackendName, where: string, chosenByAuto = ''): UsageError | undefined {
  if (lockstep !== 'on' || backend === 'auto' || LOCKSTEP_AUTO[backend] !== undefined) return undefined;
  return new UsageError(
    `${where}config key "lockstep" is "on", but lockstep training is an ONNX Runtime feature and ${backend}${chosenByAuto} is a tfjs backend; use --backend ort-cpu, ort-webgpu or ort-cuda, or --lockstep off.`,
  );
}

/**
 * Whether a process on `backend` (the one initBackend chose) trains its `runs` runs in lockstep;
 * `on` on a tfjs backend (one `auto` chose) is the usage error of lockstepRefusal.
 */
export function lockstepFor(config: ResolvedConfig, backend: string, runs: number): boolean {
  const name = (Object.hasOwn(LOCKSTEP_AUTO, backend) ? backend : 'auto') as BackendName;
  // Name auto's choice as such: for the CNN, auto picks a tfjs backend even where ort-cpu loads.
  const chosen = config.backend !== 'auto' ? '' : ` (the one --backend auto chose${config.model.kind === 'cnn' ? ' for the CNN' : ''})`;
  const refusal = lockstepRefusal(config.lockstep, name, '', chosen);
  if (refusal) throw refusal;
  if (config.lockstep !== 'auto') return config.lockstep === 'on';
  return name !== 'auto' && LOCKSTEP_AUTO[name] === true && runs > 1;
}
