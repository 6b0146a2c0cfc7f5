/**
 * Stop signals, caught from the first line of the program (bin/bn-repro installs the catcher
 * before it loads the CLI), so that SIGINT, SIGTERM or SIGHUP at any moment ends bn-repro with
 * exit 130 and a run folder that is resumable or absent, never `running` with a stale lock.
 *
 * Outside a stoppable stretch a signal exits at once: nothing is half-written then (every write
 * is synchronous or atomic), and the 'exit' listeners remove the lock. While runs are trained
 * (deferExit) the first signal asks them to checkpoint and return instead; SIGTERM and SIGHUP
 * again change nothing (Slurm and the batch shell may both send SIGTERM), while a second SIGINT,
 * or a SIGQUIT (Ctrl-\), exits at once, its 'exit' listener marking run.json `interrupted`.
 * Node's own start-up, before the shim's first line, is out of reach: a signal then ends the
 * process by the kernel's default action, before anything has been written.
 */
import { EXIT } from './errors.js';

/** Signals that ask for a clean stop; SIGHUP is a closed terminal or ssh session. */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** Signals that quit at once, even while runs are being stopped cleanly. */
const QUIT_SIGNALS = ['SIGQUIT'] as const;
type Caught = (typeof STOP_SIGNALS)[number] | (typeof QUIT_SIGNALS)[number];

export interface Deferral {
  /** Aborted by the first stop signal: runs checkpoint and return. */
  stop: AbortSignal;
  /** Ends the stretch: signals exit at once again. Safe to call twice. */
  release: () => void;
}

export interface SignalCatcher {
  /** Until `release`, the first stop signal aborts `stop` after `announce(name)` says so. */
  deferExit(announce: (name: string) => void): Deferral;
  /** Until the returned function is called, what a signal that exits at once prints after "NAME: stopped". */
  noteOnExit(note: string): () => void;
}

/** What the catcher needs of the process; tests pass a fake. */
export interface SignalHost {
  on(signal: Caught, listener: (name: Caught) => void): unknown;
  exit(code: number): void;
  warn(line: string): void;
}

const processHost: SignalHost = {
  on: (signal, listener) => process.on(signal, listener),
  exit: (code) => process.exit(code),
  // A closed terminal (SIGHUP) fails the write; there is nobody left to tell.
  warn: (line) => {
    try {
      process.stderr.write(`warning: ${line}\n`);
    } catch {
      // ignored: see above
    }
  },
};

export function createSignalCatcher(host: SignalHost): SignalCatcher {
  const deferrals: { controller: AbortController; announce: (name: string) => void }[] = [];
  const notes: string[] = [];
  const exitNow = (name: string) => {
    const note = notes.at(-1);
    // No full stop after a note: it ends with a folder name to copy.
    host.warn(note ? `${name}: stopped; ${note}` : `${name}: stopped.`);
    host.exit(EXIT.interrupted);
  };
  const onSignal = (name: Caught) => {
    const open = deferrals.filter((d) => !d.controller.signal.aborted);
    if (deferrals.length > 0 && name !== 'SIGQUIT') {
      if (open.length > 0) {
        for (const d of open) {
          d.announce(name);
          d.controller.abort();
        }
        return;
      }
      if (name !== 'SIGINT') return; // repeated SIGTERM / SIGHUP: the stop is already under way
    }
    exitNow(name);
  };
  for (const s of [...STOP_SIGNALS, ...QUIT_SIGNALS]) host.on(s, onSignal);
  return {
    deferExit(announce) {
      const entry = { controller: new AbortController(), announce };
      deferrals.push(entry);
      return {
        stop: entry.controller.signal,
        release: () => {
          const i = deferrals.indexOf(entry);
          if (i >= 0) deferrals.splice(i, 1);
        },
      };
    },
    noteOnExit(note) {
      notes.push(note);
      return () => {
        const i = notes.lastIndexOf(note);
        if (i >= 0) notes.splice(i, 1);
      };
    },
  };
}

let installed: SignalCatcher | undefined;

/** The process's one catcher (signals are process-wide), installed on the first call. */
export function catchSignals(): SignalCatcher {
  installed ??= createSignalCatcher(processHost);
  return installed;
}
