/**
 * The learning-rate sweep table, the MNIST analogue of the paper's Fig. 3 (Sec. 4.2.2): per
 * network, its learning rate, the steps its across-seed mean accuracy needs to reach the
 * baseline's final accuracy, its maximum accuracy, and how many of its seeds diverged.
 */
import type { Variant } from '../config/config.js';
import type { RunData } from './run-data.js';
import { meanAccuracyCurve } from './report.js';
import { meanAndSampleStd, stepsToReach } from './stats.js';

/** A learning rate or init std as the tables print it. */
const num = (x: number) => String(Number(x.toPrecision(6)));

/** Names what the sweep varies: "Learning-rate sweep", "Init-scale sweep" or both. */
export function sweepHeading(variants: Variant[], defaultStd: number): string {
  const lr = new Set(variants.map((v) => v.lrMultiplier)).size > 1;
  const std = new Set(variants.map((v) => v.initStd ?? defaultStd)).size > 1;
  const what = [lr ? 'learning-rate' : '', std ? 'init-scale' : ''].filter(Boolean).join(' and ') || 'network';
  return `## ${what[0].toUpperCase()}${what.slice(1)} sweep${lr ? " (cf. the paper's Fig. 3)" : ''}`;
}

export function buildSweepTable(data: RunData): string {
  const variants = data.config.sweep;
  // The baseline at the default settings (learning rate and init std), if the sweep has it.
  const isDefault = (v: Variant) => v.lrMultiplier === 1 && (v.initStd ?? data.config.model.initStd) === data.config.model.initStd;
  const reference = variants.find((v) => !v.bn && isDefault(v)) ?? variants[0];
  const finalOf = (arm: string) =>
    data.seeds.map((s) => data.accuracy.filter((r) => r.arm === arm && r.seed === s).at(-1)?.testAccuracy).filter((x): x is number => x !== undefined);
  const target = meanAndSampleStd(finalOf(reference.name)).mean;
  const runs = data.runJson.runs ?? [];
  const lines = [
    sweepHeading(variants, data.config.model.initStd),
    '',
    `Target: the final test accuracy of ${reference.name}, ${target.toFixed(4)} (mean over ${data.seeds.length} seed(s)). Steps to reach it use each network's across-seed mean curve.`,
    '',
    '| network | BN | learning rate | init std | steps to reach the target | max accuracy | diverged seeds |',
    '| --- | :---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const v of variants) {
    const curve = meanAccuracyCurve(data, v.name).filter((p) => Number.isFinite(p.value));
    const reached = stepsToReach(curve, target);
    const best = curve.length > 0 ? Math.max(...curve.map((p) => p.value)) : NaN;
    const diverged = runs.filter((r) => r.arm === v.name && r.divergedAtStep !== undefined).length;
    lines.push(
      `| ${v.name} | ${v.bn ? 'yes' : 'no'} | ${num(data.config.train.learningRate * v.lrMultiplier)} | ${num(v.initStd ?? data.config.model.initStd)} | ${reached === null ? 'not reached' : reached.toLocaleString('en-US')} | ${Number.isFinite(best) ? best.toFixed(4) : '–'} | ${diverged} of ${data.seeds.length} |`,
    );
  }
  return `${[...lines, '', ...fairlyTunedTable(data)].join('\n')}\n`;
}

/** What the fairly-tuned comparison needs of one network. */
export interface TunedEntry {
  variant: Variant;
  /** Steps for the across-seed mean curve to reach 97% (null: never). */
  steps97: number | null;
  /** Mean final accuracy over seeds (NaN when diverged). */
  final: number;
}

export function tunedEntries(data: RunData): TunedEntry[] {
  return data.config.sweep.map((variant) => {
    const finals = data.seeds.map((s) => data.accuracy.filter((r) => r.arm === variant.name && r.seed === s).at(-1)?.testAccuracy ?? NaN);
    return { variant, steps97: stepsToReach(meanAccuracyCurve(data, variant.name), 0.97), final: meanAndSampleStd(finals).mean };
  });
}

/** The best of a family by steps to 97% (ties and "never": higher final accuracy) and by final accuracy. */
export function bestOf(entries: TunedEntry[]): { bySpeed: TunedEntry; byAccuracy: TunedEntry } | null {
  const ok = entries.filter((e) => Number.isFinite(e.final));
  if (ok.length === 0) return null;
  const speed = (e: TunedEntry) => e.steps97 ?? Infinity;
  const bySpeed = [...ok].sort((a, b) => speed(a) - speed(b) || b.final - a.final)[0];
  const byAccuracy = [...ok].sort((a, b) => b.final - a.final || speed(a) - speed(b))[0];
  return { bySpeed, byAccuracy };
}

/**
 * "Fairly tuned": each family (BN, baseline) at its own best setting, so that BN's lead is not
 * a lead over an untuned baseline.
 */
export function fairlyTunedTable(data: RunData): string[] {
  const entries = tunedEntries(data);
  const families = [false, true].map((bn) => ({ bn, best: bestOf(entries.filter((e) => e.variant.bn === bn)) }));
  const steps = (e: TunedEntry) => (e.steps97 === null ? 'not reached' : e.steps97.toLocaleString('en-US'));
  const lines = [
    '## Fairly tuned: each family at its best setting',
    '',
    '| family | best by steps to 97% | steps to 97% | best by final accuracy | final accuracy |',
    '| --- | --- | ---: | --- | ---: |',
  ];
  // A "best by steps" that reached nothing is no best: the cell says that no setting did.
  for (const { bn, best } of families) {
    if (!best) continue;
    const fastest = best.bySpeed.steps97 === null ? 'none reaches 97%' : best.bySpeed.variant.name;
    lines.push(`| ${bn ? 'BN' : 'baseline'} | ${fastest} | ${steps(best.bySpeed)} | ${best.byAccuracy.variant.name} | ${best.byAccuracy.final.toFixed(4)} |`);
  }
  const [base, bn] = families.map((f) => f.best);
  if (base && bn) lines.push('', leadSentence(base, bn));
  return lines;
}

/** BN's lead over the baseline, each family at its best setting, naming every network it compares. */
export function leadSentence(base: { bySpeed: TunedEntry; byAccuracy: TunedEntry }, bn: { bySpeed: TunedEntry; byAccuracy: TunedEntry }): string {
  const [s0, s1] = [base.bySpeed.steps97, bn.bySpeed.steps97];
  const [b0, b1] = [base.bySpeed.variant.name, bn.bySpeed.variant.name];
  const at = (s: number) => `step ${s.toLocaleString('en-US')}`;
  const speed =
    s0 !== null && s1 !== null
      ? `${b1} reaches 97% ${s0 === s1 ? `at the same step as ${b0}` : `${Math.abs(s0 - s1).toLocaleString('en-US')} steps ${s1 < s0 ? 'sooner' : 'later'} than ${b0} (${at(s1)} against ${at(s0)}, ${(s0 / s1).toFixed(1)}x)`}`
      : s1 !== null
        ? `${b1} reaches 97% (${at(s1)}); no baseline setting does`
        : s0 !== null
          ? `no BN setting reaches 97%; ${b0} does (${at(s0)})`
          : 'no setting of either family reaches 97%';
  const gain = bn.byAccuracy.final - base.byAccuracy.final;
  return `BN against the baseline, each at its best setting: ${speed}; by final accuracy, ${bn.byAccuracy.variant.name} ends ${gain >= 0 ? '+' : ''}${gain.toFixed(4)} against ${base.byAccuracy.variant.name}.`;
}
