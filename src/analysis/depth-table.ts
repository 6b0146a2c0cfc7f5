/**
 * The depth-sweep table (issue 20, item 3): per depth (hidden layers), the steps to 90% test
 * accuracy and the final accuracy of the networks without and with BN at the config's own learning
 * rate and init std, mean ± std over seeds; then every other setting (a rescue of the deep
 * baseline: a smaller init or learning rate) on its own row, and where the baseline stops
 * training. Steps to 90% are per seed: a seed that never gets there is left out of the mean and
 * the cell says how many did.
 */
import type { Variant } from '../config/config.js';
import { hiddenUnitsOf } from '../config/runs.js';
import type { RunData } from './run-data.js';
import { listedNames, pm } from './report.js';
import { meanAndSampleStd, stepsToReach } from './stats.js';

/** The accuracy a network must reach to count as trained (the issue's "steps to 90%"). */
export const DEPTH_TARGET = 0.9;

/** A sweep whose networks differ in depth (hidden layers). */
export function isDepthSweep(data: Pick<RunData, 'config'>): boolean {
  return new Set(data.config.sweep.map((v) => hiddenUnitsOf(data.config, v).length)).size > 1;
}

export interface DepthEntry {
  variant: Variant;
  /** Hidden layers. */
  depth: number;
  /** At the config's own learning rate and init std: a point of its family's curve, not a rescue. */
  family: boolean;
  /** Final test accuracy per seed (NaN: diverged). */
  finals: number[];
  /** Steps to DEPTH_TARGET per seed (null: never). */
  steps: (number | null)[];
}

export function depthEntries(data: RunData): DepthEntry[] {
  const { config } = data;
  return config.sweep.map((variant) => {
    const perSeed = data.seeds.map((seed) => data.accuracy.filter((r) => r.arm === variant.name && r.seed === seed)).filter((rows) => rows.length > 0);
    return {
      variant,
      depth: hiddenUnitsOf(config, variant).length,
      family: variant.lrMultiplier === 1 && (variant.initStd ?? config.model.initStd) === config.model.initStd,
      finals: perSeed.map((rows) => rows.at(-1)?.testAccuracy ?? NaN),
      steps: perSeed.map((rows) =>
        stepsToReach(
          rows.map((r) => ({ step: r.step, value: r.testAccuracy })),
          DEPTH_TARGET,
        ),
      ),
    };
  });
}

/** "1,500 ± 707", "2,000 (1 of 3 seeds)", "not reached", or "–" when no seed has rows (a shard's folder). */
export function stepsCell(steps: (number | null)[]): string {
  if (steps.length === 0) return '–';
  const reached = steps.filter((s): s is number => s !== null);
  if (reached.length === 0) return 'not reached';
  const { mean, std } = meanAndSampleStd(reached);
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
  const text = reached.length > 1 ? `${fmt(mean)} ± ${fmt(std)}` : fmt(mean);
  return reached.length < steps.length ? `${text} (${reached.length} of ${steps.length} seeds)` : text;
}

const num = (x: number) => String(Number(x.toPrecision(6)));

/** Where the baseline family stops training: its deepest depth whose mean final accuracy is >= 90%, and the first below. */
export function baselineLimit(entries: DepthEntry[]): string {
  // Depths with no finished seed yet (a shard's folder) say nothing either way.
  const base = entries.filter((e) => e.family && !e.variant.bn && e.finals.some(Number.isFinite)).sort((a, b) => a.depth - b.depth);
  const trains = (e: DepthEntry) => meanAndSampleStd(e.finals.filter(Number.isFinite)).mean >= DEPTH_TARGET;
  const failing = base.find((e) => !trains(e));
  if (base.length === 0) return '';
  if (!failing) return `The baseline ends at or above ${DEPTH_TARGET * 100}% at every depth trained (up to ${base.at(-1)!.depth} hidden layers).`;
  const deepestOk = base.filter((e) => e.depth < failing.depth && trains(e)).at(-1);
  return `The baseline stops training at ${failing.depth} hidden layers (final accuracy ${pm(failing.finals)}, below ${DEPTH_TARGET * 100}%)${deepestOk ? `; at ${deepestOk.depth} it still ends at ${pm(deepestOk.finals)}` : ''}.`;
}

export function buildDepthTable(data: RunData): string {
  const entries = depthEntries(data);
  const depths = [...new Set(entries.filter((e) => e.family).map((e) => e.depth))].sort((a, b) => a - b);
  const cellsOf = (depth: number, bn: boolean) => {
    const e = entries.find((x) => x.family && x.depth === depth && x.variant.bn === bn);
    return e ? [stepsCell(e.steps), pm(e.finals)] : ['–', '–'];
  };
  const target = `${DEPTH_TARGET * 100}%`;
  const lines = [
    '## Depth sweep: sigmoid networks of increasing depth',
    '',
    `Final test accuracy and the steps each seed needs to reach ${target} test accuracy (mean ± std over ${data.seeds.length} seed(s); a seed that never reaches ${target} is left out of the steps and counted), at learning rate ${num(data.config.train.learningRate)} and init std ${num(data.config.model.initStd)}.`,
    '',
    `| hidden layers | without BN: steps to ${target} | without BN: final accuracy | with BN: steps to ${target} | with BN: final accuracy |`,
    '| ---: | ---: | ---: | ---: | ---: |',
    ...depths.map((d) => `| ${d} | ${[...cellsOf(d, false), ...cellsOf(d, true)].join(' | ')} |`),
  ];
  const others = entries.filter((e) => !e.family);
  if (others.length > 0) {
    lines.push(
      '',
      `Other settings (${listedNames(others.map((e) => e.variant.name))}):`,
      '',
      `| network | BN | hidden layers | learning rate | init std | steps to ${target} | final accuracy |`,
      '| --- | :---: | ---: | ---: | ---: | ---: | ---: |',
      ...others.map(
        (e) =>
          `| ${e.variant.name} | ${e.variant.bn ? 'yes' : 'no'} | ${e.depth} | ${num(data.config.train.learningRate * e.variant.lrMultiplier)} | ${num(e.variant.initStd ?? data.config.model.initStd)} | ${stepsCell(e.steps)} | ${pm(e.finals)} |`,
      ),
    );
  }
  const limit = baselineLimit(entries);
  if (limit) lines.push('', limit);
  return `${lines.join('\n')}\n`;
}
