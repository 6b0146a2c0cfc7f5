/**
 * Lockstep training's engine: the runs of a group (arms, seeds, sweep variants), each an
 * OrtMember with its own state, evaluation session and sampler, stepped together by one
 * stacked step graph (stackedStepModel: each member's subgraph under its own prefix), one
 * session.run per step for all. Members share no op, so a NaN in one touches no other's numbers.
 * When members end (finished, diverged) the graph is rebuilt over those still training: stepping
 * an ended member would spend the time of a run on nothing, and a rebuild happens at most once per
 * member.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { EvalShare, OrtMember } from './ort-member.js';
import { loadOrt, sessionOptions, type OrtProvider } from './ort/runtime.js';
import { stackPrefix, stackedStepModel } from './ort/step-graph.js';
import type { EngineContext } from './train-engine.js';

export class OrtStackedEngine {
  private session?: InferenceSession;
  /** The members the current session steps, in graph order. */
  private stepped: number[] = [];

  private constructor(
    private readonly members: OrtMember[],
    private readonly provider: OrtProvider,
    private readonly share: EvalShare,
    private readonly stepOptions: InferenceSession.SessionOptions,
  ) {}

  /** Members of one arm share an evaluation session, and all share the test-set feeds (K copies of MNIST's test set would be 31 MB each). */
  /** `stepOptions` adds session options to the step graph's session (the bench's profiler). */
  static async create(ctxs: EngineContext[], provider: OrtProvider, stepOptions: InferenceSession.SessionOptions = {}): Promise<OrtStackedEngine> {
    const share = new EvalShare(await loadOrt(), provider);
    const members: OrtMember[] = [];
    try {
      for (const ctx of ctxs) members.push(await OrtMember.create(ctx, provider, share));
    } catch (err) {
      await share.release();
      throw err;
    }
    return new OrtStackedEngine(members, provider, share, stepOptions);
  }

  /** Member i's state, loss sum, evaluation and syncNet (the RunLoop's engine). */
  member(i: number): OrtMember {
    return this.members[i];
  }

  /** The session of the current step graph (built at the first step). */
  stepSession(): InferenceSession {
    if (!this.session) throw new Error('stepSession() before the first step');
    return this.session;
  }

  /** One step of the members `active` (indices into the group), all in one graph call. */
  async step(active: number[]): Promise<void> {
    if (active.join() !== this.stepped.join() || !this.session) {
      await this.session?.release();
      this.session = undefined;
      const ort = await loadOrt();
      this.session = await ort.InferenceSession.create(stackedStepModel(active.map((i) => this.members[i].stepSpec)), {
        ...sessionOptions(this.provider),
        ...this.stepOptions,
      });
      this.stepped = [...active];
    }
    const feeds: Record<string, Tensor> = {};
    active.forEach((i, r) => Object.assign(feeds, this.members[i].stepFeeds(stackPrefix(r))));
    const out = await this.session.run(feeds);
    active.forEach((i, r) => this.members[i].takeStep(out, stackPrefix(r)));
  }

  async dispose(): Promise<void> {
    await this.session?.release();
    await Promise.all(this.members.map((m) => m.dispose()));
    await this.share.release();
  }
}
