/**
 * The report's "Distance to the paper" section: per network, the RMSE between its across-seed
 * mean accuracy curve and the paper's Fig. 1(a) curve (paper.ts), the closest setting of each
 * family (BN, baseline) in a sweep, and our Fig. 1(b, c) start and end percentiles beside the
 * paper's.
 */
import { variantsOf } from '../config/runs.js';
import { PAPER_LAST_STEP, readPaperCurves, readPaperPercentiles, rmseToPaper } from './paper.js';
import { familyArm, listedNames, meanAccuracyCurve } from './report.js';
import type { RunData } from './run-data.js';
import { meanAndSampleStd } from './stats.js';

export interface PaperDistance {
  network: string;
  bn: boolean;
  rmse: number;
  points: number;
}

/** RMSE to the paper's curve of the same family, per network that has steps in range. */
export function paperDistances(data: RunData, curves = readPaperCurves()): PaperDistance[] {
  return variantsOf(data.config).flatMap((v) => {
    const d = rmseToPaper(meanAccuracyCurve(data, v.name), v.bn ? curves.bn : curves.baseline);
    return d ? [{ network: v.name, bn: v.bn, ...d }] : [];
  });
}

/** Mean over recorded units and seeds of each percentile at `step`, or null without such rows. */
function percentilesAt(data: RunData, arm: string, step: number): number[] | null {
  const rows = data.activations.filter((r) => r.arm === arm && r.step === step);
  if (rows.length === 0 || ![15, 50, 85].every((p) => rows[0].p.has(p))) return null;
  return [15, 50, 85].map((p) => meanAndSampleStd(rows.map((r) => r.p.get(p)!)).mean);
}

const triple = (v: readonly number[] | null) => (v ? v.map((x) => x.toFixed(2)).join(' / ') : '–');

export function paperDistanceSection(data: RunData, curves = readPaperCurves()): string[] {
  const distances = paperDistances(data, curves);
  const [fromBaseline, fromBn] = [curves.baseline[0]?.step ?? NaN, curves.bn[0]?.step ?? NaN].map((x) => x.toLocaleString('en-US'));
  const range = `from its first digitized step (${fromBaseline} without BN, ${fromBn} with BN) to ${PAPER_LAST_STEP.toLocaleString('en-US')}`;
  const lines = [
    '## Distance to the paper',
    '',
    `RMSE between each network's across-seed mean test-accuracy curve and the paper's Fig. 1(a) curve of its family (BN or not), the paper's curve interpolated linearly at our evaluation steps ${range}.`,
    '',
  ];
  if (distances.length > 0) {
    lines.push('| network | BN | RMSE to the paper | evaluation steps compared |', '| --- | :---: | ---: | ---: |');
    lines.push(...distances.map((d) => `| ${d.network} | ${d.bn ? 'yes' : 'no'} | ${d.rmse.toFixed(4)} | ${d.points} |`));
  }
  const without = variantsOf(data.config)
    .map((v) => v.name)
    .filter((name) => !distances.some((d) => d.network === name));
  const last = Math.max(...data.accuracy.map((r) => r.step));
  // A short run has no evaluation in the paper's range: one sentence says so, not an empty row.
  if (without.length > 0) {
    const who = distances.length === 0 ? 'No network of this run has an' : `${listedNames(without)} ${without.length > 1 ? 'have' : 'has'} no`;
    lines.push(
      ...(distances.length > 0 ? [''] : []),
      `${who} evaluation with a finite accuracy in that range (this run's last evaluation is at step ${last.toLocaleString('en-US')}), so ${distances.length === 0 ? 'no distance is computed' : `no distance is computed for ${without.length > 1 ? 'them' : 'it'}`}.`,
    );
  }
  if (data.config.sweep.length > 0) {
    for (const bn of [false, true]) {
      const family = distances.filter((d) => d.bn === bn).sort((a, b) => a.rmse - b.rmse);
      if (family.length > 0)
        lines.push('', `Closest to the paper ${bn ? 'with' : 'without'} BN: **${family[0].network}** (RMSE ${family[0].rmse.toFixed(4)}).`);
    }
  }
  lines.push(
    '',
    "Fig. 1(b, c): 15th / 50th / 85th percentiles of the last hidden layer's sigmoid input, ours at the first and last evaluation (mean over recorded units and seeds) beside the paper's first and last plotted points.",
    '',
  );
  lines.push('| network | start, ours | start, paper | end, ours | end, paper |', '| --- | ---: | ---: | ---: | ---: |');
  const percentiles = readPaperPercentiles();
  for (const bn of [false, true]) {
    const arm = familyArm(data, bn);
    if (arm === undefined) continue;
    const paper = percentiles[bn ? 'bn' : 'baseline'];
    lines.push(
      `| ${arm} | ${triple(percentilesAt(data, arm, 0))} | ${triple(paper.start)} | ${triple(percentilesAt(data, arm, last))} | ${triple(paper.end)} |`,
    );
  }
  return lines;
}
