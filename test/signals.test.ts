/**
 * The signal catcher's rules (src/core/signals.ts), on a fake process: outside a deferral a signal
 * exits 130 at once with its note; inside one the first stop signal aborts, SIGTERM and SIGHUP
 * again change nothing, a second SIGINT or a SIGQUIT exits at once; released, signals exit again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSignalCatcher, type SignalHost } from '../src/core/signals.js';

function fakeHost() {
  const listeners = new Map<string, (name: never) => void>();
  const exits: number[] = [];
  const lines: string[] = [];
  const host: SignalHost = {
    on: (signal, listener) => listeners.set(signal, listener as (name: never) => void),
    exit: (code) => void exits.push(code),
    warn: (line) => void lines.push(line),
  };
  const send = (name: string) => listeners.get(name)!(name as never);
  return { host, send, exits, lines, listeners };
}

test('catches SIGINT, SIGTERM, SIGHUP and SIGQUIT', () => {
  const f = fakeHost();
  createSignalCatcher(f.host);
  assert.deepEqual([...f.listeners.keys()].sort(), ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM']);
});

test('outside a deferral a signal exits 130 at once, printing the latest note', () => {
  const f = fakeHost();
  const c = createSignalCatcher(f.host);
  f.send('SIGTERM');
  const unnote = c.noteOnExit('continue with: bn-repro mnist --resume /r');
  f.send('SIGHUP');
  unnote();
  f.send('SIGINT');
  assert.deepEqual(f.exits, [130, 130, 130]);
  assert.deepEqual(f.lines, ['SIGTERM: stopped.', 'SIGHUP: stopped; continue with: bn-repro mnist --resume /r', 'SIGINT: stopped.']);
});

test('in a deferral: the first stop signal aborts once; SIGTERM and SIGHUP again change nothing; a second SIGINT exits', () => {
  const f = fakeHost();
  const c = createSignalCatcher(f.host);
  const announced: string[] = [];
  const d = c.deferExit((name) => announced.push(name));
  f.send('SIGHUP');
  assert.equal(d.stop.aborted, true);
  f.send('SIGTERM');
  f.send('SIGHUP');
  assert.deepEqual([announced, f.exits], [['SIGHUP'], []]);
  f.send('SIGINT');
  assert.deepEqual(f.exits, [130]);
});

test('SIGQUIT exits at once even in a deferral, without aborting it', () => {
  const f = fakeHost();
  const c = createSignalCatcher(f.host);
  const d = c.deferExit(() => {});
  f.send('SIGQUIT');
  assert.deepEqual([f.exits, d.stop.aborted], [[130], false]);
});

test('after release, signals exit at once again; releasing twice is harmless', () => {
  const f = fakeHost();
  const c = createSignalCatcher(f.host);
  const d = c.deferExit(() => {});
  d.release();
  d.release();
  f.send('SIGTERM');
  assert.deepEqual([f.exits, d.stop.aborted], [[130], false]);
});
