/**
 * Checkpoints: everything a run needs to continue bit for bit (weights, BN parameters, moving
 * statistics, RNG and shuffle position, the loss summed since the last evaluation, timing), or,
 * once a run is over, its summary. One JSON file per run in <run dir>/checkpoints/, written
 * through a temp file and a rename so a crash leaves the previous checkpoint intact.
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SamplerState } from '../batches.js';
import type { Arm } from '../config.js';
import { UserError } from '../errors.js';
import { netVariables, type BnStats, type Net } from '../model/net.js';
import type { EvalRecord, RunSummary } from './records.js';
import { writeJsonAtomic } from './run-folder.js';

export const CHECKPOINT_DIR = 'checkpoints';

export interface RunCheckpoint {
  arm: Arm;
  seed: number;
  /** Steps taken. */
  step: number;
  lastEvalStep: number;
  /** Sum of mini-batch losses since lastEvalStep (the float32 value of the device sum). */
  lossSum: number;
  bestAccuracy: number;
  last?: EvalRecord;
  elapsedS: number;
  /** float32 values of netVariables(net), base64, in that order. */
  params: string[];
  moving?: { mean: string[]; variance: string[] };
  sampler: SamplerState;
}

/** What is kept of a run that has ended (finished or diverged): its summary, no weights. */
export interface EndedRun {
  arm: Arm;
  seed: number;
  summary: RunSummary;
}

export type SavedRun = RunCheckpoint | EndedRun;

export function isEnded(saved: SavedRun): saved is EndedRun {
  return 'summary' in saved && !saved.summary.interrupted;
}

const encode = (t: tf.Tensor): string => {
  const v = t.dataSync() as Float32Array;
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
};
const decode = (s: string): Float32Array => {
  const bytes = Buffer.from(s, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
};

export function encodeNet(net: Net): string[] {
  return netVariables(net).map(encode);
}

export function encodeStats(stats: BnStats): { mean: string[]; variance: string[] } {
  return { mean: stats.mean.map(encode), variance: stats.variance.map(encode) };
}

/** Loads saved values into `net` (and moving statistics held in variables). */
export function restoreNet(net: Net, params: string[], moving?: BnStats, saved?: { mean: string[]; variance: string[] }): void {
  const vars = netVariables(net);
  if (vars.length !== params.length) throw new UserError('The checkpoint does not match this network (parameter count differs).');
  vars.forEach((v, i) => tf.tidy(() => v.assign(tf.tensor(decode(params[i]), v.shape))));
  if (moving && saved) {
    const assign = (t: tf.Tensor, s: string) => tf.tidy(() => (t as tf.Variable).assign(tf.tensor(decode(s), t.shape)));
    moving.mean.forEach((t, i) => assign(t, saved.mean[i]));
    moving.variance.forEach((t, i) => assign(t, saved.variance[i]));
  }
}

export function checkpointPath(runDir: string, arm: Arm, seed: number): string {
  return join(runDir, CHECKPOINT_DIR, `${arm}-seed${seed}.json`);
}

export function writeCheckpoint(runDir: string, ckpt: SavedRun): void {
  mkdirSync(join(runDir, CHECKPOINT_DIR), { recursive: true });
  writeJsonAtomic(checkpointPath(runDir, ckpt.arm, ckpt.seed), ckpt);
}

/** Every checkpoint of a run folder, keyed "arm/seed"; a damaged file is an error naming it. */
export function readCheckpoints(runDir: string): Map<string, SavedRun> {
  const dir = join(runDir, CHECKPOINT_DIR);
  const out = new Map<string, SavedRun>();
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    try {
      const ckpt = JSON.parse(readFileSync(join(dir, name), 'utf8')) as SavedRun;
      out.set(`${ckpt.arm}/${ckpt.seed}`, ckpt);
    } catch {
      throw new UserError(`The checkpoint ${join(dir, name)} is damaged; delete it to restart that run from step 0.`);
    }
  }
  return out;
}
