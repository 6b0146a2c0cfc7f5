/**
 * The numbering of weight layers in ics.csv's `layer` column, defined once: the CNN's conv stages
 * first (0..C-1, in model.convLayers order; pools hold no weights and get no number), then the
 * fully connected hidden layers (C..C+H-1), then the output layer (C+H). The MLP has no conv
 * stages (C = 0), so its numbering is the one ics.csv always had: hidden 0..H-1, output H.
 * gradients.ts numbers the gradients this way; the report and the figure name layers from here.
 */
import type { ResolvedConfig } from '../config/config.js';

export type WeightLayerKind = 'conv' | 'hidden' | 'output';

export interface WeightLayer {
  kind: WeightLayerKind;
  /** 0-based within its kind (0 for the output layer). */
  index: number;
}

/** The weight layers of the config's network with hidden widths `hiddenUnits`, in ics.csv's order. */
export function weightLayersOf(config: ResolvedConfig, hiddenUnits: number[]): WeightLayer[] {
  const convs = config.model.kind === 'cnn' ? config.model.convLayers.filter((s) => s.type === 'conv').length : 0;
  return [
    ...Array.from({ length: convs }, (_, index): WeightLayer => ({ kind: 'conv', index })),
    ...hiddenUnits.map((_, index): WeightLayer => ({ kind: 'hidden', index })),
    { kind: 'output', index: 0 },
  ];
}

/** "conv 1", "hidden 2", "output": the report's name of a layer. */
export function weightLayerName(layer: WeightLayer): string {
  return layer.kind === 'output' ? 'output' : `${layer.kind} ${layer.index + 1}`;
}

/** "conv layer 1", "hidden layer 2", "output layer": the figure's panel name of a layer. */
export function weightLayerTitle(layer: WeightLayer): string {
  return layer.kind === 'output' ? 'output layer' : `${layer.kind} layer ${layer.index + 1}`;
}
