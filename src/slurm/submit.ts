/**
 * `bn-repro sweep CONFIG --slurm N`: writes the resolved config and the two batch scripts under
 * DIR/slurm/ (scripts.ts), submits the array and the merge job (afterok on the array, cancelled
 * if a task fails), prints how to follow them and, with --wait, waits for the merge job and
 * checks the folders themselves: sbatch's exit code alone is not trusted (a job purged before
 * sbatch polls it reads as success). The output folder and --sbatch are checked before anything
 * is written (quote.ts, sbatch-options.ts); a submission sbatch refuses leaves no folder behind.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResolvedConfig } from '../config/config.js';
import { UsageError, UserError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { prepareRunDir } from '../run/run-folder.js';
import { printable, unsafePathReason } from './quote.js';
import { parseSbatchOptions } from './sbatch-options.js';
import { arrayScript, mergeScript, slurmLayout, type SlurmLayout } from './scripts.js';

export interface SlurmOptions {
  tasks: number;
  wait: boolean;
  sbatch: string;
  /** Seconds between squeue polls while waiting. */
  pollSeconds?: number;
}

/** Runs a Slurm client; its failure is one sentence with what it printed. */
function slurm(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT')
      throw new UserError(
        `no ${cmd} on this machine (Slurm's client tools are not installed or not on PATH); run the sweep without --slurm, or on a cluster's login node.`,
      );
    throw new UserError(`${cmd} ${args.join(' ')} failed: ${(e.stderr ?? e.message).trim().split('\n')[0]}`);
  }
}

/** A shard's outcome, read from its folder: ended (finished or diverged), or why not. */
function shardState(l: SlurmLayout, i: number): 'ended' | string {
  try {
    const status = (JSON.parse(readFileSync(`${l.shardDir(i)}/run.json`, 'utf8')) as { status?: string }).status;
    return status === 'finished' || status === 'diverged' ? 'ended' : `status ${status}`;
  } catch {
    return 'no run.json';
  }
}

/**
 * The jobs of ours that squeue still lists, with state and reason ("" when none is left), or
 * the error squeue gave when it could not answer (a controller restarting, a network blip).
 */
