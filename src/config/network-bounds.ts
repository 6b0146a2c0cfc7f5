/**
 * Whether a network fits the memory it trains in: its parameters, a training layer pass and an
 * evaluation, against the bounds measured on the wasm backend (LIMITS in config-rules.ts). Checked
 * on the final config, before the backend starts or the data load.
 */
import { UsageError } from '../core/errors.js';
import type { ResolvedConfig } from './config.js';
import { LIMITS } from './config-rules.js';
import { CLASSES, IMAGE_PIXELS } from './mnist-shape.js';

/**
 * Trained parameters of a network with these hidden widths on MNIST: every weight, the output
 * bias, and two per hidden unit (a BN net's gamma and beta; a baseline's bias is one).
 */
export function parameterCount(hiddenUnits: number[]): number {
  let count = 0;
  let fanIn = IMAGE_PIXELS;
  for (const units of [...hiddenUnits, CLASSES]) {
    count += fanIn * units;
    fanIn = units;
  }
  return count + CLASSES + 2 * hiddenUnits.reduce((a, b) => a + b, 0);
}

const fmt = (n: number) => n.toLocaleString('en-US');

/**
 * A network that would exhaust the wasm heap (or a checkpoint's string) partway through a run is
 * refused here, at once, before the backend starts or the data load (issue 17: 20 layers of
 * 10,000 units used to end in exit 70, "memory access out of bounds", after 55 s).
 */
export function checkNetworkFits(c: ResolvedConfig, where: string): void {
  checkWidthsFit(c, c.model.hiddenUnits, 'config key "model.hiddenUnits"', where);
  // A depth sweep's entries bring their own widths; each network must fit.
  for (const v of c.sweep) if (v.hiddenUnits) checkWidthsFit(c, v.hiddenUnits, `the hiddenUnits of sweep entry "${v.name}"`, where);
}

function checkWidthsFit(c: ResolvedConfig, hiddenUnits: number[], key: string, where: string): void {
  const heap = "the wasm backend's 4 GiB heap";
  const params = parameterCount(hiddenUnits);
  if (params > LIMITS.parameters) {
    throw new UsageError(`${where}: ${key} holds ${fmt(params)} parameters, more than the ${fmt(LIMITS.parameters)} that a checkpoint and ${heap} hold.`);
  }
  const units = hiddenUnits.reduce((a, b) => a + b, 0);
  const batch = c.train.batchSize * units;
  if (batch > LIMITS.batchValues) {
    throw new UsageError(
      `${where}: config key "train.batchSize" ${c.train.batchSize} x ${fmt(units)} hidden units is ${fmt(batch)} values per layer pass, more than the ${fmt(LIMITS.batchValues)} that fit ${heap}.`,
    );
  }
  const heldOut =
    c.data.testSubset > 0 ? c.data.testSubset : c.data.source === 'embedded' ? Math.min(c.data.embeddedTest, LIMITS.heldOutExamples) : LIMITS.heldOutExamples;
  const probe = c.eval.probeSize > 0 ? Math.min(c.eval.probeSize, heldOut) : heldOut;
  const evaluation = (heldOut + probe) * units;
  if (evaluation > LIMITS.evalValues) {
    throw new UsageError(
      `${where}: ${key} has ${fmt(units)} hidden units x ${fmt(heldOut)} held-out examples (+ ${fmt(probe)} probed) is ${fmt(evaluation)} values, more than the ${fmt(LIMITS.evalValues)} an evaluation fits in ${heap}; use narrower layers, data.testSubset or eval.probeSize.`,
    );
  }
}
