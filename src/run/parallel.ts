/**
 * Runs independent (arm, seed) runs, in this thread (jobs = 1) or in worker threads that each own
 * a tfjs instance. Workers share the data set through SharedArrayBuffers (no copy per worker) and
 * send plain records back; only this thread calls the recorder, so the CSV files are written by
 * one writer, whole rows at a time. Rows of runs that ran side by side interleave; each row
 * carries its arm and seed. In lockstep (plan.lockstep) the runs are split into `jobs` groups, each
 * trained by one thread as one stack (lockstep.ts): --jobs N runs N stacks side by side.
 */
import { Worker } from 'node:worker_threads';
import type { ResolvedConfig } from '../config/config.js';
import { allocateSplit, type Dataset, type Split } from '../data/dataset.js';
import { UserError } from '../core/errors.js';
import { trainLockstep } from '../training/lockstep.js';
import type { Recorder, RunId, RunSpec, RunSummary } from '../training/records.js';
import { trainRun } from '../training/train.js';
import type { WorkerMessage, WorkerRequest } from './worker.js';
import { createParkingLot, parkWorkers } from './worker-parking.js';

export interface RunPlan {
  config: ResolvedConfig;
  data: Dataset;
  runs: RunSpec[];
  recorder: Recorder;
  jobs: number;
  /** The backend the main thread picked; workers initialise the same one. */
  backend: string;
  /** Aborting asks every run to checkpoint and return; runs not started yet are not started. */
  stop?: AbortSignal;
  /** Step each thread's runs together (src/config/lockstep-rule.ts decides). */
  lockstep?: boolean;
}

/** `runs` dealt round-robin into `n` groups, none empty (n <= runs.length). */
export function groupsOf(runs: RunSpec[], n: number): RunSpec[][] {
  return Array.from({ length: n }, (_, g) => runs.filter((_, i) => i % n === g));
}

/** The loaders allocate on SharedArrayBuffers (allocateSplit); anything else is copied once. */
function shareSplit(split: Split): Split {
  if (split.images.buffer instanceof SharedArrayBuffer && split.labels.buffer instanceof SharedArrayBuffer) return split;
  const out = allocateSplit(split.count);
  out.images.set(split.images);
  out.labels.set(split.labels);
  return out;
}

/** How long a failing run waits for the other workers to reach a step boundary before terminating them anyway. */
const WORKER_STOP_TIMEOUT_MS = 60_000;

/**
 * Asks the workers still in a run to stop at their next step boundary, and waits for them.
 * Terminating a worker in the middle of a native ONNX Runtime call (the ort-* backends) aborts
 * the whole process (Napi::Error, exit code 134) before run.json could say what went wrong.
 */
async function stopBusyWorkers(busy: Set<Worker>, stopAll: () => void): Promise<void> {
  if (busy.size === 0) return;
  stopAll();
  const began = Date.now();
  while (busy.size > 0 && Date.now() - began < WORKER_STOP_TIMEOUT_MS) await new Promise((r) => setTimeout(r, 10));
}

export async function runAll(plan: RunPlan): Promise<RunSummary[]> {
  const { config, data, runs, recorder } = plan;
  const jobs = Math.min(plan.jobs, runs.length);
  const shouldStop = () => plan.stop?.aborted ?? false;
  if (jobs <= 1 && plan.lockstep) return shouldStop() ? [] : trainLockstep(runs, { config, data, recorder, shouldStop });
  if (jobs <= 1) {
    const out: RunSummary[] = [];
    for (const run of runs) {
      if (shouldStop()) break;
      out.push(await trainRun(run.variant, run.seed, { config, data, recorder, resume: run.resume, shouldStop }));
    }
    return out;
  }
  const sharedData: Dataset = { ...data, train: shareSplit(data.train), test: shareSplit(data.test) };
  const results = new Map<string, RunSummary>();
  const key = (r: RunId) => `${r.arm}/${r.seed}`;
  const specKey = (r: RunSpec) => `${r.variant.name}/${r.seed}`;
  // A task is one run, or in lockstep one group of runs.
  const queue: WorkerRequest[] = plan.lockstep
    ? groupsOf(runs, jobs).map((group) => ({ type: 'group', runs: group }))
    : runs.map((run) => ({ type: 'run', ...run }));
  const workers: Worker[] = [];
  const parking = createParkingLot();
  const stopAll = () => workers.forEach((w) => w.postMessage({ type: 'stop' } satisfies WorkerRequest));
  // Workers in the middle of a run; `ending`: no new runs are handed out.
  const busy = new Set<Worker>();
  let ending = false;
  plan.stop?.addEventListener('abort', stopAll, { once: true });
  // A forced quit (a second Ctrl-C) exits the process while workers train: park them first.
  const parkOnExit = () => parkWorkers(parking, busy.size);
  process.on('exit', parkOnExit);
  // Records are handled strictly in arrival order, one at a time (the CSV writer is async).
  let chain: Promise<void> = Promise.resolve();
  try {
    await Promise.all(
      Array.from(
        { length: jobs },
        () =>
          new Promise<void>((resolve, reject) => {
            const worker = new Worker(new URL('./worker.js', import.meta.url), {
              workerData: { config, data: sharedData, backend: plan.backend, parking },
            });
            workers.push(worker);
            const next = () => {
              const task = shouldStop() || ending ? undefined : queue.shift();
              if (!task) {
                chain.then(() => resolve(), reject);
                return;
              }
              busy.add(worker);
              worker.postMessage(task);
            };
            worker.on('message', (msg: WorkerMessage) => {
              if (msg.type === 'ready') return next();
              if (msg.type === 'error' || msg.type === 'finished' || msg.type === 'groupDone') busy.delete(worker);
              if (msg.type === 'groupDone') return next();
              if (msg.type === 'error') return reject(msg.userError ? new UserError(msg.message) : new Error(msg.message));
              chain = chain.then(async () => {
                if (msg.type === 'started') recorder.runStarted?.(msg.run, msg.total, msg.fromStep);
                else if (msg.type === 'checkpoint') await recorder.checkpoint?.(msg.state);
                else if (msg.type === 'step') recorder.stepDone?.(msg.run, msg.step);
                else if (msg.type === 'evaluation') await recorder.evaluation(msg.record, msg.activations);
                else if (msg.type === 'measurement') await recorder.measurement?.(msg.ics, msg.landscape);
                else if (msg.type === 'finished' || msg.type === 'runEnded') {
                  await recorder.runFinished?.(msg.summary);
                  results.set(key(msg.summary), msg.summary);
                }
              });
              chain.catch(reject);
              if (msg.type === 'finished') next();
            });
            worker.on('error', reject);
            worker.on('exit', (code) => {
              busy.delete(worker);
              if (code !== 0) reject(new Error(`a training worker exited with code ${code}`));
            });
          }),
      ),
    );
    await chain;
  } finally {
    plan.stop?.removeEventListener('abort', stopAll);
    process.off('exit', parkOnExit);
    ending = true;
    await stopBusyWorkers(busy, stopAll);
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return runs.filter((r) => results.has(specKey(r))).map((r) => results.get(specKey(r)) as RunSummary);
}
