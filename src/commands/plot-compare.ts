/**
 * `plot DIR1 DIR2 ... --out DIR`: the runs of several ended folders overlaid in one Figure 1
 * (analysis/compare.ts), written to DIR/figure1.svg and .png. Each folder is read under its lock,
 * as `plot DIR` reads it; a figure already in DIR is never overwritten.
 */
import { combineRuns, combinedTraces, folderLabels } from '../analysis/compare.js';
import { figureSpec, renderPng, renderSvg } from '../analysis/figure.js';
import { UserError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { makeDirs, writeFileAtomic } from '../run/run-folder.js';
import { freshOutputs, readEndedFolders } from './compare-folders.js';

export async function plotFolders(dirs: string[], out: string | undefined, unit: number | undefined, logger: Logger): Promise<void> {
  const paths = freshOutputs(out, ['figure1.svg', 'figure1.png']);
  const datas = await readEndedFolders(dirs, logger);
  const chosen = unit ?? datas[0].config.eval.units[0];
  const lacking = datas.find((d) => !d.activations.some((r) => r.unit === chosen));
  if (lacking) throw new UserError(`Unit ${chosen} was not recorded in ${lacking.dir}; choose a unit every folder recorded with --unit.`);
  const labels = folderLabels(datas);
  const svg = await renderSvg(figureSpec(combineRuns(datas, labels), chosen, 'wide', undefined, combinedTraces(datas, labels)));
  makeDirs(out!);
  writeFileAtomic(paths[0], svg);
  writeFileAtomic(paths[1], renderPng(svg));
  logger.info(`wrote ${paths[0]} and ${paths[1]}: ${labels.map((l, i) => `${dirs[i]} as "${l}"`).join(', ')}`);
}
