/**
 * The bounds on what a config may ask for (list lengths, layer widths, steps, network and batch
 * sizes, file size and nesting), checked by the key rules (config-rules.ts), the cross-key rules
 * (config-consistency.ts), the network bounds and the flags; and the nesting check of a parsed
 * config file, which guards what follows it (JSON.stringify, structuredClone) from deep input.
 */

/**
 * Bounds that keep a typo from exhausting memory or running for years: far above any sensible
 * experiment on this net (the paper: 3 layers of 100, 50,000 steps, batch 60).
 */
export const LIMITS = {
  listLength: 1000,
  layers: 20,
  unitsPerLayer: 10_000,
  steps: 100_000_000,
  batchSize: 60_000,
  populationBatches: 100_000,
  jobs: 256,
  /** A download retried this often with doubling waits already waits 17 minutes for the last try. */
  downloadRetries: 10,
  /** A config or sweep entry name: it names folders and rows; a file name holds 255 bytes. */
  nameLength: 100,
  /** Lists and objects nested this deep (the deepest key, a sweep entry's field, is 3 deep). */
  nesting: 10,
  /** A config file's size; the largest in configs/ is under 2 KB, a 1,000-seed list about 5 KB. */
  configFileBytes: 1 << 20,
  /**
   * The network's size, set from runs on the default wasm backend (its heap is 4 GiB) on this
   * project's 23 GB, 2-core machine (2 steps, checkpoints every step; README, "Robustness"):
   * 784-7000-7000-10 (54.5 M parameters) trains; 784-10000-10000-10 (178 M) fails writing its
   * checkpoint (a string past V8's 2^29 characters). Half of what was measured to train is
   * allowed, leaving room for the landscape measurements' shifted copies of the weights.
   */
  parameters: 50_000_000,
  /**
   * A layer pass over a training mini-batch: batchSize x the hidden units of all layers (the
   * forward pass keeps every layer's activations for the backward pass). Measured with
   * 784-2000-10: batch 20,000 (40 M values) trains at 3.9 GB peak RSS, batch 30,000 (60 M) aborts
   * ("memory access out of bounds" at 60,000); 784-5000-5000-10 at batch 3,000 (30 M) trains
   * at 3.8 GB, and the corner of both bounds, 784-7000-6000-10 (47.6 M parameters) at batch
   * 2,300 (29.9 M values), trains at 4.7 GB peak RSS.
   */
  batchValues: 30_000_000,
  /**
   * An evaluation: (held-out examples + probe examples) x the hidden units of all layers, the two
   * passes of one evaluation held at once. Measured: 784-10000-10 on MNIST's 10,000 held-out
   * examples with a 100-example probe (101 M values) trains at 2.8 GB peak RSS.
   */
  evalValues: 100_000_000,
  /** The most held-out examples a run evaluates on: MNIST's test set, and all the embedded digits. */
  heldOutExamples: 10_000,
};

/**
 * How deeply `value` nests lists and objects (a number is 0, [] is 1), counted without recursion
 * and given up past `limit`: a file of 5,000 nested lists must not overflow the stack here, nor
 * in the JSON.stringify and structuredClone calls that follow.
 */
export function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > limit) return deepest;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return deepest;
}
