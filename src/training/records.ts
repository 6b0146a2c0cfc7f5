/**
 * The plain records a training run emits, and the Recorder interface that receives them.
 * The train loop does no I/O; recorders write files, draw progress or keep records in memory.
 */
import type { RunCheckpoint } from './checkpoint-state.js';
import type { Arm, Variant } from '../config/config.js';

export interface RunId {
  arm: Arm;
  seed: number;
}

/** One row of accuracy.csv. */
export interface EvalRecord extends RunId {
  step: number;
  /** Mean training mini-batch loss since the previous row (null at step 0: no step taken yet). */
  trainLoss: number | null;
  testLoss: number;
  testAccuracy: number;
  elapsedS: number;
}

/** One row of activations.csv: the distribution of one sigmoid's input over the probe. */
export interface ActivationRecord extends RunId {
  step: number;
  layer: number;
  unit: number;
  /** One value per configured percentile, in config order. */
  percentiles: number[];
  mean: number;
  std: number;
}

/** One row of ics.csv: internal covariate shift of one layer (Santurkar et al. 2018, Def. 2.1). */
export interface IcsRecord extends RunId {
  step: number;
  /** The weight layer (src/model/weight-layers.ts: the CNN's conv stages, then hidden layers, then the output layer). */
  layer: number;
  l2: number;
  cosine: number;
}

/** One row of landscape.csv: the loss landscape along the gradient (Santurkar et al. 2018, Sec. 3.1). */
export interface LandscapeRecord extends RunId {
  step: number;
  lossMin: number;
  lossMax: number;
  gradChangeMax: number;
  betaSmoothness: number;
}

export interface RunSummary extends RunId {
  steps: number;
  wallS: number;
  stepsPerSecond: number;
  finalTestAccuracy: number;
  finalTestLoss: number;
  bestTestAccuracy: number;
  /** The step at which the loss became NaN or Inf, when it did. */
  divergedAtStep?: number;
  /** Stopped early on request (Ctrl-C); a checkpoint holds where it stopped. */
  interrupted?: boolean;
}

export interface Recorder {
  /** `fromStep` > 0 when the run resumes from a checkpoint. */
  runStarted?(run: RunId, totalSteps: number, fromStep: number): void;
  /** Called every few steps so progress can be shown; must be cheap. */
  stepDone?(run: RunId, step: number): void;
  evaluation(record: EvalRecord, activations: ActivationRecord[]): void | Promise<void>;
  /** Santurkar et al. measurements, after the evaluation of the same step (eval.landscape). */
  measurement?(ics: IcsRecord[], landscape: LandscapeRecord): void | Promise<void>;
  /** Everything the run needs to continue; records emitted before it are already delivered. */
  checkpoint?(state: RunCheckpoint): void | Promise<void>;
  runFinished?(summary: RunSummary): void | Promise<void>;
  close(): Promise<void>;
}

/** Sends every event to each of `recorders` in order. */
export function fanOut(...recorders: Recorder[]): Recorder {
  return {
    runStarted: (run, total, from) => recorders.forEach((r) => r.runStarted?.(run, total, from)),
    stepDone: (run, step) => recorders.forEach((r) => r.stepDone?.(run, step)),
    evaluation: async (rec, acts) => {
      for (const r of recorders) await r.evaluation(rec, acts);
    },
    measurement: async (ics, landscape) => {
      for (const r of recorders) await r.measurement?.(ics, landscape);
    },
    checkpoint: async (state) => {
      for (const r of recorders) await r.checkpoint?.(state);
    },
    runFinished: async (summary) => {
      for (const r of recorders) await r.runFinished?.(summary);
    },
    close: async () => {
      for (const r of recorders) await r.close();
    },
  };
}

/** Keeps everything in memory (tests, the benchmark). */
export class MemoryRecorder implements Recorder {
  readonly evals: EvalRecord[] = [];
  readonly activations: ActivationRecord[] = [];
  readonly summaries: RunSummary[] = [];
  readonly ics: IcsRecord[] = [];
  readonly landscape: LandscapeRecord[] = [];
  evaluation(record: EvalRecord, activations: ActivationRecord[]): void {
    this.evals.push(record);
    this.activations.push(...activations);
  }
  measurement(ics: IcsRecord[], landscape: LandscapeRecord): void {
    this.ics.push(...ics);
    this.landscape.push(landscape);
  }
  runFinished(summary: RunSummary): void {
    this.summaries.push(summary);
  }
  async close(): Promise<void> {}
}

/** One run to train: its network and seed, and the checkpoint it continues from. */
export interface RunSpec {
  variant: Variant;
  seed: number;
  /** Continue from this checkpoint. */
  resume?: RunCheckpoint;
}
