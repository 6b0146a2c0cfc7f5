/**
 * What the lockstep engine (ort-stacked-engine.ts) needs of one run, whatever its model: the
 * RunLoop's engine calls (loss sum, evaluation, syncNet), its step as a subgraph under a prefix of
 * one shared graph, that step's feeds and the taking of its outputs. OrtMember (the MLP) and
 * OrtConvMember (the CNN, ort/conv-member.ts) are the two, so one stack steps MLP and CNN runs
 * alike in the copies layout; only MLP members join batched groups (ort-batched-group.ts).
 */
import type { Tensor } from 'onnxruntime-node';
import type { GraphBuilder } from './ort/graph.js';
import type { TrainEngine } from './train-engine.js';

export interface StackMember extends Omit<TrainEngine, 'step'> {
  /** Adds this run's step to `g`, its inputs and outputs named `prefix` + its single-run graph's names. */
  addStep(g: GraphBuilder, prefix: string): void;
  /** The next step's feeds (state and the sampler's next mini-batch), named `prefix` + name. */
  stepFeeds(prefix: string): Record<string, Tensor>;
  /** Takes this run's next state from a step graph's outputs (`prefix` + NEXT + name). */
  takeStep(out: Record<string, Tensor>, prefix: string): void;
  /** The step session's preferredOutputLocation for this run's outputs (device residency, ort/device-state.ts); absent or {}: the host. */
  outputLocations?(prefix: string): Record<string, 'gpu-buffer' | 'cpu'>;
}
