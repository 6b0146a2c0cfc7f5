/**
 * report.md for several run folders (`report DIR1 DIR2 ... --out DIR`): which folder is which
 * label (compare.ts), then the accuracy and stability tables of report.ts with a row per network
 * of each folder. Steps-to-target and the 10% point of the stability table use each folder's rows
 * and the first folder's step count.
 */
import { combineRuns, folderLabels } from './compare.js';
import { accuracyTable, stabilityTable } from './report.js';
import type { RunData } from './run-data.js';

export function buildComparison(datas: RunData[]): string {
  const labels = folderLabels(datas);
  const combined = combineRuns(datas, labels);
  return [
    '# bn-repro comparison',
    '',
    '| label | run folder | networks | seeds | steps | learning rate |',
    '| --- | --- | --- | --- | ---: | ---: |',
    ...datas.map(
      (d, i) =>
        `| ${labels[i]} | \`${d.dir}\` | ${d.arms.join(', ')} | ${d.seeds.join(', ')} | ${d.config.train.steps.toLocaleString('en-US')} | ${d.config.train.learningRate} |`,
    ),
    '',
    '## Test accuracy',
    '',
    "Mean ± sample std over each folder's seeds; steps-to-target use the across-seed mean curve.",
    '',
    ...accuracyTable(combined),
    '',
    '## Stability of the sigmoid inputs (Figure 1b,c)',
    '',
    ...stabilityTable(combined),
    '',
  ].join('\n');
}
