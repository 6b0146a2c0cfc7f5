/**
 * A training run's seeded tensors and batch order, kept together because a checkpoint saves and
 * restores them together: the network (initial weights from the seed's "init" stream, the same
 * for every variant of a seed), the BN moving statistics when used, momentum SGD's velocity
 * (none for plain SGD, train.momentum 0), and the sampler (the seed's "shuffle" stream).
 */
import type { ResolvedConfig, Variant } from '../config/config.js';
import { Rng } from '../core/random.js';
import type { Dataset } from '../data/dataset.js';
import { BatchSampler } from '../model/batches.js';
import { createModel, disposeModel, modelVariables, type Model } from '../model/model.js';
import { createVelocity, disposeVelocity, type Velocity } from '../model/momentum.js';
import { disposeStats } from '../model/net.js';
import type { MovingStats } from '../model/sgd.js';
import { encodeNet, encodeStats, encodeVelocity, restoreNet, restoreVelocity, type RunCheckpoint } from './checkpoint-state.js';

/** What of a checkpoint a RunModel holds. */
export type ModelCheckpoint = Pick<RunCheckpoint, 'params' | 'moving' | 'velocity' | 'sampler'>;

export class RunModel {
  readonly net: Model;
  readonly moving?: MovingStats;
  /** Momentum SGD's velocity; none for plain SGD (train.momentum 0). */
  readonly velocity?: Velocity;
  readonly sampler: BatchSampler;

  /** Builds the run's state from its seed, then loads `resume`'s values into it when given. */
  constructor(config: ResolvedConfig, variant: Variant, seed: number, data: Dataset, resume?: ModelCheckpoint) {
    const { net, moving } = createModel(config, variant, Rng.stream(seed, 'init'));
    this.net = net;
    this.moving = moving;
    // Plain SGD (momentum 0, the default) builds no velocity at all.
    this.velocity = config.train.momentum > 0 ? createVelocity(modelVariables(net), config.train.momentum) : undefined;
    this.sampler = new BatchSampler(data.train, config.train.batchSize, Rng.stream(seed, 'shuffle'));
    if (resume) {
      restoreNet(this.net, resume.params, this.moving?.stats, resume.moving);
      if (this.velocity) restoreVelocity(this.velocity, resume.velocity);
      this.sampler.restore(resume.sampler);
    }
  }

  /** The values a checkpoint saves, in RunCheckpoint's key order (velocity only with momentum). */
  async encode(): Promise<ModelCheckpoint> {
    return {
      params: await encodeNet(this.net),
      moving: this.moving ? await encodeStats(this.moving.stats) : undefined,
      ...(this.velocity ? { velocity: await encodeVelocity(this.velocity) } : {}),
      sampler: this.sampler.state(),
    };
  }

  dispose(): void {
    disposeModel(this.net);
    disposeStats(this.moving?.stats);
    disposeVelocity(this.velocity);
  }
}
