/**
 * The one place where model.kind chooses the network: the Sec. 4.1 MLP (net.ts) or the CNN
 * (conv-net.ts). The train loop, checkpoints and resume checks go through these functions, so
 * neither needs to know which network it holds.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ResolvedConfig, Variant } from '../config/config.js';
import { CLASSES, IMAGE_PIXELS } from '../data/dataset.js';
import type { Rng } from '../core/random.js';
import { hiddenUnitsOf } from '../config/runs.js';
import { convNetVariables, convParameterSizes, createConvNet, disposeConvNet, IMAGE_SIDE, type ConvNet } from './conv-net.js';
import { planCnn, type CnnPlan } from '../config/conv-shapes.js';
import { createConvMovingStats } from './conv-train.js';
import { createNet, disposeNet, netVariables, parameterSizes, type Net } from './net.js';
import { createMovingStats, type MovingStats } from './sgd.js';

export type Model = Net | ConvNet;

export function isConvNet(net: Model): net is ConvNet {
  return 'kind' in net && net.kind === 'cnn';
}

/** The CNN's plan from a validated config (config-check.ts refused any plan that does not build). */
export function cnnPlanOf(config: ResolvedConfig): CnnPlan {
  const plan = planCnn(config.model.convLayers, [IMAGE_SIDE, IMAGE_SIDE, 1]);
  if (typeof plan === 'string') throw new Error(`internal: model.convLayers passed validation but ${plan}`);
  return plan;
}

/** A freshly initialised network of the config's kind for `variant`, and its moving statistics when used. */
export function createModel(config: ResolvedConfig, variant: Variant, rng: Rng): { net: Model; moving?: MovingStats } {
  const opts = { bn: variant.bn, initStd: variant.initStd ?? config.model.initStd, epsilon: config.batchNorm.epsilon };
  const useMoving = variant.bn && config.batchNorm.inference === 'moving';
  // A depth sweep's variant sets its own widths (hiddenUnitsOf); else model.hiddenUnits.
  const hiddenUnits = hiddenUnitsOf(config, variant);
  if (config.model.kind === 'cnn') {
    const net = createConvNet(cnnPlanOf(config), hiddenUnits, CLASSES, { ...opts, activation: variant.activation ?? config.model.activation }, rng);
    return { net, moving: useMoving ? createConvMovingStats(net, config.batchNorm.momentum) : undefined };
  }
  const net = createNet({ inputSize: IMAGE_PIXELS, hiddenUnits, classes: CLASSES }, opts, rng);
  return { net, moving: useMoving ? createMovingStats(hiddenUnits, config.batchNorm.momentum) : undefined };
}

/** Every trained variable in the network's fixed order (what a checkpoint saves). */
export function modelVariables(net: Model): tf.Variable[] {
  return isConvNet(net) ? convNetVariables(net) : netVariables(net);
}

export function disposeModel(net: Model): void {
  if (isConvNet(net)) disposeConvNet(net);
  else disposeNet(net);
}

/** The sizes of modelVariables' tensors for the config's network, without building it (checkpoint checks). */
export function modelParameterSizes(config: ResolvedConfig, bn: boolean, hiddenUnits = config.model.hiddenUnits): number[] {
  if (config.model.kind === 'cnn') return convParameterSizes(cnnPlanOf(config), hiddenUnits, CLASSES, bn);
  return parameterSizes({ inputSize: IMAGE_PIXELS, hiddenUnits, classes: CLASSES }, bn);
}
