/**
 * When and on what the Santurkar et al. (2018) measurements run: at every `eval.landscape.every`-th
 * evaluation (step 0, multiples of every * eval.every, and the last step), on one training
 * mini-batch per seed drawn once from its own seeded stream. The same batch serves every
 * measurement of a run and both arms of a seed, so curves differ only by the network. Nothing
 * here touches the trained variables or the training batch order: training is unchanged.
 */
import * as tf from '@tensorflow/tfjs-core';
import { CLASSES, type Split } from '../../data/dataset.js';
import type { ResolvedConfig } from '../../config/config.js';
import { imagesTensor } from '../../model/batches.js';
import { type AnyGrads, gradTensors, lossAndGrads, type MeasuredNet } from '../../model/gradients.js';
import { Rng } from '../../core/random.js';
import type { IcsRecord, LandscapeRecord, RunId } from '../records.js';
import { measureIcs } from './ics.js';
import { measureLandscape } from './landscape.js';

export class LandscapeProbe {
  private readonly x: tf.Tensor2D;
  private readonly y: tf.Tensor2D;

  constructor(
    private readonly config: ResolvedConfig,
    train: Split,
    seed: number,
  ) {
    const order = Rng.stream(seed, 'landscape-batch').permutation(train.count);
    const idx = order.subarray(0, config.train.batchSize);
    this.x = imagesTensor(train, idx);
    const labels = tf.tensor1d(
      Array.from(idx, (i) => train.labels[i]),
      'int32',
    );
    this.y = tf.tidy(() => tf.cast(tf.oneHot(labels, CLASSES), 'float32') as tf.Tensor2D);
    labels.dispose();
  }

  /** ICS with the run's SGD step, and the landscape at stepMultiples x its learning rate. */
  async measure(net: MeasuredNet, learningRate: number, run: RunId, step: number): Promise<{ ics: IcsRecord[]; landscape: LandscapeRecord }> {
    const etas = this.config.eval.landscape.stepMultiples.map((k) => k * learningRate);
    // Both measurements start from the batch's gradient at theta: one forward and backward pass,
    // kept past the tidy because the measurements read back asynchronously.
    let grads: AnyGrads | undefined;
    tf.tidy(() => {
      grads = lossAndGrads(net, this.x, this.y).grads;
      for (const t of gradTensors(grads)) tf.keep(t);
    });
    const base = grads as AnyGrads;
    try {
      const ics = (await measureIcs(net, this.x, this.y, learningRate, base)).map((l) => ({ ...run, step, ...l }));
      return { ics, landscape: { ...run, step, ...(await measureLandscape(net, this.x, this.y, etas, base)) } };
    } finally {
      tf.dispose(gradTensors(base));
    }
  }

  dispose(): void {
    tf.dispose([this.x, this.y]);
  }
}
