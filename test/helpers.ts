/** Shared test helpers: backend set-up, tiny nets and data, temp folders, CSV reading. */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../src/engines/backend.js';
import { DEFAULTS, type BackendName, type ResolvedConfig } from '../src/config/config.js';
import { applyOverrides } from '../src/config/resolve.js';
import type { Dataset, Split } from '../src/data/dataset.js';
import { silentLogger } from '../src/core/logger.js';
import { Rng } from '../src/core/random.js';

/**
 * Tests run on wasm unless BN_REPRO_TEST_BACKEND names another backend (cpu, tensorflow, webgpu):
 * the same gradient checks and equivalence tests then run on it.
 */
export async function useTestBackend(): Promise<void> {
  const name = (process.env.BN_REPRO_TEST_BACKEND ?? 'wasm') as BackendName;
  await initBackend(name, silentLogger);
}

/** The project root (tests run from dist/test/) and the CLI shim. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'bn-repro');

/** The hard limit on one CLI run in a test: a hang is killed (SIGKILL) and fails the test. */
export const CLI_TIMEOUT_MS = 300_000;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `bn-repro args` as a user would, off a terminal (CI=true) and without $BN_REPRO_DATA
 * unless `env` sets it, killed with SIGKILL after `timeoutMs`.
 */
export function runCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): CliResult {
  const { BN_REPRO_DATA: _unset, ...inherited } = process.env;
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    encoding: 'utf8',
    env: { ...inherited, CI: 'true', ...opts.env },
    timeout: opts.timeoutMs ?? CLI_TIMEOUT_MS,
    killSignal: 'SIGKILL',
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/**
 * runCli without blocking the test process, so that a table of CLI cases can run a few at a time
 * (CLI_TABLE_CONCURRENCY): the same environment, and SIGKILL after `timeoutMs`.
 */
export function runCliAsync(args: string[], opts: { timeoutMs?: number } = {}): Promise<CliResult> {
  const { BN_REPRO_DATA: _unset, ...inherited } = process.env;
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...inherited, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const kill = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? CLI_TIMEOUT_MS);
  return new Promise((resolve) =>
    child.once('close', (code, signal) => {
      clearTimeout(kill);
      resolve({ code, signal, stdout, stderr });
    }),
  );
}

/**
 * CLI refusal cases (each its own folders, nothing timed) run two at a time: a case is mostly the
 * CLI's start-up, one core's work, and npm test otherwise leaves the second core idle.
 */
export const CLI_TABLE_CONCURRENCY = 2;

/** Starts the CLI in the background (CI=true); `settle` SIGKILLs it if a test fails before it exits. */
export function start(args: string[], stdio: 'ignore' | 'pipe'): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'ignore', stdio] });
}

