/**
 * A training worker thread (see parallel.ts): owns one tfjs instance, trains the runs it is sent
 * and posts every record back to the main thread, which alone writes files.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../engines/backend.js';
import type { BackendName, ResolvedConfig, Variant } from '../config/config.js';
import type { Dataset } from '../data/dataset.js';
import { UserError } from '../core/errors.js';
import { silentLogger } from '../core/logger.js';
import type { RunCheckpoint } from '../training/checkpoint-state.js';
import type { ActivationRecord, EvalRecord, IcsRecord, LandscapeRecord, RunId, RunSummary } from '../training/records.js';
import { trainLockstep } from '../training/lockstep.js';
import type { RunSpec } from '../training/records.js';
import { trainRun } from '../training/train.js';
import { parkIfQuitting, type ParkingLot } from './worker-parking.js';

/** `group`: runs trained in lockstep (lockstep.ts), each posted `runEnded` as it ends, then `groupDone`. */
export type WorkerRequest = { type: 'run'; variant: Variant; seed: number; resume?: RunCheckpoint } | { type: 'group'; runs: RunSpec[] } | { type: 'stop' };
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'started'; run: RunId; total: number; fromStep: number }
  | { type: 'checkpoint'; state: RunCheckpoint }
  | { type: 'step'; run: RunId; step: number }
  | { type: 'evaluation'; record: EvalRecord; activations: ActivationRecord[] }
  | { type: 'measurement'; ics: IcsRecord[]; landscape: LandscapeRecord }
  | { type: 'finished'; summary: RunSummary }
  | { type: 'runEnded'; summary: RunSummary }
  | { type: 'groupDone' }
  | { type: 'error'; message: string; userError: boolean };

interface WorkerInput {
  config: ResolvedConfig;
  data: Dataset;
  backend: BackendName;
  parking: ParkingLot;
}

if (parentPort) {
  const port = parentPort;
  const post = (m: WorkerMessage) => port.postMessage(m);
  const { config, data, backend, parking } = workerData as WorkerInput;
  const atStepBoundary = () => parkIfQuitting(parking);
  const recorder = {
    runStarted: (run: RunId, total: number, fromStep: number) => post({ type: 'started', run, total, fromStep }),
    checkpoint: (state: RunCheckpoint) => post({ type: 'checkpoint', state }),
    stepDone: (run: RunId, step: number) => post({ type: 'step', run, step }),
    evaluation: (record: EvalRecord, activations: ActivationRecord[]) => post({ type: 'evaluation', record, activations }),
    measurement: (ics: IcsRecord[], landscape: LandscapeRecord) => post({ type: 'measurement', ics, landscape }),
    close: async () => {},
  };
  const fail = (err: unknown) => post({ type: 'error', message: (err as Error).message ?? String(err), userError: err instanceof UserError });
  let stopRequested = false;
  const shouldStop = () => stopRequested;
  port.on('message', (req: WorkerRequest) => {
    if (req.type === 'stop') {
      stopRequested = true;
      return;
    }
    if (req.type === 'group') {
      const groupRecorder = { ...recorder, runFinished: (summary: RunSummary) => post({ type: 'runEnded', summary }) };
      trainLockstep(req.runs, { config, data, recorder: groupRecorder, shouldStop, atStepBoundary }).then(() => post({ type: 'groupDone' }), fail);
      return;
    }
    trainRun(req.variant, req.seed, { config, data, recorder, resume: req.resume, shouldStop, atStepBoundary }).then(
      (summary) => post({ type: 'finished', summary }),
      fail,
    );
  });
  initBackend(backend, silentLogger).then(() => post({ type: 'ready' }), fail);
}
