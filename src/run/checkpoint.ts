/**
 * Checkpoints: everything a run needs to continue bit for bit (weights, BN parameters, moving
 * statistics, momentum SGD's velocity, RNG and shuffle position, the loss summed since the last evaluation, timing), or,
 * once a run is over, its summary. One JSON file per run in <run dir>/checkpoints/, written
 * through a temp file and a rename so a crash leaves the previous checkpoint intact. Each file
 * carries the sha256 of its content: an edited or damaged checkpoint is refused, never resumed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SamplerState } from '../batches.js';
import type { Arm } from '../config.js';
import { UserError } from '../errors.js';
import type { Velocity } from '../model/momentum.js';
import { modelVariables, type Model } from '../model/model.js';
import type { BnStats } from '../model/net.js';
import type { EvalRecord, RunSummary } from './records.js';
import { regularFileText, writeJsonAtomic } from './run-folder.js';
import { checkpointSchema, endedRunSchema, parseWith } from './schemas.js';

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
  /** float32 values of modelVariables(net), base64, in that order. */
  params: string[];
  moving?: { mean: string[]; variance: string[] };
  /** Momentum SGD's velocity (train.momentum > 0): float32 values, base64, in the order of params. */
  velocity?: string[];
  sampler: SamplerState;
}

/** What ties a saved run to its folder: the experiment digest and the digests of its rows on disk. */
export interface MadeWith {
  /** experimentDigest of the config and data (digest.ts). */
  digest?: string;
  /** CSV file name -> rowsDigest of this run's rows in it when the checkpoint was saved. */
  rows?: Record<string, string>;
}

/** What is kept of a run that has ended (finished or diverged): its summary, no weights. */
export interface EndedRun {
  arm: Arm;
  seed: number;
  summary: RunSummary;
}

export type SavedRun = (RunCheckpoint | EndedRun) & MadeWith;

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

export function encodeNet(net: Model): string[] {
  return modelVariables(net).map(encode);
}

export function encodeStats(stats: BnStats): { mean: string[]; variance: string[] } {
  return { mean: stats.mean.map(encode), variance: stats.variance.map(encode) };
}

const MISMATCH = 'The checkpoint does not match this network (its config was edited?); delete it to restart that run from step 0.';

/** The values of `s` for a tensor of `t`'s shape; a wrong length is a damaged checkpoint. */
function decodeFor(t: tf.Tensor, s: string | undefined): Float32Array {
  const values = s === undefined ? undefined : decode(s);
  if (values?.length !== t.size) throw new UserError(MISMATCH);
  return values;
}

/** Loads saved values into `net` (and moving statistics held in variables), checking every size first. */
export function restoreNet(net: Model, params: string[], moving?: BnStats, saved?: { mean: string[]; variance: string[] }): void {
  const vars = modelVariables(net);
  if (vars.length !== params.length) throw new UserError(MISMATCH);
  const values = vars.map((v, i) => decodeFor(v, params[i]));
  const stats =
    moving && saved ? [...moving.mean.map((t, i) => decodeFor(t, saved.mean[i])), ...moving.variance.map((t, i) => decodeFor(t, saved.variance[i]))] : [];
  vars.forEach((v, i) => tf.tidy(() => v.assign(tf.tensor(values[i], v.shape))));
  if (moving && saved) {
    [...moving.mean, ...moving.variance].forEach((t, i) => tf.tidy(() => (t as tf.Variable).assign(tf.tensor(stats[i], t.shape))));
  }
}

export function encodeVelocity(velocity: Velocity): string[] {
  return velocity.values.map(encode);
}

/** Loads a saved velocity, checking every size first; a momentum run's checkpoint without one does not match. */
export function restoreVelocity(velocity: Velocity, saved: string[] | undefined): void {
  if (saved?.length !== velocity.values.length) throw new UserError(MISMATCH);
  const values = velocity.values.map((v, i) => decodeFor(v, saved[i]));
  velocity.values.forEach((v, i) => tf.tidy(() => v.assign(tf.tensor(values[i], v.shape))));
}

/** sha256 of a checkpoint's content (every field but the checksum itself), as written. */
function contentHash(content: object): string {
  return createHash('sha256').update(JSON.stringify(content)).digest('hex');
}

export function checkpointPath(runDir: string, arm: Arm, seed: number): string {
  return join(runDir, CHECKPOINT_DIR, `${arm}-seed${seed}.json`);
}

export function writeCheckpoint(runDir: string, ckpt: SavedRun): void {
  const dir = join(runDir, CHECKPOINT_DIR);
  if (!existsSync(dir)) mkdirSync(dir);
  writeJsonAtomic(checkpointPath(runDir, ckpt.arm, ckpt.seed), { ...ckpt, sha256: contentHash(ckpt) });
}

/** Reads one checkpoint file: JSON, schema, checksum and name; anything wrong is one sentence naming it. */
export function readCheckpoint(path: string): SavedRun {
  const damaged = (why: string) => new UserError(`The checkpoint ${path} ${why}; delete it to restart that run from step 0.`);
  let value: unknown;
  try {
    value = JSON.parse(regularFileText(path));
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw damaged('is not valid JSON');
  }
  const ended = typeof value === 'object' && value !== null && 'summary' in value;
  const { sha256, ...content } = ended ? parseWith(endedRunSchema, value, path) : parseWith(checkpointSchema, value, path);
  // Hash the file's own fields in their written order (the schema's output may order them otherwise).
  const { sha256: _written, ...asWritten } = value as Record<string, unknown>;
  if (contentHash(asWritten) !== sha256) throw damaged('fails its checksum (edited or damaged)');
  if (!path.endsWith(`${content.arm}-seed${content.seed}.json`)) throw damaged(`holds ${content.arm} seed ${content.seed}, not the run its name says`);
  return content as SavedRun;
}

/** Every checkpoint of a run folder, keyed "arm/seed"; a damaged file is an error naming it. */
export function readCheckpoints(runDir: string): Map<string, SavedRun> {
  const dir = join(runDir, CHECKPOINT_DIR);
  const out = new Map<string, SavedRun>();
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const ckpt = readCheckpoint(join(dir, name));
    out.set(`${ckpt.arm}/${ckpt.seed}`, ckpt);
  }
  return out;
}
