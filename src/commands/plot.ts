/** The `plot` verb: figure1.svg and figure1.png in a run folder (see analysis/figure.ts). */
import { Command } from 'commander';
import { join } from 'node:path';
import { figureSpec, renderPng, renderSvg } from '../analysis/figure.js';
import { landscapeFigureSpec } from '../analysis/landscape-figure.js';
import { readMeasurements } from '../analysis/measurement-data.js';
import { readEndedRun } from '../analysis/run-data.js';
import { sweepFigureSpec } from '../analysis/sweep-figure.js';
import { readerBusy, withFolderLock } from '../run/lock.js';
import { writeFileAtomic } from '../run/run-folder.js';
import { UsageError } from '../errors.js';
import { INTEGER_TEXT } from './flags.js';
import type { CommandDeps } from './mnist.js';
import { refuseFolderOfRunFolders } from './next-steps.js';

export function plotCommand({ makeLogger }: CommandDeps): Command {
  return new Command('plot')
    .description("Draw the paper's Figure 1 (accuracy; sigmoid-input percentiles) from a run folder.")
    .argument('<run-dir>', 'a folder written by bn-repro mnist, sweep or merge')
    .option('--unit <n>', 'last-hidden-layer unit for panels (b) and (c) (default: the first recorded)')
    .option('--quiet', 'print warnings and errors only')
    .action(async (dir: string, opts: { unit?: string; quiet?: boolean }) => {
      const logger = makeLogger(Boolean(opts.quiet));
      // Plain decimal digits only: Number() would also take "0x2", " 2" or "1e0" for a unit.
      if (opts.unit !== undefined && !(INTEGER_TEXT.test(opts.unit) && !opts.unit.startsWith('-'))) throw new UsageError(`--unit must be a unit index, an integer >= 0 (got "${opts.unit}").`);
      const unit = opts.unit === undefined ? undefined : Number(opts.unit);
      refuseFolderOfRunFolders(dir, 'plot');
      await withFolderLock(dir, async () => {
        const data = readEndedRun(dir, logger);
        const svg = await renderSvg(figureSpec(data, unit ?? data.config.eval.units[0]));
        const png = renderPng(svg);
        writeFileAtomic(join(dir, 'figure1.svg'), svg);
        writeFileAtomic(join(dir, 'figure1.png'), png);
        logger.info(`wrote ${join(dir, 'figure1.svg')} and ${join(dir, 'figure1.png')}`);
        const measurements = readMeasurements(data);
        if (measurements) {
          const landscapeSvg = await renderSvg(landscapeFigureSpec(measurements, data.arms, data.config.model.hiddenUnits.length));
          writeFileAtomic(join(dir, 'landscape.svg'), landscapeSvg);
          writeFileAtomic(join(dir, 'landscape.png'), renderPng(landscapeSvg));
          logger.info(`wrote ${join(dir, 'landscape.svg')} and ${join(dir, 'landscape.png')}`);
        }
        if (data.config.sweep.length > 0) {
          // Sweeps also get one panel per family, a line per setting, the paper's curve drawn in.
          const sweepSvg = await renderSvg(sweepFigureSpec(data));
          writeFileAtomic(join(dir, 'sweep.svg'), sweepSvg);
          writeFileAtomic(join(dir, 'sweep.png'), renderPng(sweepSvg));
          logger.info(`wrote ${join(dir, 'sweep.svg')} and ${join(dir, 'sweep.png')}`);
        }
      }, readerBusy);
    });
}
