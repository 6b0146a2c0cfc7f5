/** The `plot` verb: figure1.svg and figure1.png in a run folder (see analysis/figure.ts). */
import { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { figureSpec, renderPng, renderSvg } from '../analysis/figure.js';
import { readRunData } from '../analysis/run-data.js';
import { UsageError } from '../errors.js';
import type { CommandDeps } from './mnist.js';

export function plotCommand({ makeLogger }: CommandDeps): Command {
  return new Command('plot')
    .description("Draw the paper's Figure 1 (accuracy; sigmoid-input percentiles) from a run folder.")
    .argument('<run-dir>', 'a folder written by bn-repro mnist, sweep or merge')
    .option('--unit <n>', 'last-hidden-layer unit for panels (b) and (c) (default: the first recorded)')
    .option('--quiet', 'print warnings and errors only')
    .action(async (dir: string, opts: { unit?: string; quiet?: boolean }) => {
      const logger = makeLogger(Boolean(opts.quiet));
      const data = readRunData(dir);
      const unit = opts.unit === undefined ? data.config.eval.units[0] : Number(opts.unit);
      if (!Number.isInteger(unit) || unit < 0) throw new UsageError(`--unit must be a unit index (got "${opts.unit}").`);
      const svg = await renderSvg(figureSpec(data, unit));
      writeFileSync(join(dir, 'figure1.svg'), svg);
      writeFileSync(join(dir, 'figure1.png'), renderPng(svg));
      logger.info(`wrote ${join(dir, 'figure1.svg')} and ${join(dir, 'figure1.png')}`);
    });
}
