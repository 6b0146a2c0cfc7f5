/**
 * Several run folders in one Figure 1 (`plot DIR1 DIR2 ... --out DIR`): each folder's networks
 * become lines of their own, labelled by what differs between the folders' configs ("lr 0.1" vs
 * "lr 0.5"), or by the folder's name when nothing does (or the labels would not tell them apart).
 */
import { basename } from 'node:path';
import { DIGEST_IGNORED_KEYS } from '../run/digest.js';
import type { RunData } from './run-data.js';

/** Short names of the keys experiments most often vary; any other key is named by its path. */
const SHORT_NAMES: Record<string, string> = {
  'train.learningRate': 'lr',
  'model.initStd': 'init std',
  'train.batchSize': 'batch',
  'train.steps': 'steps',
  'model.hiddenUnits': 'hidden',
  'batchNorm.inference': 'inference',
  'batchNorm.epsilon': 'epsilon',
  'data.source': 'data',
};
/** Keys that say how or where a run was made, not what it computed. */
const NOT_A_DIFFERENCE = new Set<string>([...DIGEST_IGNORED_KEYS.filter((k) => k !== 'seeds'), 'name', 'data.dir', 'data.mirrors', 'data.downloadRetries']);

function leaves(value: unknown, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) for (const [path, text] of leaves(v, prefix ? `${prefix}.${k}` : k)) out.set(path, text);
  } else out.set(prefix, JSON.stringify(value));
  return out;
}

/** One label per folder, in order. */
export function folderLabels(datas: RunData[]): string[] {
  const flat = datas.map((d) => leaves(d.config));
  const keys = [...new Set(flat.flatMap((f) => [...f.keys()]))].filter((k) => !NOT_A_DIFFERENCE.has(k));
  const differing = keys.filter((k) => new Set(flat.map((f) => f.get(k))).size > 1);
  const labels = flat.map((f) => differing.map((k) => `${SHORT_NAMES[k] ?? k} ${f.get(k) ?? '-'}`).join(', '));
  const names = datas.map((d) => basename(d.dir));
  if (differing.length === 0) return names;
  return new Set(labels).size === labels.length ? labels : labels.map((l, i) => `${l} (${names[i]})`);
}

/** The folders as one RunData whose networks are "<label>: <arm>"; config and units from the first. */
export function combineRuns(datas: RunData[], labels: string[]): RunData {
  const rename = (i: number, arm: string) => `${labels[i]}: ${arm}`;
  return {
    ...datas[0],
    dir: datas.map((d) => d.dir).join(', '),
    arms: datas.flatMap((d, i) => d.arms.map((a) => rename(i, a))),
    seeds: [...new Set(datas.flatMap((d) => d.seeds))].sort((a, b) => a - b),
    accuracy: datas.flatMap((d, i) => d.accuracy.map((r) => ({ ...r, arm: rename(i, r.arm) }))),
    activations: datas.flatMap((d, i) => d.activations.map((r) => ({ ...r, arm: rename(i, r.arm) }))),
    csvs: undefined,
  };
}

/** Panels (b) and (c) for every network of every folder, titled by folder and network. */
export function combinedTraces(datas: RunData[], labels: string[]): { arm: string; title: string }[] {
  return datas.flatMap((d, i) => d.arms.map((arm) => ({ arm: `${labels[i]}: ${arm}`, title: `${labels[i]}, ${arm}` })));
}
