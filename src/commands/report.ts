/** The `report` verb: report.md in a run folder (see analysis/report.ts). */
import { Command } from 'commander';
import { join } from 'node:path';
import { paperDistanceSection } from '../analysis/paper-report.js';
import { landscapeSection } from '../analysis/landscape-report.js';
import { readMeasurements } from '../analysis/measurement-data.js';
import { buildReport } from '../analysis/report.js';
import { readEndedRun } from '../analysis/run-data.js';
import { readerBusy, withFolderLock } from '../run/lock.js';
import { writeFileAtomic } from '../run/run-folder.js';
import { buildSweepTable } from '../analysis/sweep-table.js';
import type { CommandDeps } from './mnist.js';
import { refuseFolderOfRunFolders } from './next-steps.js';

export function reportCommand({ makeLogger }: CommandDeps): Command {
  return new Command('report')
    .description('Write report.md: accuracy over seeds, steps to 95/97/98%, stability, paper values side by side.')
    .argument('<run-dir>', 'a folder written by bn-repro mnist, sweep or merge')
    .option('--quiet', 'print warnings and errors only')
    .action(async (dir: string, opts: { quiet?: boolean }) => {
      const logger = makeLogger(Boolean(opts.quiet));
      refuseFolderOfRunFolders(dir, 'report');
      const text = await withFolderLock(dir, () => {
        const data = readEndedRun(dir, logger);
        const measurements = readMeasurements(data);
        const landscape = measurements ? `\n${landscapeSection(data.config, data.arms, measurements).join('\n')}` : '';
        const report = `${buildReport(data)}\n${paperDistanceSection(data).join('\n')}\n${data.config.sweep.length > 0 ? `\n${buildSweepTable(data)}` : ''}${landscape}`;
        writeFileAtomic(join(dir, 'report.md'), report);
        return report;
      }, readerBusy);
      process.stdout.write(text);
      logger.info(`wrote ${join(dir, 'report.md')}`);
    });
}
