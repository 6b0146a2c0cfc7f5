/**
 * The report section on internal covariate shift and the loss landscape (Santurkar, Tsipras,
 * Ilyas & Madry 2018, Def. 2.1, Sec. 3.1): per network, each run's average over its measurements
 * in two windows of training (the first 10%, and the rest), then mean +- std over seeds.
 */
import type { ResolvedConfig } from '../config/config.js';
import { hiddenUnitsOfArm } from '../config/runs.js';
import { weightLayerName, weightLayersOf } from '../model/weight-layers.js';
import type { Measurements } from './measurement-data.js';
import { meanAndSampleStd } from './stats.js';

/** The first `EARLY` fraction of training is reported apart: both nets change fastest there. */
export const EARLY = 0.1;

interface Window {
  label: string;
  has: (step: number) => boolean;
}

function windows(config: ResolvedConfig): Window[] {
  const cut = EARLY * config.train.steps;
  const fmt = (n: number) => n.toLocaleString('en-US');
  return [
    { label: `steps 0-${fmt(cut)}`, has: (s) => s <= cut },
    { label: `steps ${fmt(cut)}-${fmt(config.train.steps)}`, has: (s) => s > cut },
  ];
}

/** mean +- std over seeds of each seed's average of `value` over its rows in the window. */
export function seedSummary<R extends { seed: number; step: number }>(
  rows: R[],
  value: (r: R) => number,
  window: Window,
): { mean: number; std: number; n: number } {
  const bySeed = new Map<number, number[]>();
  for (const r of rows) if (window.has(r.step)) bySeed.set(r.seed, [...(bySeed.get(r.seed) ?? []), value(r)]);
  const perSeed = [...bySeed.values()].map((v) => meanAndSampleStd(v).mean);
  return { ...meanAndSampleStd(perSeed), n: perSeed.length };
}

/** 3 significant digits, small and large values in exponent form. */
export function sig(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(2) : String(Number(v.toPrecision(3)));
}

const pm = (s: { mean: number; std: number; n: number }) => (s.n === 0 ? '-' : s.n > 1 ? `${sig(s.mean)} ± ${sig(s.std)}` : sig(s.mean));

export function landscapeSection(config: ResolvedConfig, arms: string[], m: Measurements): string[] {
  const ws = windows(config);
  const seeds = new Set(m.landscape.map((r) => r.seed)).size;
  const steps = config.eval.every * config.eval.landscape.every;
  const etas = config.eval.landscape.stepMultiples.join(', ');
  const out = [
    '## Internal covariate shift and the loss landscape (Santurkar et al. 2018)',
    '',
    `Measured every ${steps.toLocaleString('en-US')} steps and at the last step, on one fixed training mini-batch of ${config.train.batchSize} per seed. ` +
      `Each run's measurements are averaged within each window, then mean ± std over ${seeds} seed(s).`,
    '',
    `### Loss landscape along the gradient (their Sec. 3.1, Fig. 4), step sizes ${etas} × the learning rate`,
    '',
    `| network | window | loss range (max - min) | gradient change max ‖∇L(θ) - ∇L(θ - ηg)‖ | effective β-smoothness |`,
    '|---|---|---:|---:|---:|',
  ];
  for (const arm of arms) {
    const rows = m.landscape.filter((r) => r.arm === arm);
    for (const w of ws) {
      const cells = [
        (r: (typeof rows)[number]) => r.lossMax - r.lossMin,
        (r: (typeof rows)[number]) => r.gradChangeMax,
        (r: (typeof rows)[number]) => r.betaSmoothness,
      ].map((f) => pm(seedSummary(rows, f, w)));
      out.push(`| ${arm} | ${w.label} | ${cells.join(' | ')} |`);
    }
  }
  out.push(
    '',
    "### Internal covariate shift per layer (their Def. 2.1, Fig. 5): G = ∇ of the layer's weights, G' = the same after the earlier layers' SGD step",
    '',
  );
  // 1 - cos rather than cos: the cosines sit so close to 1 that three digits would all read 1.
  out.push(`| network | layer | window | ‖G - G'‖₂ | 1 - cos(G, G') |`, '|---|---|---|---:|---:|');
  const layers = [...new Set(m.ics.map((r) => r.layer))].sort((a, b) => a - b);
  for (const arm of arms) {
    // A depth sweep's networks differ in depth: "output" is each network's own last layer.
    const named = weightLayersOf(config, hiddenUnitsOfArm(config, arm));
    for (const layer of layers.filter((l) => l < named.length)) {
      const rows = m.ics.filter((r) => r.arm === arm && r.layer === layer);
      for (const w of ws) {
        const name = weightLayerName(named[layer]);
        out.push(`| ${arm} | ${name} | ${w.label} | ${pm(seedSummary(rows, (r) => r.l2, w))} | ${pm(seedSummary(rows, (r) => 1 - r.cosine, w))} |`);
      }
    }
  }
  const first = config.model.kind === 'cnn' ? 'conv layer' : 'hidden layer';
  out.push('', `The first ${first} has no earlier layer, so its G' = G: ‖G - G'‖ = 0 and 1 - cos = 0 by definition.`, '');
  return out;
}
