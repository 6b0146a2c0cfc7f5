/**
 * The bookkeeping of one training run, apart from who steps it: its seeded state (run-model.ts:
 * net, moving statistics, velocity, sampler) and probe; the evaluations at step 0, every `eval.every` steps and at the last
 * step; checkpoints; the divergence check; the summary. trainRun (one run, its own engine) and
 * trainLockstep (several runs stepped by one stacked graph) both drive a RunLoop, so this logic
 * exists once and a lockstep run's rows, checkpoints and recorder calls are those of a single run.
 */
import type { ResolvedConfig, Variant } from '../config/config.js';
import type { Dataset } from '../data/dataset.js';
import type { RunCheckpoint } from './checkpoint-state.js';
import type { EngineContext, TrainEngine } from '../engines/train-engine.js';
import type { Model } from '../model/model.js';
import { hiddenUnitsOf } from '../config/runs.js';
import { LandscapeProbe } from './measure/probe.js';
import { evaluatesAt, measuresAt } from '../config/schedule.js';
import { RunModel } from './run-model.js';
import type { EvalRecord, Recorder, RunId, RunSummary } from './records.js';

export interface RunContext {
  config: ResolvedConfig;
  data: Dataset;
  recorder: Recorder;
  /** Continue from this checkpoint instead of step 0. */
  resume?: RunCheckpoint;
  /** Polled between steps: true asks the run to checkpoint and return early. */
  shouldStop?: () => boolean;
  /** Called after every step, when no engine call is in flight (worker threads park there on a forced quit). */
  atStepBoundary?: () => void;
  /** Seconds since an arbitrary origin; injected so tests can fix time. */
  now?: () => number;
}

/** What a RunLoop needs of its engine once a step has been taken (by the engine or by a stack). */
export type RunEngine = Pick<TrainEngine, 'lossSum' | 'resetLossSum' | 'evaluate' | 'syncNet'>;

/** How often the loop yields to the event loop (progress redraws, signals, stop requests). */
export const YIELD_EVERY_STEPS = 50;

export class RunLoop {
  readonly run: RunId;
  readonly learningRate: number;
  /** The net, moving statistics, velocity and sampler, as a checkpoint saves them. */
  private readonly model: RunModel;
  /** This run's hidden widths (a depth sweep's variant may set its own). */
  private readonly hiddenUnits: number[];
  private readonly probe?: LandscapeProbe;
  private readonly total: number;
  private readonly start: number;
  private readonly now: () => number;
  private engine?: RunEngine;
  private step: number;
  private lastEvalStep: number;
  private best: number;
  private last?: EvalRecord;
  private divergedAtStep?: number;
  private interrupted = false;

  constructor(
    variant: Variant,
    readonly seed: number,
    private readonly ctx: RunContext,
  ) {
    const { config, data, resume } = ctx;
    this.now = ctx.now ?? (() => performance.now() / 1000);
    this.run = { arm: variant.name, seed };
    this.learningRate = config.train.learningRate * variant.lrMultiplier;
    // Every variant of a seed draws the same initial weights and sees the same batches.
    this.model = new RunModel(config, variant, seed, data, resume);
    this.hiddenUnits = hiddenUnitsOf(config, variant);
    this.probe = config.eval.landscape.every > 0 ? new LandscapeProbe(config, data.train, seed) : undefined;
    this.total = config.train.steps;
    this.start = this.now() - (resume?.elapsedS ?? 0);
    this.step = resume?.step ?? 0;
    this.lastEvalStep = resume?.lastEvalStep ?? 0;
    this.best = resume?.bestAccuracy ?? -Infinity;
    this.last = resume?.last;
  }

  /** What an engine needs to train this run from where it stands. */
  engineContext(): EngineContext<Model> {
    const { config, data, resume } = this.ctx;
    return {
      config,
      data,
      seed: this.seed,
      net: this.model.net,
      moving: this.model.moving,
      velocity: this.model.velocity,
      learningRate: this.learningRate,
      sampler: this.model.sampler,
      lossSum: resume?.lossSum ?? 0,
    };
  }

