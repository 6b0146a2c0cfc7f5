/**
 * The checks that relate model.kind, model.convLayers and model.activation to the rest of a
 * merged config (called from config-rules.ts checkConsistency): the CNN's shapes are computed
 * before any training, and the parts not built for one model kind are one sentence each.
 */
import type { ResolvedConfig } from './config.js';
import { UsageError } from '../core/errors.js';
import { IMAGE_SIDE } from './mnist-shape.js';
import { convParameterCount, convValuesPerExample, planCnn } from './conv-shapes.js';

interface Bounds {
  parameters: number;
  batchValues: number;
}

export function checkCnnConfig(c: ResolvedConfig, where: string, limits: Bounds): void {
  if (c.model.kind === 'mlp') {
    const reluEntry = c.sweep.find((v) => v.activation === 'relu');
    if (c.model.activation === 'relu')
      throw new UsageError(`${where}: config key "model.activation" "relu" is built for the CNN only (model.kind "cnn"); the MLP is sigmoid.`);
    if (reluEntry)
      throw new UsageError(
        `${where}: config key "sweep" entry "${reluEntry.name}" sets activation "relu", which is built for the CNN only (model.kind "cnn").`,
      );
    return;
  }
  const plan = planCnn(c.model.convLayers, [IMAGE_SIDE, IMAGE_SIDE, 1]);
  if (typeof plan === 'string') throw new UsageError(`${where}: config key "model.convLayers" ${plan}.`);
  const fmt = (n: number) => n.toLocaleString('en-US');
  const params = convParameterCount(plan) + plan.flatSize * c.model.hiddenUnits[0];
  if (params > limits.parameters) {
    throw new UsageError(
      `${where}: config key "model.convLayers" gives ${fmt(params)} parameters below the first hidden layer, more than the ${fmt(limits.parameters)} a checkpoint holds.`,
    );
  }
  const values = convValuesPerExample(plan) * c.train.batchSize;
  if (values > limits.batchValues) {
    throw new UsageError(
      `${where}: config key "model.convLayers" holds ${fmt(values)} values in a training step's conv stages, more than the ${fmt(limits.batchValues)} that fit in memory; use fewer maps or a smaller train.batchSize.`,
    );
  }
}
