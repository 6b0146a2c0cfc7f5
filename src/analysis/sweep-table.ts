/**
 * The learning-rate sweep table, the MNIST analogue of the paper's Fig. 3 (Sec. 4.2.2): per
 * network, its learning rate, the steps its across-seed mean accuracy needs to reach the
 * baseline's final accuracy, its maximum accuracy, and how many of its seeds diverged.
 */
import type { RunData } from './run-data.js';
import { meanAccuracyCurve } from './report.js';
import { meanAndStd, stepsToReach } from './stats.js';

export function buildSweepTable(data: RunData): string {
  const variants = data.config.sweep;
  const reference = variants.find((v) => !v.bn && v.lrMultiplier === 1) ?? variants[0];
  const finalOf = (arm: string) =>
    data.seeds.map((s) => data.accuracy.filter((r) => r.arm === arm && r.seed === s).at(-1)?.testAccuracy).filter((x): x is number => x !== undefined);
  const target = meanAndStd(finalOf(reference.name)).mean;
  const runs = data.runJson.runs ?? [];
  const lines = [
    `## Learning-rate sweep (cf. the paper's Fig. 3)`,
    '',
    `Target: the final test accuracy of ${reference.name}, ${target.toFixed(4)} (mean over ${data.seeds.length} seed(s)). Steps to reach it use each network's across-seed mean curve.`,
    '',
    '| network | BN | learning rate | steps to reach the target | max accuracy | diverged seeds |',
    '| --- | :---: | ---: | ---: | ---: | ---: |',
  ];
  for (const v of variants) {
    const curve = meanAccuracyCurve(data, v.name).filter((p) => Number.isFinite(p.value));
    const reached = stepsToReach(curve, target);
    const best = curve.length > 0 ? Math.max(...curve.map((p) => p.value)) : NaN;
    const diverged = runs.filter((r) => r.arm === v.name && r.divergedAtStep !== undefined).length;
    const lr = data.config.train.learningRate * v.lrMultiplier;
    lines.push(
      `| ${v.name} | ${v.bn ? 'yes' : 'no'} | ${Number(lr.toPrecision(6))} | ${reached === null ? 'not reached' : reached.toLocaleString('en-US')} | ${Number.isFinite(best) ? best.toFixed(4) : '–'} | ${diverged} of ${data.seeds.length} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
