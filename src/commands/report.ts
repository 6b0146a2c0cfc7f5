/** The `report` verb: report.md in a run folder (see analysis/report.ts). */
import { Command } from 'commander';
import { join } from 'node:path';
import { paperDistanceSection } from '../analysis/paper-report.js';
import { landscapeSection } from '../analysis/landscape-report.js';
import { readMeasurements } from '../analysis/measurement-data.js';
import { buildReport } from '../analysis/report.js';
import { readEndedRun, readPartialRun } from '../analysis/run-data.js';
import { readerBusy, withFolderLock } from '../run/lock.js';
import { writeFileAtomic } from '../run/run-folder.js';
import { buildSweepTable } from '../analysis/sweep-table.js';
import { buildDepthTable, isDepthSweep } from '../analysis/depth-table.js';
import type { CommandDeps } from './mnist.js';
import { reportFolders } from './report-compare.js';
import { UsageError } from '../core/errors.js';
import { hasEnded, partialName, unfinishedMark } from './partial.js';
import { refuseFolderOfRunFolders } from './next-steps.js';

export function reportCommand({ makeLogger }: CommandDeps): Command {
  return new Command('report')
    .description('Write report.md: accuracy over seeds, steps to 95/97/98%, stability, paper values side by side.')
    .argument('<run-dir...>', 'a folder written by bn-repro mnist, sweep or merge; several (with --out) are compared in one report')
    .option('--out <dir>', 'with several run folders: the folder for their comparison report.md')
    .option('--partial', 'a folder whose runs have not all ended (e.g. training now): report what it holds so far into report.partial.md, marked unfinished')
    .option('--quiet', 'print warnings and errors only')
    .action(async (dirs: string[], opts: { out?: string; partial?: boolean; quiet?: boolean }) => {
      const logger = makeLogger(Boolean(opts.quiet));
      if (dirs.length > 1 || opts.out !== undefined) {
        if (opts.partial) throw new UsageError('--partial reports one folder; report the folders one at a time.');
        await reportFolders(dirs, opts.out, logger);
        return;
      }
      const [dir] = dirs;
      refuseFolderOfRunFolders(dir, 'report');
      if (opts.partial && !hasEnded(dir)) {
        const data = readPartialRun(dir);
        const mark = `**${unfinishedMark(data, dir)}**`;
        const text = `${mark}\n\n${buildReport(data)}\n${mark}\n`;
        const path = join(dir, partialName('report.md'));
        writeFileAtomic(path, text);
        process.stdout.write(text);
        logger.info(`wrote ${path}`);
        return;
      }
      const text = await withFolderLock(
        dir,
        () => {
          const data = readEndedRun(dir, logger);
          const measurements = readMeasurements(data);
          const landscape = measurements ? `\n${landscapeSection(data.config, data.arms, measurements).join('\n')}` : '';
          const report = `${buildReport(data)}\n${data.config.model.kind === 'mlp' ? `${paperDistanceSection(data).join('\n')}\n` : ''}${data.config.sweep.length > 0 ? `\n${buildSweepTable(data)}` : ''}${isDepthSweep(data) ? `\n${buildDepthTable(data)}` : ''}${landscape}`;
          writeFileAtomic(join(dir, 'report.md'), report);
          return report;
        },
        readerBusy,
      );
      process.stdout.write(text);
      logger.info(`wrote ${join(dir, 'report.md')}`);
    });
}
