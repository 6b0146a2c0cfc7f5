/** The `plot` verb: figure1.svg and figure1.png in a run folder (see analysis/figure.ts); --layout column: figure1-column.*. */
import { Command } from 'commander';
import type { TopLevelSpec } from 'vega-lite';
import { DEFAULT_LAYOUT, LAYOUT_NAMES, type Layout } from '../analysis/figure-style.js';
import { join } from 'node:path';
import { figureSpec, renderPng, renderSvg } from '../analysis/figure.js';
import { landscapeFigureSpec } from '../analysis/landscape-figure.js';
import { readMeasurements } from '../analysis/measurement-data.js';
import { readEndedRun, readPartialRun } from '../analysis/run-data.js';
import { sweepFigureSpec } from '../analysis/sweep-figure.js';
import { depthFigureSpec } from '../analysis/depth-figure.js';
import { isDepthSweep } from '../analysis/depth-table.js';
import { readerBusy, withFolderLock } from '../run/lock.js';
import { writeFileAtomic } from '../run/run-folder.js';
import { UsageError } from '../core/errors.js';
import { INTEGER_TEXT } from './flags.js';
import type { CommandDeps } from './mnist.js';
import { hasEnded, partialName, unfinishedMark } from './partial.js';
import { plotFolders } from './plot-compare.js';
import { refuseFolderOfRunFolders } from './next-steps.js';

export function plotCommand({ makeLogger }: CommandDeps): Command {
  return (
    new Command('plot')
      .description("Draw the paper's Figure 1 (accuracy; sigmoid-input percentiles) from a run folder.")
      .argument('<run-dir...>', 'a folder written by bn-repro mnist, sweep or merge; several (with --out) are overlaid in one figure')
      .option('--out <dir>', 'with several run folders: the folder for their overlaid figure1.svg/png')
      .option('--unit <n>', 'last-hidden-layer unit for panels (b) and (c) (default: the first recorded)')
      // A plain option (not commander's choices, which bring their own parser): given twice, it is refused like every flag.
      .option(
        '--layout <layout>',
        `${LAYOUT_NAMES.join(' or ')}: panels side by side (figure1.png), or stacked to fit a paper column, ~3.3 in (figure1-column.png) (default: "${DEFAULT_LAYOUT}")`,
      )
      .option(
        '--partial',
        'a folder whose runs have not all ended (e.g. training now): draw what it holds so far into figure1.partial.svg/png, marked unfinished',
      )
      .option('--quiet', 'print warnings and errors only')
      .action(async (dirs: string[], opts: { unit?: string; out?: string; partial?: boolean; quiet?: boolean; layout?: string }) => {
        const layout = (opts.layout ?? DEFAULT_LAYOUT) as Layout;
        if (!LAYOUT_NAMES.includes(layout)) throw new UsageError(`--layout must be ${LAYOUT_NAMES.join(' or ')} (got "${opts.layout}").`);
        const logger = makeLogger(Boolean(opts.quiet));
        // Plain decimal digits only: Number() would also take "0x2", " 2" or "1e0" for a unit.
        if (opts.unit !== undefined && !(INTEGER_TEXT.test(opts.unit) && !opts.unit.startsWith('-')))
          throw new UsageError(`--unit must be a unit index, an integer >= 0 (got "${opts.unit}").`);
        const unit = opts.unit === undefined ? undefined : Number(opts.unit);
        if (dirs.length > 1 || opts.out !== undefined) {
          if (opts.partial) throw new UsageError('--partial draws one folder; plot the folders one at a time.');
          if (opts.layout !== undefined) throw new UsageError('--layout draws one folder; plot the folders one at a time for a column figure.');
          await plotFolders(dirs, opts.out, unit, logger);
          return;
        }
        const [dir] = dirs;
        refuseFolderOfRunFolders(dir, 'plot');
        if (opts.partial && !hasEnded(dir)) {
          const data = readPartialRun(dir);
          const spec = figureSpec(data, unit ?? data.config.eval.units[0], layout);
          const svg = await renderSvg({ ...spec, title: { text: unfinishedMark(data, dir), color: '#b00020' } });
          const suffix = layout === DEFAULT_LAYOUT ? '' : `-${layout}`;
          const [svgPath, pngPath] = [`figure1${suffix}.svg`, `figure1${suffix}.png`].map((f) => join(dir, partialName(f)));
          writeFileAtomic(svgPath, svg);
          writeFileAtomic(pngPath, renderPng(svg));
          logger.info(`wrote ${svgPath} and ${pngPath}: ${unfinishedMark(data, dir)}`);
          return;
        }
        await withFolderLock(
          dir,
          async () => {
            const data = readEndedRun(dir, logger);
            // The wide strip keeps its names; a column figure is written beside it, never over it.
            const suffix = layout === DEFAULT_LAYOUT ? '' : `-${layout}`;
            const write = async (name: string, spec: TopLevelSpec) => {
              const svg = await renderSvg(spec);
              writeFileAtomic(join(dir, `${name}${suffix}.svg`), svg);
              writeFileAtomic(join(dir, `${name}${suffix}.png`), renderPng(svg));
              logger.info(`wrote ${join(dir, `${name}${suffix}.svg`)} and ${join(dir, `${name}${suffix}.png`)}`);
            };
            await write('figure1', figureSpec(data, unit ?? data.config.eval.units[0], layout));
            const measurements = readMeasurements(data);
            // The landscape grid (3 x 3 panels) has no column form: it is drawn with the wide strip.
            if (measurements && layout === 'wide') await write('landscape', landscapeFigureSpec(measurements, data));
            // Sweeps also get one panel per family, a line per setting, the paper's curve drawn in.
            if (data.config.sweep.length > 0) await write('sweep', sweepFigureSpec(data, layout));
            // A sweep over depths (its networks' hidden layers differ) also gets accuracy against depth.
            if (isDepthSweep(data)) await write('depth', depthFigureSpec(data, layout));
          },
          readerBusy,
        );
      })
  );
}
