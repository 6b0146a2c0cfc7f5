/**
 * report.md for a run folder: per network, test accuracy over seeds (final, best, steps to reach
 * 95/97/98%), the stability of the last hidden layer's sigmoid inputs after 10% of training
 * (Fig. 1b,c), and our Fig. 1(a) numbers beside the paper's.
 */
import { variantsOf } from '../config/runs.js';
import { interpolate, readPaperCurves } from './paper.js';
import type { RunData } from './run-data.js';
import { band, meanAndSampleStd, stability, stepsToReach, valueAt, type Stability } from './stats.js';

/** The steps at which the report sets our Figure 1(a) accuracy beside the paper's curve. */
export const PAPER_TABLE_STEPS = [10000, 20000, 30000, 40000];

export const ACCURACY_TARGETS = [0.95, 0.97, 0.98];

/** mean ± std over the finite values ('–' when there are none: a report never shows NaN). */
export const pm = (values: number[], digits = 4) => {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return '–';
  const { mean, std } = meanAndSampleStd(finite);
  const text = finite.length > 1 ? `${mean.toFixed(digits)} ± ${std.toFixed(digits)}` : mean.toFixed(digits);
  return finite.length < values.length ? `${text} (${finite.length} of ${values.length} seeds finite)` : text;
};

/** The across-seed mean test-accuracy curve of one network. */
export function meanAccuracyCurve(data: RunData, arm: string): { step: number; value: number }[] {
  const rows = data.accuracy.filter((r) => r.arm === arm);
  return band(rows.map((r) => ({ seed: r.seed, step: r.step, value: r.testAccuracy }))).map((b) => ({ step: b.step, value: b.mean }));
}

export function accuracyTable(data: RunData): string[] {
  const lines = [
    `| network | final accuracy | best accuracy | ${ACCURACY_TARGETS.map((t) => `steps to ${(t * 100).toFixed(0)}%`).join(' | ')} |`,
    `| --- | ---: | ---: | ${ACCURACY_TARGETS.map(() => '---:').join(' | ')} |`,
  ];
  for (const arm of data.arms) {
    const perSeed = data.seeds.map((seed) => data.accuracy.filter((r) => r.arm === arm && r.seed === seed)).filter((rows) => rows.length > 0);
    if (perSeed.length === 0) continue;
    const finals = perSeed.map((rows) => rows.at(-1)!.testAccuracy);
    const bests = perSeed.map((rows) => Math.max(...rows.map((r) => r.testAccuracy)));
    const curve = meanAccuracyCurve(data, arm);
    const reach = ACCURACY_TARGETS.map((t) => stepsToReach(curve, t)?.toLocaleString('en-US') ?? 'not reached');
    lines.push(`| ${arm} | ${pm(finals)} | ${pm(bests)} | ${reach.join(' | ')} |`);
  }
  return lines;
}

/**
 * The network of a family (with or without BN) set beside the paper's curve: the arm named
 * "baseline" or "bn", else a sweep's setting at the config's own learning rate and init std
 * (for example bn-lr0.1 in the learning-rate grid).
 */
export function familyArm(data: RunData, bn: boolean): string | undefined {
  const named = bn ? 'bn' : 'baseline';
  if (data.arms.includes(named)) return named;
  const v = variantsOf(data.config).find((x) => x.bn === bn && x.lrMultiplier === 1 && (x.initStd ?? data.config.model.initStd) === data.config.model.initStd);
  return v && data.arms.includes(v.name) ? v.name : undefined;
}

