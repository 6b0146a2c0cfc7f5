/**
 * The ONNX Runtime engine of one CNN run (issue 20 on ort-cpu, ort-webgpu, ort-cuda): its member
 * (conv-member.ts: parameters, loss sum, moving statistics, evaluator) stepped by the one-graph
 * SGD step of conv-step-graph.ts, a session of its own, one call per step.
 */
import type { InferenceSession } from 'onnxruntime-node';
import type { Evaluation } from '../../model/evaluate.js';
import type { ConvNet } from '../../model/conv-net.js';
import type { EngineContext, TrainEngine } from '../train-engine.js';
import { OrtConvMember } from './conv-member.js';
import { convStepModel } from './conv-step-graph.js';
import { loadOrt, sessionOptions, type OrtProvider } from './runtime.js';

export class OrtConvEngine implements TrainEngine {
  private constructor(
    private readonly member: OrtConvMember,
    private readonly stepSession: InferenceSession,
  ) {}

  static async create(ctx: EngineContext<ConvNet>, provider: OrtProvider): Promise<OrtConvEngine> {
    const ort = await loadOrt();
    const member = await OrtConvMember.create(ctx, provider);
    try {
      const stepSession = await ort.InferenceSession.create(convStepModel(member.stepSpec), sessionOptions(provider));
      return new OrtConvEngine(member, stepSession);
    } catch (err) {
      await member.dispose();
      throw err;
    }
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
