/** The `merge` verb: shard folders -> one run folder (see merge.ts). */
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { mergeRunFolders } from '../run/merge.js';
import type { CommandDeps } from './mnist.js';
import { mergeNextLine, nextStepsLine, printNext } from './next-steps.js';

export function mergeCommand({ makeLogger }: CommandDeps): Command {
  return new Command('merge')
    .description('Combine the folders of a sharded sweep (or of runs of one experiment) into one run folder.')
    .argument('<dirs...>', 'run folders holding disjoint runs of one experiment')
    .requiredOption('--out <dir>', 'the merged run folder (must not hold files yet)')
    .option('--quiet', 'print warnings and errors only')
    .action((dirs: string[], opts: { out: string; quiet?: boolean }) => {
      const logger = makeLogger(Boolean(opts.quiet));
      // The folder of a `sweep --slurm` holds its slurm/ scaffolding; the merged sweep lands beside it.
      const alongside = existsSync(join(opts.out, 'slurm', 'array.sbatch')) ? ['slurm'] : [];
      const merged = mergeRunFolders(dirs, opts.out, alongside);
      logger.info(`merged ${merged.runs} runs from ${dirs.length} folders into ${merged.dir} (${merged.status})`);
      printNext(merged.status === 'incomplete' ? mergeNextLine(merged.dir) : nextStepsLine(merged.dir));
    });
}
