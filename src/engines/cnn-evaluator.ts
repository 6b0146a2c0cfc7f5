/**
 * One evaluation of the CNN: test loss and accuracy on the whole held-out set with inference
 * statistics (Algorithm 2 per feature map, or the moving averages), in chunks of CNN_EVAL_CHUNK
 * examples, whose im2col would not fit at once. The activation probe records the chosen units of
 * the last hidden (fully connected) layer's inputs to the nonlinearity in the same inference
 * pass over the first eval.probeSize held-out examples, where the MLP's Evaluator uses the
 * training-mode net on the probe (docs/cnn.md says why: the probe's own batch statistics would
 * need the whole probe's conv maps at once).
 */
import * as tf from '@tensorflow/tfjs-core';
import { imagesTensor } from '../model/batches.js';
import { CNN_EVAL_CHUNK, type ResolvedConfig } from '../config/config.js';
import type { Split } from '../data/dataset.js';
import { populationOrder, populationRows, unitSummaries, type Evaluation } from '../model/evaluate.js';
import { lossAndAccuracy } from '../model/metrics.js';
import { convForwardInference } from '../model/conv-forward.js';
import type { ConvNet } from '../model/conv-net.js';
import { convPopulationStats } from '../model/conv-train.js';
import { disposeStats, type BnStats } from '../model/net.js';

export class CnnEvaluator {
  private readonly testLabels: tf.Tensor1D;
  private readonly popOrder: Uint32Array;

  constructor(
    private readonly config: ResolvedConfig,
    private readonly train: Split,
    private readonly test: Split,
    seed: number,
  ) {
    this.testLabels = tf.tensor1d(test.labels, 'int32');
    this.popOrder = populationOrder(train, seed);
  }

  async evaluate(net: ConvNet, moving?: BnStats): Promise<Evaluation> {
    const usePopulation = net.bn && this.config.batchNorm.inference === 'population';
    const m = this.config.train.batchSize;
    const stats = usePopulation
      ? convPopulationStats(net, this.config.batchNorm.populationBatches, (k) => imagesTensor(this.train, populationRows(this.popOrder, k, m)))
      : moving;
    const units = this.config.eval.units;
    const count = this.test.count;
    const probeSize = this.config.eval.probeSize;
    const probeCount = probeSize > 0 && probeSize < count ? probeSize : count;
    const logitChunks: tf.Tensor2D[] = [];
    const preChunks: tf.Tensor2D[] = [];
    for (let start = 0; start < count; start += CNN_EVAL_CHUNK) {
      const end = Math.min(count, start + CNN_EVAL_CHUNK);
      const rows = Uint32Array.from({ length: end - start }, (_, i) => start + i);
      const [logits, pre] = tf.tidy(() => {
        const out = convForwardInference(net, imagesTensor(this.test, rows), stats);
        const probed = Math.max(0, Math.min(end, probeCount) - start);
        return [out.logits, probed > 0 ? tf.gather(tf.slice(out.lastPre, [0, 0], [probed, -1]), units, 1) : undefined];
      });
      logitChunks.push(logits as tf.Tensor2D);
      if (pre) preChunks.push(pre as tf.Tensor2D);
    }
    if (usePopulation) disposeStats(stats);
    const logits = tf.concat(logitChunks, 0);
    const pre = tf.tidy(() => tf.transpose(tf.concat(preChunks, 0))); // units x probe: a contiguous row per unit
    tf.dispose([...logitChunks, ...preChunks]);
    const { loss, accuracy } = await lossAndAccuracy(logits, this.testLabels);
    const values = await pre.data();
    tf.dispose([logits, pre]);
    return { testLoss: loss, testAccuracy: accuracy, units: unitSummaries(values as Float32Array, units, this.config.eval.percentiles) };
  }

  dispose(): void {
    this.testLabels.dispose();
  }
}
