/**
 * Helpers for the signal and full-disk robustness tests: a CLI process started in the background
 * whose stderr is read line by line (to send a signal at a chosen moment), SIGKILLed after a hard
 * timeout; the moment its signal handlers exist (from /proc); folder checks and row comparisons.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, ROOT, timelessRows } from './helpers.js';

export interface Started {
  child: ChildProcess;
  /** stderr so far. */
  stderr: () => string;
  /** Resolves with the exit code and signal; the process is SIGKILLed after `timeoutMs`. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; stdout: string }>;
  /** Resolves when stderr has a line matching `re` (rejects when the process exits first). */
  line: (re: RegExp) => Promise<void>;
}

export function launch(args: string[], timeoutMs = 120_000): Started {
  const { BN_REPRO_DATA: _unset, ...env } = process.env;
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    for (const w of waiters.filter((x) => x.re.test(err))) w.resolve();
  });
  child.stderr!.on('error', () => {});
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stdout!.on('error', () => {});
  const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; stdout: string }>((resolve) =>
    child.once('exit', (code, signal) => {
      clearTimeout(kill);
      resolve({ code, signal, stderr: err, stdout: out });
    }),
  );
  const line = (re: RegExp) =>
    new Promise<void>((resolve, reject) => {
      if (re.test(err)) return resolve();
      waiters.push({ re, resolve });
      void exited.then(() => reject(new Error(`exited before printing ${re}; stderr: ${err}`)));
    });
  return { child, stderr: () => err, exited, line };
}

/** Resolves once `pid` catches SIGHUP, i.e. once bin/bn-repro has installed its handlers (Node itself never does). */
export async function handlersInstalled(pid: number, timeoutMs = 30_000): Promise<void> {
  const began = Date.now();
  while (Date.now() - began < timeoutMs) {
    const status = existsSync(`/proc/${pid}/status`) ? readFileSync(`/proc/${pid}/status`, 'utf8') : '';
    const caught = /^SigCgt:\s*([0-9a-f]+)/m.exec(status)?.[1];
    if (caught !== undefined && (BigInt(`0x${caught}`) & 1n) === 1n) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`pid ${pid} installed no SIGHUP handler within ${timeoutMs} ms`);
}

const LEFTOVER = /\.tmp-|\.part-|\.merging-|\.stale-|^\.lock$/;
/** Lock and temp files under `dir` (recursively) or directly in it. */
export const leftovers = (dir: string, recursive = true): string[] =>
  existsSync(dir) ? (readdirSync(dir, { recursive }) as string[]).filter((n) => LEFTOVER.test(n.split('/').pop()!)) : [];

export const statusOf = (dir: string): string => JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).status;

/** Every CSV of `dir` holds the rows of `reference`, each once, timing aside. */
export function assertSameRows(dir: string, reference: string): void {
  for (const name of ['accuracy.csv', 'activations.csv'])
    assert.deepEqual(timelessRows(dir, name), timelessRows(reference, name), `${name} differs from the uninterrupted run's`);
}

/** Every CSV in `dir` starts with its header and ends with a whole line. */
export function assertWholeCsvs(dir: string): void {
  for (const name of ['accuracy.csv', 'activations.csv']) {
    const text = readFileSync(join(dir, name), 'utf8');
    assert.match(text, /^arm,seed,step,/, `${name} has its header`);
    assert.ok(text.endsWith('\n'), `${name} ends with a whole line`);
  }
}
