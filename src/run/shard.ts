/**
 * Deterministic shares of an experiment's runs, so that job arrays (Slurm, Kubernetes indexed
 * Jobs, GNU parallel) can spread a sweep over machines with no coordinator: run k of the fixed
 * run order (runsOf) belongs to shard (k mod n) + 1. Every run lands in exactly one shard.
 */
import { UsageError } from '../core/errors.js';

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

/** Parses "i/n" with 1 <= i <= n. */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) {
    throw new UsageError(`--shard must be i/n with 1 <= i <= n, such as 2/8 (got "${text}").`);
  }
  return { index, count };
}

export function shardOf<T>(runs: T[], shard?: Shard): T[] {
  if (!shard) return runs;
  return runs.filter((_, k) => k % shard.count === shard.index - 1);
}