/** "a, b and c" */
export const listedNames = (names: string[]): string => (names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)}` : (names[0] ?? ''));

/** "10,000, 20,000 and 30,000" */
export const listedSteps = (steps: number[]): string => listedNames(steps.map((x) => x.toLocaleString('en-US')));

/**
 * Ours beside the paper at the paper's steps the run reached; the steps it did not reach are
 * named (a run shorter than 10,000 steps gets that sentence instead of an empty table).
 */
function paperTable(data: RunData): string[] {
  const families = [false, true].map((bn) => ({ key: bn ? 'bn' : 'baseline', arm: familyArm(data, bn) })).filter((f) => f.arm !== undefined);
  const arms = families.map((f) => f.arm as string);
  const lastStep = Math.max(...data.accuracy.map((r) => r.step));
  const reached = PAPER_TABLE_STEPS.filter((step) => step <= lastStep);
  const missed = PAPER_TABLE_STEPS.filter((step) => step > lastStep);
  const paper = readPaperCurves();
  const lines: string[] = [];
  if (reached.length > 0) {
    lines.push(
      `| step | ${families.map((f) => `${f.arm} (ours) | ${f.key} (paper)`).join(' | ')} |`,
      `| ---: | ${arms.map(() => '---: | ---:').join(' | ')} |`,
    );
    for (const step of reached) {
      const cells = families.map((f) => {
        const ours = valueAt(meanAccuracyCurve(data, f.arm as string), step);
        const theirs = interpolate(paper[f.key as 'baseline' | 'bn'], step);
        return `${ours === null ? '–' : ours.toFixed(4)} | ${theirs === undefined ? '–' : theirs.toFixed(4)}`;
      });
      lines.push(`| ${step.toLocaleString('en-US')} | ${cells.join(' | ')} |`);
    }
  }
  if (missed.length > 0) {
    if (lines.length > 0) lines.push('');
    lines.push(
      `This run's last evaluation is at step ${lastStep.toLocaleString('en-US')}, so it did not reach the paper's step${missed.length > 1 ? 's' : ''} ${listedSteps(missed)}${reached.length === 0 ? ': there is nothing to set beside the paper yet (train with --steps 40000 or more)' : ''}.`,
    );
  }
  return lines;
}

/** Stability of every recorded unit and seed of one network, or null without p15/p50/p85. */
export function stabilityOf(data: RunData, arm: string): Stability[] | null {
  const rows = data.activations.filter((r) => r.arm === arm);
  if (rows.length === 0 || ![15, 50, 85].every((p) => rows[0].p.has(p))) return null;
  const out: Stability[] = [];
  for (const seed of data.seeds) {
    for (const unit of new Set(rows.map((r) => r.unit))) {
      const trace = rows
        .filter((r) => r.seed === seed && r.unit === unit)
        .map((r) => ({ step: r.step, p15: r.p.get(15)!, p50: r.p.get(50)!, p85: r.p.get(85)! }));
      const s = stability(trace, data.config.train.steps);
      if (s) out.push(s);
    }
  }
  return out;
}

export function stabilityTable(data: RunData): string[] {
  const lines = ['| network | spread p85−p15 at 10% | spread at end | change of spread | max drift of the median |', '| --- | ---: | ---: | ---: | ---: |'];
  for (const arm of data.arms) {
    const s = stabilityOf(data, arm);
    if (!s || s.length === 0) continue;
    lines.push(
      `| ${arm} | ${pm(
        s.map((x) => x.spreadFrom),
        3,
      )} | ${pm(
        s.map((x) => x.spreadTo),
        3,
      )} | ${pm(
        s.map((x) => x.spreadChange),
        3,
      )} | ${pm(
        s.map((x) => x.medianDrift),
        3,
      )} |`,
    );
  }
  return lines;
}

export function buildReport(data: RunData): string {
  const c = data.config;
  const backend = data.runJson.backend?.name ?? 'unknown';
  const source = (data.runJson.data as { source?: string } | undefined)?.source ?? 'unknown';
  const units = [...new Set(data.activations.map((r) => r.unit))].join(', ');
  return [
    `# bn-repro report: ${c.name}`,
    '',
    `Run folder \`${data.dir}\`: ${data.arms.join(', ')} × ${data.seeds.length} seed(s) (${data.seeds.join(', ')}), ${c.train.steps.toLocaleString('en-US')} steps of ${c.train.batchSize}, learning rate ${c.train.learningRate}, ${source} MNIST, backend ${backend}. Values are mean ± sample std over seeds; steps-to-target use the across-seed mean curve.`,
    '',
    ...(source === 'embedded'
      ? [`**Not the paper's protocol**: trained on the 10,000 embedded digits, not full MNIST; the paper values below are for comparison only.`, '']
      : []),
    '## Test accuracy',
    '',
    ...accuracyTable(data),
    '',
    // The paper's Fig. 1 is its Sec. 4.1 MLP; its convnet results are on ImageNet (docs/cnn.md).
    ...(c.model.kind === 'mlp'
      ? [
          '## Figure 1(a): ours beside the paper',
          '',
          'Paper values interpolated on its digitized Figure 1(a) (paper/fig1a.csv); ours are the across-seed mean at the last evaluation at or before each step.',
          '',
          ...paperTable(data),
          '',
        ]
      : []),
    `## Stability of the ${c.model.activation} inputs${c.model.kind === 'mlp' ? ' (Figure 1b,c)' : ''}`,
    '',
    `Last hidden layer, units ${units}, over held-out examples. From the first evaluation at or after 10% of training to the end: the 15th-85th percentile spread, and how far the median moves (mean ± std over units and seeds).`,
    '',
    ...stabilityTable(data),
    '',
  ].join('\n');
}
