/**
 * The execution flags --resume takes (src/commands/flags.ts EXECUTION_FLAGS): each replaces its key
 * in the config the resumed runs train with, while run.json keeps the config it was saved with (the
 * digest leaves these keys out, so the checkpoints still match it).
 */
import type { ResolvedConfig } from '../config/config.js';
import { lockstepFor } from '../config/lockstep-rule.js';
import { UsageError } from '../core/errors.js';

/** What a resume may change: how the runs are trained, never what they compute. */
export interface ResumeOverrides {
  jobs?: number;
  lockstep?: ResolvedConfig['lockstep'];
}

/** The saved config with the given overrides in place. */
export function resumedConfig(saved: ResolvedConfig, overrides: ResumeOverrides): ResolvedConfig {
  return {
    ...saved,
    ...(overrides.jobs !== undefined ? { jobs: overrides.jobs } : {}),
    ...(overrides.lockstep !== undefined ? { lockstep: overrides.lockstep } : {}),
  };
}

/**
 * lockstepFor's refusal of lockstep on a tfjs backend, phrased for --resume (which takes no
 * --backend) when the flag asked for it; called before anything in the folder changes.
 */
export function checkResumedLockstep(config: ResolvedConfig, backend: string, overrides: ResumeOverrides): void {
  try {
    lockstepFor(config, backend, 0);
  } catch (err) {
    if (!(err instanceof UsageError) || overrides.lockstep !== 'on') throw err;
    throw new UsageError(
      `--lockstep on cannot be used here: this folder's runs train on ${backend}, a tfjs backend, and lockstep training is an ONNX Runtime feature; drop --lockstep or give --lockstep off.`,
    );
  }
}
