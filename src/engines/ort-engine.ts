/**
 * The ONNX Runtime engine of one run: its member state (ort-member.ts: parameters, loss sum,
 * moving statistics, evaluation session) stepped by a step graph of its own, one call per step.
 */
import type { InferenceSession } from 'onnxruntime-node';
import type { Evaluation } from '../model/evaluate.js';
import { OrtMember } from './ort-member.js';
import { loadOrt, sessionOptions, type OrtProvider } from './ort/runtime.js';
import { stepModel } from './ort/step-graph.js';
import type { EngineContext, TrainEngine } from './train-engine.js';

export class OrtEngine implements TrainEngine {
  private constructor(
    private readonly member: OrtMember,
    private readonly stepSession: InferenceSession,
  ) {}

  static async create(ctx: EngineContext, provider: OrtProvider): Promise<OrtEngine> {
    const ort = await loadOrt();
    const member = await OrtMember.create(ctx, provider);
    const stepSession = await ort.InferenceSession.create(stepModel(member.stepSpec), sessionOptions(provider));
    return new OrtEngine(member, stepSession);
  }

  async step(): Promise<void> {
    this.member.takeStep(await this.stepSession.run(this.member.stepFeeds('')), '');
  }

  lossSum(): Promise<number> {
    return this.member.lossSum();
  }

  resetLossSum(): void {
    this.member.resetLossSum();
  }

  evaluate(): Promise<Evaluation> {
    return this.member.evaluate();
  }

  syncNet(): void {
    this.member.syncNet();
  }

  async dispose(): Promise<void> {
    await this.stepSession.release();
    await this.member.dispose();
  }
}
