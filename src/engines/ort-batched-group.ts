/**
 * One group of the lockstep engine's batched layout (stack-layout.ts): members whose step specs
 * differ only in the learning rate, on a leading axis of one subgraph (batchedStackModel). The
 * group keeps its state stacked between steps (one step's outputs are the next one's inputs) and
 * hands each member a reader that slices its own values out on first use (loss check, evaluation,
 * syncNet, checkpoint), so a step copies no member's parameters. It is generic over the members'
 * state names: whatever a spec adds to the state (moving statistics, a velocity) stacks the same
 * way, provided addStep builds it in the batched layout (batchable below says which specs do).
 */
import type { Tensor } from 'onnxruntime-node';
import { CLASSES, IMAGE_PIXELS } from '../data/dataset.js';
import { layoutDims } from './ort/layout.js';
import type { Ort } from './ort/runtime.js';
import { NEXT, type BatchedGroup as GroupGraph, type StepSpec } from './ort/step-graph.js';
import type { OrtMember } from './ort-member.js';

/**
 * The step spec fields addStep builds in the batched layout. A spec with any other field set (a
 * feature added to the step after this table, e.g. SGD momentum until its velocity is checked
 * batched) is not batched: its member falls back to its own copy of the step subgraph.
 */
const BATCHED_FIELDS = new Set(['inputSize', 'hiddenUnits', 'classes', 'bn', 'epsilon', 'logSoftmax', 'layout', 'batchSize', 'learningRate', 'momentum']);

export const batchable = (spec: StepSpec): boolean => Object.entries(spec).every(([key, value]) => value === undefined || BATCHED_FIELDS.has(key));

/** Members with equal keys share a group: the spec without its learning rate. */
export const groupKey = (spec: StepSpec): string => JSON.stringify({ ...spec, learningRate: undefined });

const size = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** Equal-length arrays one after another. */
function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export class BatchedGroup {
  /** The group's state after its last step, by state name (no prefix). */
  private stacked: Record<string, Tensor> = {};
  /** One member's dims of each state name (from the first gather). */
  private readonly memberDims: Record<string, readonly number[]> = {};

  constructor(
    private readonly ort: Ort,
    readonly members: OrtMember[],
    readonly prefix: string,
  ) {}

  /** The group's part of batchedStackModel. */
  graph(): GroupGraph {
    return { spec: this.members[0].stepSpec, learningRates: this.members.map((m) => m.stepSpec.learningRate), prefix: this.prefix };
  }

  private get layout() {
    return { kind: 'batched', runs: this.members.length } as const;
  }

  /** The next step's feeds: every member's next mini-batch, and the stacked state (gathered again where a member's value changed outside a step). */
  feeds(): Record<string, Tensor> {
    const k = this.members.length;
    const m = this.members[0].stepSpec.batchSize;
    const batches = this.members.map((mb) => mb.nextBatch());
    const feeds: Record<string, Tensor> = {
      [`${this.prefix}x`]: new this.ort.Tensor('float32', concat(batches.map((b) => b.x)), [k, m, IMAGE_PIXELS]),
      [`${this.prefix}y`]: new this.ort.Tensor('float32', concat(batches.map((b) => b.y)), [k, m, CLASSES]),
    };
    for (const name of this.members[0].stateNames) {
      const held = this.stacked[name] as Tensor | undefined;
      feeds[this.prefix + name] = held && this.members.every((mb) => mb.heldBy(this, name)) ? held : this.gather(name);
    }
    return feeds;
  }

  private gather(name: string): Tensor {
    const parts = this.members.map((mb) => mb.stateOf(name));
    this.memberDims[name] = parts[0].dims;
    return new this.ort.Tensor('float32', concat(parts.map((p) => p.data as Float32Array)), layoutDims(this.layout, [...parts[0].dims]));
  }

  /** Keeps the step's outputs stacked; each member reads its slice when it needs it. */
  take(out: Record<string, Tensor>): void {
    const next: Record<string, Tensor> = {};
    for (const name of this.members[0].stateNames) next[name] = out[this.prefix + NEXT + name];
    this.stacked = next;
    this.members.forEach((mb, r) =>
      mb.hold(this, (name) => {
        const dims = this.memberDims[name];
        const n = size(dims);
        return new this.ort.Tensor('float32', (next[name].data as Float32Array).slice(r * n, (r + 1) * n), [...dims]);
      }),
    );
  }
}