  /** Announces the run and evaluates at step 0 (a resumed run has its step-0 rows already). */
  async begin(engine: RunEngine): Promise<void> {
    this.engine = engine;
    this.ctx.recorder.runStarted?.(this.run, this.total, this.step);
    if (!this.ctx.resume) await this.evaluate();
  }

  /** Still to be stepped: not at its last step, not diverged, not stopped. */
  get active(): boolean {
    return this.step < this.total && this.divergedAtStep === undefined && !this.interrupted;
  }

  /**
   * Bookkeeping after the engine took this run's next step: evaluation, checkpoint, progress.
   * True at a yield point (every YIELD_EVERY_STEPS steps and the last step), where the caller
   * yields to the event loop and polls shouldStop if the run is still active.
   */
  async stepped(): Promise<boolean> {
    this.step++;
    const { config, recorder } = this.ctx;
    const every = config.train.checkpointEvery;
    if (evaluatesAt(config, this.step)) await this.evaluate();
    if (every > 0 && this.step % every === 0 && this.step < this.total && this.divergedAtStep === undefined) await this.checkpoint();
    if (this.step % YIELD_EVERY_STEPS !== 0 && this.step !== this.total) return false;
    recorder.stepDone?.(this.run, this.step);
    // A NaN or Inf loss ends the run here rather than at the next evaluation (one scalar read).
    if (this.step !== this.lastEvalStep && !Number.isFinite(await this.requireEngine().lossSum())) await this.evaluate();
    return true;
  }

  /** Asked to stop: checkpoint, and end as interrupted. */
  async interrupt(): Promise<void> {
    await this.checkpoint();
    this.interrupted = true;
  }

  /** Frees the tfjs tensors of the run (after its engine is disposed or done with it). */
  dispose(): void {
    this.model.dispose();
    this.probe?.dispose();
  }

  /** The run's summary, also sent to the recorder. */
  async finish(): Promise<RunSummary> {
    const wallS = this.now() - this.start;
    const last = this.last;
    const summary: RunSummary = {
      ...this.run,
      steps: this.step,
      wallS,
      stepsPerSecond: this.step / wallS,
      finalTestAccuracy: last?.testAccuracy ?? NaN,
      finalTestLoss: last?.testLoss ?? NaN,
      bestTestAccuracy: this.best,
      ...(this.divergedAtStep !== undefined ? { divergedAtStep: this.divergedAtStep } : {}),
      ...(this.interrupted ? { interrupted: true } : {}),
    };
    await this.ctx.recorder.runFinished?.(summary);
    return summary;
  }

  private requireEngine(): RunEngine {
    if (!this.engine) throw new Error('RunLoop used before begin()');
    return this.engine;
  }

  private async evaluate(): Promise<void> {
    const engine = this.requireEngine();
    const { config, recorder } = this.ctx;
    const { run, step } = this;
    const sum = await engine.lossSum();
    engine.resetLossSum();
    const trainLoss = step === 0 ? null : sum / (step - this.lastEvalStep);
    this.lastEvalStep = step;
    const ev = await engine.evaluate();
    this.last = { ...run, step, trainLoss, testLoss: ev.testLoss, testAccuracy: ev.testAccuracy, elapsedS: this.now() - this.start };
    this.best = Math.max(this.best, ev.testAccuracy);
    const layer = this.hiddenUnits.length - 1;
    await recorder.evaluation(
      this.last,
      ev.units.map((u) => ({ ...run, step, layer, ...u })),
    );
    if (this.probe && measuresAt(config, step)) {
      await engine.syncNet();
      const m = await this.probe.measure(this.model.net, this.learningRate, run, step);
      await recorder.measurement?.(m.ics, m.landscape);
    }
    if (trainLoss !== null && !Number.isFinite(trainLoss)) this.divergedAtStep = step;
  }

  private async checkpoint(): Promise<void> {
    const { recorder } = this.ctx;
    if (!recorder.checkpoint) return;
    const engine = this.requireEngine();
    await engine.syncNet();
    await recorder.checkpoint({
      ...this.run,
      step: this.step,
      lastEvalStep: this.lastEvalStep,
      lossSum: await engine.lossSum(),
      bestAccuracy: this.best,
      last: this.last,
      elapsedS: this.now() - this.start,
      ...(await this.model.encode()),
    });
  }
}
