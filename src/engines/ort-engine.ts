/**
 * The ONNX Runtime engine of one run, MLP or CNN: its member (ort-member.ts, ort/conv-member.ts:
 * parameters, loss sum, moving statistics, evaluation) stepped by a session of its own over the
 * member's step graph alone (its subgraph with no prefix), one call per step. Lockstep stacks
 * the same members' subgraphs into one graph instead (ort-stacked-engine.ts).
 */
import type { InferenceSession } from 'onnxruntime-node';
import type { Evaluation } from '../model/evaluate.js';
import { GraphBuilder } from './ort/graph.js';
import { loadOrt, sessionOptions, type OrtProvider } from './ort/runtime.js';
import { outputOptions } from './ort/device-tensors.js';
import type { StackMember } from './stack-member.js';
import type { TrainEngine } from './train-engine.js';

export class OrtEngine implements TrainEngine {
  private constructor(
    private readonly member: StackMember,
    private readonly stepSession: InferenceSession,
  ) {}

  /** Takes ownership of `member`: disposed here if the session cannot be built, else by dispose(). */
  static async create(member: StackMember, provider: OrtProvider): Promise<OrtEngine> {
    try {
      const ort = await loadOrt();
      const g = new GraphBuilder('float32');
      member.addStep(g, '');
      const stepSession = await ort.InferenceSession.create(g.encode(), { ...sessionOptions(provider), ...outputOptions(member.outputLocations?.('')) });
      return new OrtEngine(member, stepSession);
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

  syncNet(): void | Promise<void> {
    return this.member.syncNet();
  }

  async dispose(): Promise<void> {
    await this.stepSession.release();
    await this.member.dispose();
  }
}
