/**
 * The `mnist` verb: flags -> config -> runExperiment (or resumeExperiment for --resume); it
 * stops cleanly on Ctrl-C, SIGTERM or SIGHUP and sets the exit code from how the runs ended.
 */
import { Command } from 'commander';
import { EXIT, UsageError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { ResolvedConfig } from '../config/config.js';
import type { ExperimentResult, ResumeOverrides } from '../experiment.js';
import type { Shard } from '../run/shard.js';
import { defaultRunDir, readRunJson } from '../run/run-folder.js';
import { catchSignals } from '../core/signals.js';
import { mergeNextLine, nextStepsLine, printNext } from './next-steps.js';
import { EXECUTION_FLAGS, addConfigFlags, configFromFlags, settingFlagsGiven } from './flags.js';

export interface CommandDeps {
  makeLogger: (quiet: boolean) => Logger;
  setExit: (code: number) => void;
}

/**
 * Runs (or resumes) an experiment, prints how each run ended and returns the result and its exit
 * code. Shared by the mnist and sweep verbs, which then print the next steps when the runs ended.
 * Stop signals are the process's (src/core/signals.ts): while runs train, the first checkpoints and
 * stops them; any signal makes the exit code 130.
 */
export async function train(
  what: { config: ResolvedConfig; out: string; shard?: Shard } | ({ resume: string } & ResumeOverrides),
  quiet: boolean,
  logger: Logger,
): Promise<{ result: ExperimentResult; exitCode: number }> {
  // Loaded here, not at the top: the experiment pulls in tfjs and ONNX Runtime (about half a second
  // of a start), which a command refused at its flags or config never needs.
  const { resumeExperiment, resumeHint, runExperiment } = await import('../experiment.js');
  const tty = Boolean(process.stderr.isTTY) && !process.env.CI;
  const opts = { logger, tty, quiet, signals: catchSignals() };
  const result =
    'resume' in what
      ? await resumeExperiment(what.resume, { ...opts, jobs: what.jobs, lockstep: what.lockstep })
      : await runExperiment(what.config, what.out, { ...opts, shard: what.shard });
  for (const r of result.runs) {
    const state = r.interrupted ? `stopped at step ${r.steps}` : r.divergedAtStep !== undefined ? `diverged by step ${r.divergedAtStep}` : `${r.steps} steps`;
    logger.info(`${r.arm} seed ${r.seed}: final test accuracy ${r.finalTestAccuracy.toFixed(4)} (${state}, ${r.stepsPerSecond.toFixed(1)} steps/s)`);
  }
  // A run that ended gets its folder and the next commands on stdout from the verb (next-steps.ts).
  if (result.interrupted || result.stopped) logger.info(`results: ${result.dir}`);
  if (result.interrupted) {
    logger.warn(`interrupted; ${resumeHint(result.dir)}`);
    return { result, exitCode: EXIT.interrupted };
  }
  // A signal after the last step: every run has ended, but the program was still asked to stop.
  if (result.stopped) return { result, exitCode: EXIT.interrupted };
  return { result, exitCode: result.runs.some((r) => r.divergedAtStep !== undefined) ? EXIT.diverged : EXIT.ok };
}

/**
 * Sets the exit code; a run that was not stopped gets its folder and next commands (one stdout
 * line): plot and report, or merge for a shard (a Slurm task resumes its shard with --resume).
 */
function finish({ result, exitCode }: { result: ExperimentResult; exitCode: number }, setExit: (code: number) => void): void {
  if (exitCode !== EXIT.interrupted) printNext(readRunJson(result.dir).runJson.shard !== undefined ? mergeNextLine(result.dir) : nextStepsLine(result.dir));
  setExit(exitCode);
}

export function mnistCommand({ makeLogger, setExit }: CommandDeps): Command {
  const cmd = new Command('mnist').description('Train the Sec. 4.1 MNIST nets with and without batch normalization (Figure 1).');
  addConfigFlags(cmd);
  cmd.option('--out <dir>', 'run folder (default: results/<config name>-<UTC timestamp>)');
  cmd.option('--resume <dir>', 'continue the unfinished runs of a run folder from their checkpoints');
  cmd.option('--quiet', 'print warnings and errors only');
  cmd.action(async (opts: Record<string, unknown>) => {
    const logger = makeLogger(Boolean(opts.quiet));
    if (opts.resume !== undefined) {
      const extra = settingFlagsGiven(opts, new Set(['resume', ...EXECUTION_FLAGS]));
      if (extra.length > 0) throw new UsageError(`--resume continues a run with its saved settings; drop ${extra.join(', ')}.`);
      // Each execution flag is checked by its key's rule (a bad value names it), then overrides run.json's.
      const jobs = opts.jobs === undefined ? undefined : configFromFlags({ jobs: opts.jobs }).jobs;
      const lockstep = opts.lockstep === undefined ? undefined : configFromFlags({ lockstep: opts.lockstep }).lockstep;
      finish(await train({ resume: String(opts.resume), jobs, lockstep }, Boolean(opts.quiet), logger), setExit);
      return;
    }
    const config = configFromFlags(opts);
    const out = (opts.out as string | undefined) ?? defaultRunDir(config.name, new Date());
    finish(await train({ config, out }, Boolean(opts.quiet), logger), setExit);
  });
  return cmd;
}