function queued(ids: string[]): { jobs: string } | { error: string } {
  try {
    return {
      jobs: execFileSync('squeue', ['-h', '-r', '-j', ids.join(','), '-o', '%i %T %r'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim(),
    };
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? '').trim();
    // squeue refuses ids it no longer knows: all of them have left the queue.
    if (/invalid job id/i.test(stderr)) return { jobs: '' };
    return { error: stderr.split('\n')[0] || (err as Error).message };
  }
}

/** squeue failures in a row that --wait sits out before it gives up (about a minute at 2 s). */
const SQUEUE_RETRIES = 30;

async function waitFor(l: SlurmLayout, tasks: number, arrayId: string, mergeId: string, opts: SlurmOptions, logger: Logger): Promise<void> {
  let failures = 0;
  for (;;) {
    const answer = queued([arrayId, mergeId]);
    if ('error' in answer) {
      if (++failures > SQUEUE_RETRIES) {
        throw new UserError(
          `squeue has failed ${failures} times in a row (${answer.error}); the jobs ${arrayId} and ${mergeId} may still be running: follow them with squeue and read ${l.dir} when they end.`,
        );
      }
      await new Promise((r) => setTimeout(r, (opts.pollSeconds ?? 2) * 1000));
      continue;
    }
    failures = 0;
    const q = answer.jobs;
    if (q === '') break;
    // A failed task leaves the merge job waiting on a dependency that can never be met.
    if (q.split('\n').some((line) => line.startsWith(`${mergeId} `) && line.includes('DependencyNeverSatisfied'))) {
      slurm('scancel', [mergeId]);
      break;
    }
    await new Promise((r) => setTimeout(r, (opts.pollSeconds ?? 2) * 1000));
  }
  const failed = Array.from({ length: tasks }, (_, k) => k + 1).filter((i) => shardState(l, i) !== 'ended');
  if (failed.length > 0) {
    throw new UserError(
      `Slurm shard${failed.length > 1 ? 's' : ''} ${failed.join(', ')} of ${tasks} failed (see ${failed.map((i) => l.shardLog(i)).join(', ')}); the merge job did not run.`,
    );
  }
  if (!existsSync(`${l.dir}/run.json`)) throw new UserError(`Every shard ended but the merge job left no run.json in ${l.dir} (see ${l.mergeLog}).`);
  logger.info(`merged sweep in ${l.dir}`);
}

/** The job id in `sbatch --parsable`'s answer ("123" or "123;cluster"); anything else is refused. */
function jobId(answer: string): string {
  const id = answer.trim().split(';')[0];
  if (!/^\d+$/.test(id)) throw new UserError(`sbatch answered ${printable(answer.trim())} instead of a job id.`);
  return id;
}

/** Submits the sweep as an array job plus a merge job; with opts.wait, returns once DIR holds the merged sweep. */
export async function submitSweep(
  config: ResolvedConfig,
  outDir: string,
  opts: SlurmOptions,
  logger: Logger,
): Promise<{ arrayId: string; mergeId: string; dir: string }> {
  // Usage first, before sbatch is asked anything or a file is written.
  const unsafe = unsafePathReason(resolve(outDir));
  if (unsafe) throw new UsageError(`--out ${printable(resolve(outDir))} ${unsafe}; choose another folder for a --slurm sweep.`);
  const sbatch = parseSbatchOptions(opts.sbatch);
  slurm('sbatch', ['--version']); // no sbatch: the one-sentence refusal, before anything is written
  const existed = existsSync(outDir);
  const dir = prepareRunDir(outDir);
  const l = slurmLayout(resolve(dir));
  let arrayId: string;
  try {
    mkdirSync(l.slurmDir);
    mkdirSync(l.logDir);
    writeFileSync(l.configPath, `${JSON.stringify({ ...config, jobs: 0 }, null, 2)}\n`);
    const scriptOpts = {
      name: `bn-repro-${config.name}`,
      tasks: opts.tasks,
      node: process.execPath,
      bin: fileURLToPath(new URL('../../../bin/bn-repro', import.meta.url)),
      sbatch,
      warnSeconds: 120,
    };
    writeFileSync(l.arrayScript, arrayScript(l, scriptOpts), { mode: 0o755 });
    writeFileSync(l.mergeScript, mergeScript(l, scriptOpts), { mode: 0o755 });
    arrayId = jobId(slurm('sbatch', ['--parsable', l.arrayScript]));
  } catch (err) {
    // Nothing was submitted: leave the folder as it was (ours alone: it was empty or absent).
    rmSync(existed ? l.slurmDir : l.dir, { recursive: true, force: true });
    throw err;
  }
  let mergeId: string;
  try {
    mergeId = jobId(slurm('sbatch', ['--parsable', `--dependency=afterok:${arrayId}`, '--kill-on-invalid-dep=yes', l.mergeScript]));
  } catch (err) {
    spawnSync('scancel', [arrayId], { stdio: 'ignore' });
    throw new UserError(
      `${(err as Error).message.replace(/\.$/, '')}; the merge job was not submitted, so the array job ${arrayId} was cancelled (its scripts stay in ${l.slurmDir}).`,
    );
  }
  logger.info(`submitted array job ${arrayId} (${opts.tasks} tasks) and merge job ${mergeId} (after every task succeeds)`);
  logger.info(`follow them with: squeue -j ${arrayId},${mergeId}   logs: ${l.logDir}/`);
  logger.info(`when the merge job ends, ${l.dir} holds the merged sweep (report.md included); scripts: ${l.arrayScript}, ${l.mergeScript}`);
  if (opts.wait) await waitFor(l, opts.tasks, arrayId, mergeId, opts, logger);
  return { arrayId, mergeId, dir: l.dir };
}
