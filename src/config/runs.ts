/**
 * The runs an experiment consists of: its networks (the arms that `bn` selects, or a sweep's
 * variants) times its seeds, in one fixed order that shards and merged folders rely on.
 */
import type { Arm, BnMode, ResolvedConfig, Variant } from './config.js';

/** The arms a BN mode selects, baseline first. */
export function armsOf(mode: BnMode): Arm[] {
  return mode === 'both' ? ['baseline', 'bn'] : mode === 'on' ? ['bn'] : ['baseline'];
}

/** The networks an experiment trains: its sweep, else the arms of `bn` at the base learning rate. */
export function variantsOf(config: ResolvedConfig): Variant[] {
  if (config.sweep.length > 0) return config.sweep;
  return armsOf(config.bn).map((name) => ({ name, bn: name === 'bn', lrMultiplier: 1 }));
}

/** Every (variant, seed) run of an experiment, in a fixed order: variants, then seeds. */
export function runsOf(config: ResolvedConfig): { variant: Variant; seed: number }[] {
  return variantsOf(config).flatMap((variant) => config.seeds.map((seed) => ({ variant, seed })));
}

/** The hidden-layer widths of a variant's network: its own (a depth sweep), else model.hiddenUnits. */
export function hiddenUnitsOf(config: ResolvedConfig, variant: Variant | undefined): number[] {
  return variant?.hiddenUnits ?? config.model.hiddenUnits;
}

/** The hidden-layer widths of the network a folder's rows name `arm`. */
export function hiddenUnitsOfArm(config: ResolvedConfig, arm: Arm): number[] {
  return hiddenUnitsOf(
    config,
    variantsOf(config).find((v) => v.name === arm),
  );
}
