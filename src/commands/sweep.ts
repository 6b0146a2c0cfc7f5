/**
 * The `sweep` verb: every variant of a sweep config (e.g. configs/lr-sweep.json: baseline, BN,
 * BN-x5, BN-x30, baseline-x5) over its seeds, optionally only the i-th of n shards; then the
 * Fig. 3 style table (sweep.md) when the folder holds the whole sweep.
 */
import { Command } from 'commander';
import { join } from 'node:path';
import { readRunData } from '../analysis/run-data.js';
import { buildSweepTable } from '../analysis/sweep-table.js';
import { EXIT, UsageError } from '../core/errors.js';
import { defaultRunDir, writeFileAtomic } from '../run/run-folder.js';
import { parseShard } from '../run/shard.js';
import { runsOf } from '../config/runs.js';
import { submitSweep } from '../slurm/submit.js';
import { INTEGER_TEXT, addConfigFlags, configFromFlags } from './flags.js';
import { train, type CommandDeps } from './mnist.js';
import { mergeNextLine, nextStepsLine, printNext } from './next-steps.js';

export function sweepCommand({ makeLogger, setExit }: CommandDeps): Command {
  const cmd = new Command('sweep')
    .description('Run a sweep of network variants (e.g. learning-rate multiples) over seeds; --shard splits it over machines.')
    .argument('<config>', 'sweep config file, e.g. configs/lr-sweep.json');
  addConfigFlags(cmd, { configFile: false });
  cmd.option('--shard <i/n>', 'run only the i-th of n deterministic shares of the runs (1-based)');
  cmd.option('--out <dir>', 'run folder (default: results/<config name>-<UTC timestamp>[-shard-i-of-n])');
  cmd.option('--slurm <n>', 'submit the sweep to Slurm as an array of n tasks plus a merge job into --out (see README, Sweeps on a Slurm cluster)');
  cmd.option('--wait', 'with --slurm: wait for the merge job; exit 0 only when --out holds the merged sweep');
  cmd.option('--sbatch <options>', 'with --slurm: options for both jobs\' #SBATCH lines, e.g. "--partition=cpu --time=02:00:00"');
  cmd.option('--quiet', 'print warnings and errors only');
  cmd.action(async (configPath: string, opts: Record<string, unknown>) => {
    const logger = makeLogger(Boolean(opts.quiet));
    const config = configFromFlags({ ...opts, config: configPath });
    if (config.sweep.length === 0) throw new UsageError(`${configPath} has no "sweep" entries to run.`);
    if (opts.slurm !== undefined) {
      if (opts.shard !== undefined) throw new UsageError('--slurm spreads the sweep over shards itself; drop --shard.');
      // submitSweep writes jobs: 0 into the tasks' config: each task takes the cores Slurm gives it.
      if (opts.jobs !== undefined)
        throw new UsageError('--jobs would be ignored: each Slurm task trains with one worker per CPU core Slurm gives it; drop --jobs.');
      const tasks = INTEGER_TEXT.test(String(opts.slurm)) ? Number(opts.slurm) : NaN;
      if (!(tasks >= 1 && tasks <= 10_000)) throw new UsageError(`--slurm takes a number of tasks from 1 to 10,000 (got "${opts.slurm}").`);
      const out = (opts.out as string | undefined) ?? defaultRunDir(config.name, new Date());
      await submitSweep(config, out, { tasks, wait: Boolean(opts.wait), sbatch: String(opts.sbatch ?? '') }, logger);
      return;
    }
    if (opts.wait !== undefined || opts.sbatch !== undefined) throw new UsageError('--wait and --sbatch go with --slurm.');
    // parseShard allows spaces and leading zeros; a flag takes plain "i/n" only, like every integer flag.
    if (opts.shard !== undefined && !/^[1-9][0-9]*\/[1-9][0-9]*$/.test(String(opts.shard)))
      throw new UsageError(`--shard must be i/n with 1 <= i <= n, such as 2/8 (got "${opts.shard}").`);
    const shard = opts.shard === undefined ? undefined : parseShard(String(opts.shard));
    const total = runsOf(config).length;
    if (shard && shard.index > total)
      logger.warn(`shard ${shard.index}/${shard.count} holds no runs (the sweep has ${total}); its folder stays empty of results, and merge accepts it.`);
    const suffix = shard ? `-shard-${shard.index}-of-${shard.count}` : '';
    const out = (opts.out as string | undefined) ?? `${defaultRunDir(config.name, new Date())}${suffix}`;
    const { result, exitCode } = await train({ config, out, shard }, Boolean(opts.quiet), logger);
    if (!shard && !result.interrupted) {
      const table = buildSweepTable(readRunData(result.dir));
      writeFileAtomic(join(result.dir, 'sweep.md'), table);
      process.stdout.write(table);
    }
    // A stopped sweep's way on is --resume (said on stderr by train); an ended one's is plot, or merge for a shard.
    if (exitCode !== EXIT.interrupted) printNext(shard ? mergeNextLine(result.dir) : nextStepsLine(result.dir));
    setExit(exitCode);
  });
  return cmd;
}