export async function settle(child: ChildProcess, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** Waits until `path` holds a checkpoint with weights at step >= minStep. */
export async function waitForCheckpoint(path: string, minStep: number, timeoutMs = 60000): Promise<void> {
  const began = Date.now();
  while (Date.now() - began < timeoutMs) {
    if (existsSync(path)) {
      try {
        const c = JSON.parse(readFileSync(path, 'utf8'));
        if (c.params && c.step >= minStep) return;
      } catch {
        // being replaced right now; look again
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no checkpoint at ${path} within ${timeoutMs} ms`);
}

/**
 * A tiny sweep config file (baseline, BN, BN-x5 over seeds 0 and 1, 300 steps on 1,000 embedded
 * digits) with `extra` top-level keys replaced; returns its path.
 */
export function tinySweepConfig(dir: string, name: string, extra: Record<string, unknown> = {}): string {
  const path = join(dir, `${name}.json`);
  const config = {
    name,
    seeds: [0, 1],
    sweep: [
      { name: 'baseline', bn: false, lrMultiplier: 1 },
      { name: 'bn', bn: true, lrMultiplier: 1 },
      { name: 'bn-x5', bn: true, lrMultiplier: 5 },
    ],
    train: { steps: 300, learningRate: 0.5 },
    eval: { every: 100, probeSize: 200, units: [0, 1] },
    batchNorm: { populationBatches: 3 },
    data: { source: 'embedded', trainSubset: 1000, testSubset: 300 },
    ...extra,
  };
  writeFileSync(path, JSON.stringify(config));
  return path;
}

export function tempDir(prefix = 'bn-repro-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A config of DEFAULTS plus overrides, validated like a config file. */
export function testConfig(overrides: Record<string, unknown>): ResolvedConfig {
  return applyOverrides(structuredClone(DEFAULTS) as ResolvedConfig, overrides, 'test');
}

/** Random 28x28 "images" whose label is decided by which quarter holds the most ink: learnable. */
export function syntheticSplit(count: number, seed: number): Split {
  const rng = Rng.stream(seed, 'synthetic');
  const images = new Float32Array(count * 784);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const label = rng.int(10);
    labels[i] = label;
    for (let p = 0; p < 784; p++) {
      const band = Math.floor(p / 78.4);
      images[i * 784 + p] = band === label ? 0.5 + 0.5 * rng.uniform() : 0.3 * rng.uniform();
    }
  }
  return { images, labels, count };
}

export function syntheticDataset(train: number, test: number): Dataset {
  return { train: syntheticSplit(train, 1), test: syntheticSplit(test, 2), source: 'embedded', origin: 'embedded', folder: 'synthetic' };
}

/** Parses a CSV written by csv-writer (no quoted fields in our files) into header + rows. */
export function readCsv(path: string): { header: string[]; rows: Record<string, string>[] } {
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  const header = lines[0].split(',');
  const rows = lines.slice(1).map((line) => {
    const cells = line.split(',');
    if (cells.length !== header.length) throw new Error(`ragged CSV row in ${path}: ${line}`);
    return Object.fromEntries(header.map((h, i) => [h, cells[i]]));
  });
  return { header, rows };
}

/** A CSV's rows without the timing column (wall time differs between runs), sorted: what an uninterrupted run must equal. */
export function timelessRows(dir: string, file: string): string[] {
  return readCsv(join(dir, file))
    .rows.map(({ elapsed_s: _t, ...row }) => JSON.stringify(row))
    .sort();
}

export function valuesOf(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

export function assertClose(actual: number, expected: number, tol: number, what: string): void {
  if (!(Math.abs(actual - expected) <= tol)) throw new Error(`${what}: ${actual} is not within ${tol} of ${expected}`);
}

/**
 * Checks `analytic` (dLoss/dv, one value per element of v) against central finite differences of
 * `loss()` with step 1e-2, moving one element of `v` at a time and restoring it. Returns the count.
 */
export function assertMatchesFiniteDifferences(v: tf.Variable, analytic: ArrayLike<number>, loss: () => number, what: string): number {
  const base = Float32Array.from(v.dataSync());
  if (base.length !== analytic.length) throw new Error(`${what}: ${analytic.length} gradient values for ${base.length} parameters`);
  const h = 1e-2;
  for (let j = 0; j < base.length; j++) {
    const at = (delta: number) => {
      const p = base.slice();
      p[j] += delta;
      tf.tidy(() => v.assign(tf.tensor(p, v.shape)));
      return loss();
    };
    const fd = (at(h) - at(-h)) / (2 * h);
    tf.tidy(() => v.assign(tf.tensor(base, v.shape)));
    assertClose(analytic[j], fd, 5e-4 + 2e-2 * Math.abs(fd), `${what}[${j}]`);
  }
  return base.length;
}

/**
 * A refused command, as every robustness table asserts it: not killed (it did not hang), exit
 * `code`, exactly one `error:` line matching `message` and short enough to read, no stack trace.
 * Returns that line.
 */
export function assertRefused(r: CliResult, code: number, message: RegExp): string {
  assert.equal(r.signal, null, `killed by ${r.signal}: it hung`);
  assert.equal(r.code, code, `exit code; stderr: ${r.stderr}`);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
  assert.equal(errors.length, 1, `one error line, got: ${r.stderr}`);
  assert.match(errors[0], message);
  assert.ok(errors[0].length < 400, `one readable sentence, not ${errors[0].length} characters`);
  assert.doesNotMatch(r.stderr, /^\s+at |internal error/m, 'no stack trace');
  return errors[0];
}
