/**
 * The rules that relate config keys to each other (the recorded units inside the last hidden
 * layer, sweep names, GPU engines in one thread, lockstep, the subset against the batch, the
 * CNN's checks), applied to each merged config after every key passed its own rule.
 */
import { UsageError } from '../core/errors.js';
import type { ResolvedConfig } from './config.js';
import { deviceResidentRefusal } from './device-resident-rule.js';
import { lockstepRefusal } from './lockstep-rule.js';
import { checkCnnConfig } from './conv-config-check.js';
import { LIMITS } from './limits.js';

/**
 * ONNX Runtime's GPU providers train in the main thread only: with two worker threads each opening
 * its own WebGPU session, ort-webgpu ended in a segmentation fault (exit 139, on SwiftShader) where
 * one thread trained; the runs of a command then train one after another on the one device.
 */
export const GPU_ENGINES_IN_ONE_THREAD: readonly string[] = ['ort-webgpu', 'ort-cuda'];

/** The rules that relate keys, applied to each merged config; single-key rules are config-rules.ts's RULES. */
export function checkConsistency(c: ResolvedConfig, where: string): void {
  // Every network's last hidden layer must hold the recorded units: model.hiddenUnits' and each sweep entry's own.
  for (const v of [undefined, ...c.sweep.filter((e) => e.hiddenUnits !== undefined)]) {
    const units = v?.hiddenUnits ?? c.model.hiddenUnits;
    const width = units[units.length - 1];
    const bad = c.eval.units.find((u) => u >= width);
    const of = v ? ` of sweep entry "${v.name}"` : '';
    if (bad !== undefined) {
      throw new UsageError(`${where}: config key "eval.units" holds unit ${bad}, outside the last hidden layer${of} of ${width} units.`);
    }
  }
  if (new Set(c.sweep.map((v) => v.name)).size !== c.sweep.length) throw new UsageError(`${where}: config key "sweep" uses a name twice.`);
  if (c.jobs > 1 && GPU_ENGINES_IN_ONE_THREAD.includes(c.backend)) {
    throw new UsageError(
      `${where}: config key "jobs" is ${c.jobs}, but the ${c.backend} backend trains in one thread (several GPU sessions in worker threads crashed the process); drop --jobs or use 1.`,
    );
  }
  const lockstep = lockstepRefusal(c.lockstep, c.backend, `${where}: `);
  if (lockstep) throw lockstep;
  const resident = deviceResidentRefusal(c, c.backend, `${where}: `);
  if (resident) throw resident;
  if (c.data.trainSubset > 0 && c.data.trainSubset < c.train.batchSize) {
    throw new UsageError(`${where}: config key "data.trainSubset" (${c.data.trainSubset}) is smaller than one mini-batch (${c.train.batchSize}).`);
  }
  checkCnnConfig(c, where, LIMITS);
}
