/**
 * The two batch scripts of `bn-repro sweep --slurm N`, written under DIR/slurm/ so that a user
 * can read, edit or resubmit them by hand:
 *   array.sbatch  an array of N tasks; task i trains shard i/N into DIR/slurm/shard-i (a requeued
 *                 task resumes that folder from its checkpoint);
 *   merge.sbatch  submitted with afterok on the whole array: merges the shards into DIR itself,
 *                 then writes report.md there.
 * Before a time limit Slurm sends USR1 to the batch shell (--signal=B:USR1@...): the shell asks
 * bn-repro to checkpoint (SIGTERM) and requeues the task, which continues where it stopped.
 * Every path and option is written quoted for its reader (quote.ts): shell-quoted in the body,
 * sbatch-quoted in the #SBATCH lines; the caller has refused paths that no quoting makes safe.
 */
import { join } from 'node:path';
import { sbatchQuote, shellQuote as q, slurmPatternLiteral } from './quote.js';

export interface SlurmLayout {
  /** The sweep's folder; the merged run folder once the merge job has run. */
  dir: string;
  /** DIR/slurm: scripts, the resolved config, logs and the shard folders. */
  slurmDir: string;
  configPath: string;
  arrayScript: string;
  mergeScript: string;
  logDir: string;
  shardDir: (i: number) => string;
  shardLog: (i: number) => string;
  mergeLog: string;
}

export function slurmLayout(dir: string): SlurmLayout {
  const slurmDir = join(dir, 'slurm');
  const logDir = join(slurmDir, 'logs');
  return {
    dir,
    slurmDir,
    configPath: join(slurmDir, 'sweep.json'),
    arrayScript: join(slurmDir, 'array.sbatch'),
    mergeScript: join(slurmDir, 'merge.sbatch'),
    logDir,
    shardDir: (i) => join(slurmDir, `shard-${i}`),
    shardLog: (i) => join(logDir, `shard-${i}.log`),
    mergeLog: join(logDir, 'merge.log'),
  };
}

export interface ScriptOptions {
  name: string;
  tasks: number;
  /** The program that runs bn-repro on the compute nodes: node and the CLI shim, absolute. */
  node: string;
  bin: string;
  /** Extra #SBATCH options from --sbatch, each as its argv tokens (["-p", "debug"]). */
  sbatch: string[][];
  /** Seconds before the time limit at which a task checkpoints and requeues itself. */
  warnSeconds: number;
}

/** The #SBATCH block: one line per option, each argument quoted as sbatch reads it. */
const header = (options: string[][]) => ['#!/bin/bash', ...options.map((o) => `#SBATCH ${o.map(sbatchQuote).join(' ')}`)];

export function arrayScript(l: SlurmLayout, o: ScriptOptions): string {
  return [
    ...header([
      [`--job-name=${o.name}`],
      [`--array=1-${o.tasks}`],
      [`--output=${slurmPatternLiteral(l.logDir)}/shard-%a.log`],
      ['--open-mode=append'],
      ['--requeue'],
      [`--signal=B:USR1@${o.warnSeconds}`],
      ...o.sbatch,
    ]),
    `# bn-repro sweep --slurm: task i of ${o.tasks} trains shard i/${o.tasks} of the sweep in slurm/sweep.json.`,
    'set -u',
    'i=${SLURM_ARRAY_TASK_ID:?run this script with sbatch}',
    `out=${q(l.slurmDir)}/shard-$i`,
    '# A requeued task finds its folder and continues from its checkpoint.',
    'if [ -e "$out/run.json" ]; then',
    `  set -- ${q(o.node)} ${q(o.bin)} mnist --resume "$out"`,
    'else',
    `  set -- ${q(o.node)} ${q(o.bin)} sweep ${q(l.configPath)} --shard "$i/${o.tasks}" --out "$out"`,
    'fi',
    'echo "$(date -u +%FT%TZ) task $i on $(hostname): $*"',
    '"$@" &',
    'pid=$!',
    'requeue=',
    '# Slurm signals the shell; bn-repro checkpoints on SIGTERM. USR1: the time limit is near.',
    'trap \'kill -TERM "$pid" 2>/dev/null\' TERM',
    'trap \'requeue=1; kill -TERM "$pid" 2>/dev/null\' USR1',
    'while :; do',
    '  wait "$pid" && code=0 || code=$?',
    '  kill -0 "$pid" 2>/dev/null || break  # woken by a trap: keep waiting for the checkpoint',
    'done',
    'if [ "$code" -eq 130 ] && [ -n "$requeue" ]; then',
    '  echo "checkpointed before the time limit; requeueing"',
    '  scontrol requeue "${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"',
    'fi',
    '# Exit 3 means a run diverged: a result recorded in run.json, not a failed task.',
    'if [ "$code" -eq 3 ]; then code=0; fi',
    'exit "$code"',
    '',
  ].join('\n');
}

export function mergeScript(l: SlurmLayout, o: ScriptOptions): string {
  const shards = Array.from({ length: o.tasks }, (_, k) => q(l.shardDir(k + 1))).join(' ');
  return [
    ...header([[`--job-name=${o.name}-merge`], [`--output=${slurmPatternLiteral(l.mergeLog)}`], ...o.sbatch]),
    `# bn-repro sweep --slurm: runs after every task of the array succeeded (afterok).`,
    'set -eu',
    `${q(o.node)} ${q(o.bin)} merge ${shards} --out ${q(l.dir)}`,
    `${q(o.node)} ${q(o.bin)} report ${q(l.dir)} --quiet > /dev/null`,
    `printf 'merged sweep: %s\\n' ${q(l.dir)}`,
    '',
  ].join('\n');
}
