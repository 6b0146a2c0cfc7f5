/**
 * Lockstep training's engine: the runs of a group (arms, seeds, sweep variants), each a
 * StackMember (stack-member.ts: an MLP's OrtMember or a CNN's OrtConvMember) with its own state
 * and sampler, its evaluation sessions and test-set feeds shared with the others
 * (ort-eval-share.ts), stepped together by one step graph, one session.run per step for all, in
 * the provider's layout (stack-layout.ts): `copies`, each member's step subgraph under its own
 * prefix (for the MLP, stackedStepModel's graph), or `batched`, the MLP members of one step spec
 * apart from the learning rate on a leading axis of one subgraph (ort-batched-group.ts), members
 * alone in their spec, with a spec the batched layout does not build, or CNN members (the batched
 * layout is built for the MLP only, on GPU providers too) as copies beside them. No op mixes two
 * members' numbers (batched ops reduce within a run), so a NaN in one touches no other. When
 * members end (finished, diverged) the graph is rebuilt over those still training: stepping an
 * ended member would spend the time of a run on nothing, and a rebuild happens at most once per
 * member.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { BatchedGroup, batchable, groupKey } from './ort-batched-group.js';
import { EvalShare } from './ort-eval-share.js';
import { OrtMember } from './ort-member.js';
import { OrtConvMember } from './ort/conv-member.js';
import { loadOrt, sessionOptions, type OrtProvider } from './ort/runtime.js';
import { DeviceTensors, outputOptions } from './ort/device-tensors.js';
import { batchedStackModel, stackPrefix } from './ort/step-graph.js';
import { STACK_LAYOUT, type StackLayout } from './stack-layout.js';
import type { StackMember } from './stack-member.js';
import type { EngineContext } from './train-engine.js';
import { isConvNet, type Model } from '../model/model.js';

export class OrtStackedEngine {
  private session?: InferenceSession;
  /** The members the current session steps, in graph order. */
  private stepped: number[] = [];
  /** The current graph's batched groups, and the members it steps as copies (index, prefix). */
  private groups: BatchedGroup[] = [];
  private singles: { member: StackMember; prefix: string }[] = [];

  private constructor(
    private readonly members: StackMember[],
    private readonly provider: OrtProvider,
    private readonly share: EvalShare,
    private readonly stepOptions: InferenceSession.SessionOptions,
    private readonly layout: StackLayout,
    /** Device-resident members' store (deviceResident): one training-set upload for all; undefined on the host. */
    private readonly device?: DeviceTensors,
  ) {}

  /**
   * The members share one EvalShare: one evaluation session per distinct evaluation graph (an
   * arm's; learning rate and seed are not in it) and one copy of the test set's feeds, whole for
   * the MLP, chunked for the CNN, whose members also share a seed's population batches. Apart, each
   * CNN member held its own (~50 MB of feeds on full MNIST, and its sessions' arenas): a 6-arm
   * cnn-fig3 stack peaked at 1.77 GB RSS on ort-cpu, 1.23 GB shared, 0.62 GB shared and with the
   * CNN's evaluation sessions off ORT's CPU arena (conv-evaluate.ts; 2026-12-01). Released in
   * dispose(). `stepOptions` adds session options to the step graph's session (the bench's
   * profiler); `layout` overrides the provider's (tests, bench).
   */
  static async create(
    ctxs: EngineContext<Model>[],
    provider: OrtProvider,
    stepOptions: InferenceSession.SessionOptions = {},
    layout: StackLayout = STACK_LAYOUT[provider],
  ): Promise<OrtStackedEngine> {
    const ort = await loadOrt();
    const share = new EvalShare(ort, provider);
    // Each MLP member decides by its config (deviceResident) whether it uses the store.
    const device = new DeviceTensors(ort, provider);
    const members: StackMember[] = [];
    try {
      for (const ctx of ctxs) {
        const { net } = ctx;
        members.push(
          isConvNet(net) ? await OrtConvMember.create({ ...ctx, net }, provider, share) : await OrtMember.create({ ...ctx, net }, provider, share, device),
        );
      }
    } catch (err) {
      await Promise.all(members.map((m) => m.dispose()));
      await share.release();
      await device.dispose();
      throw err;
    }
    return new OrtStackedEngine(members, provider, share, stepOptions, layout, device);
  }

  /** Member i's state, loss sum, evaluation and syncNet (the RunLoop's engine). */
  member(i: number): StackMember {
    return this.members[i];
  }

  /** What the members' shared evaluation holds (sessions, feed sets): the tests and the bench count them. */
  evalCounts(): ReturnType<EvalShare['counts']> {
    return this.share.counts();
  }

  /** The session of the current step graph (built at the first step). */
  stepSession(): InferenceSession {
    if (!this.session) throw new Error('stepSession() before the first step');
    return this.session;
  }

  /** One step of the members `active` (indices into the group), all in one graph call. */
  async step(active: number[]): Promise<void> {
    if (active.join() !== this.stepped.join() || !this.session) await this.rebuild(active);
    const session = this.stepSession();
    const feeds: Record<string, Tensor> = {};
    for (const group of this.groups) Object.assign(feeds, group.feeds());
    for (const { member, prefix } of this.singles) Object.assign(feeds, member.stepFeeds(prefix));
    const out = await session.run(feeds);
    for (const group of this.groups) group.take(out);
    for (const { member, prefix } of this.singles) member.takeStep(out, prefix);
  }

  /** The step graph over `active`, grouped by the layout. */
  private async rebuild(active: number[]): Promise<void> {
    await this.session?.release();
    this.session = undefined;
    const ort = await loadOrt();
    const byKey = new Map<string, number[]>();
    if (this.layout === 'batched')
      for (const i of active) {
        // Only MLP members batch (ort-batched-group.ts); a CNN member is always a copy.
        const member = this.members[i];
        if (!(member instanceof OrtMember) || !batchable(member.stepSpec)) continue;
        const spec = member.stepSpec;
        const key = groupKey(spec);
        byKey.set(key, [...(byKey.get(key) ?? []), i]);
      }
    // A group of one is that run's own subgraph: the numbers of separate training.
    const grouped = [...byKey.values()].filter((g) => g.length > 1);
    this.groups = grouped.map(
      (g, n) =>
        new BatchedGroup(
          ort,
          g.map((i) => this.members[i] as OrtMember), // grouped above: MLP members only
          `group${n}/`,
        ),
    );
    const inGroup = new Set(grouped.flat());
    // The others in `active` order under run<r>/: with no group, the graph of stackedStepModel.
    this.singles = active.flatMap((i, r) => (inGroup.has(i) ? [] : [{ member: this.members[i], prefix: stackPrefix(r) }]));
    const model = batchedStackModel(
      this.groups.map((g) => g.graph()),
      this.singles.map(({ member, prefix }) => ({ addStep: (g, p) => member.addStep(g, p), prefix })),
    );
    // Copies of device-resident members keep their state on the device; batched groups' outputs stay on the host (ort-batched-group.ts).
    const locations = Object.assign({}, ...this.singles.map(({ member, prefix }) => member.outputLocations?.(prefix) ?? {}));
    this.session = await ort.InferenceSession.create(model, { ...sessionOptions(this.provider), ...outputOptions(locations), ...this.stepOptions });
    this.stepped = [...active];
  }

  async dispose(): Promise<void> {
    await this.session?.release();
    await Promise.all(this.members.map((m) => m.dispose()));
    await this.share.release();
    await this.device?.dispose();
  }

  /** How many device tensors the stack holds (device-resident members' state and the training set). */
  get deviceTensors(): number {
    return this.device?.liveCount ?? 0;
  }
}
