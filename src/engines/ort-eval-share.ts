/**
 * The evaluation sessions and fixed feeds that the members of an ORT engine share (OrtMember,
 * ort-member.ts; OrtConvMember, ort/conv-member.ts): one session per distinct evaluation graph,
 * one copy of the test set's feeds (whole for the MLP, in chunks for the CNN), one copy of each
 * seed's population mini-batches for the CNN. Members of one stack evaluate one data set, so the
 * feeds are the same numbers for all of them; the stack releases the share once, when it ends.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { CLASSES, IMAGE_PIXELS, type Split } from '../data/dataset.js';
import { populationOrder, populationRows } from '../model/evaluate.js';
import { sessionOptions, type Ort, type OrtProvider } from './ort/runtime.js';
import { evalModel, type EvalSpec } from './ort/step-graph.js';
import { gatherImages, oneHot } from './ort/member-feeds.js';

/** One chunk of the held-out set: rows start .. start + count - 1 as testX, testY, testLabels. */
export interface TestChunk {
  feeds: Record<string, Tensor>;
  start: number;
  count: number;
}

/** Evaluation sessions (one per distinct evaluation graph) and the fixed feeds of one data set. */
export class EvalShare {
  private readonly sessions = new Map<string, Promise<InferenceSession>>();
  private feeds?: { probeCount: number; feeds: Record<string, Tensor> };
  private chunks?: { size: number; chunks: TestChunk[] };
  /** The CNN's population mini-batches by seed, K and m (the same rows for every arm of a seed). */
  private readonly populations = new Map<string, Tensor[]>();
  /** The splits the feeds were cut from: a share serves one data set. */
  private readonly splits: { test?: Split; train?: Split } = {};

  constructor(
    private readonly ort: Ort,
    private readonly provider: OrtProvider,
  ) {}

  /** The session of the graph `model()` builds, created once per distinct `key` (its spec); `options` add to the provider's. */
  sessionOf(key: string, model: () => Uint8Array, options: InferenceSession.SessionOptions = {}): Promise<InferenceSession> {
    let session = this.sessions.get(key);
    if (!session) {
      session = this.ort.InferenceSession.create(model(), { ...sessionOptions(this.provider), ...options });
      this.sessions.set(key, session);
    }
    return session;
  }

  /** The MLP's evaluation session (evalModel) of `spec`. */
  session(spec: EvalSpec): Promise<InferenceSession> {
    return this.sessionOf(`mlp ${JSON.stringify(spec)}`, () => evalModel(spec));
  }

  private f32(values: Float32Array, dims: number[]): Tensor {
    return new this.ort.Tensor('float32', values, dims);
  }

  private labelFeeds(labels: Uint8Array): Record<string, Tensor> {
    return {
      testY: this.f32(oneHot(labels), [labels.length, CLASSES]),
      testLabels: new this.ort.Tensor(
        'int64',
        BigInt64Array.from(labels, (l) => BigInt(l)),
        [labels.length],
      ),
    };
  }

  /** Throws (a bug, not a user's error) when a member brings a data set other than the share's. */
  private same(which: 'test' | 'train', split: Split): void {
    this.splits[which] ??= split;
    if (this.splits[which] !== split) throw new Error(`EvalShare: a second ${which} split; a share serves one data set`);
  }

  /** A cached feed set, if it was cut as asked (a bug otherwise: every member of a stack asks the same). */
  private cached<T>(value: T, what: string, had: number, asked: number): T {
    if (had !== asked) throw new Error(`EvalShare: test feeds cut with ${what} ${had}, asked for ${asked}`);
    return value;
  }

  /** The MLP's held-out images, one-hot and integer labels, and the probe rows when the probe is a part. */
  testFeeds(test: Split, probeCount: number): Record<string, Tensor> {
    this.same('test', test);
    if (this.feeds) return this.cached(this.feeds, 'probe count', this.feeds.probeCount, probeCount).feeds;
    const feeds: Record<string, Tensor> = { testX: this.f32(test.images.slice(), [test.count, IMAGE_PIXELS]), ...this.labelFeeds(test.labels) };
    if (probeCount < test.count) feeds.probeX = this.f32(test.images.slice(0, probeCount * IMAGE_PIXELS), [probeCount, IMAGE_PIXELS]);
    this.feeds = { probeCount, feeds };
    return feeds;
  }

  /** The CNN's held-out set in chunks of `size` rows (the last one shorter), the same chunks for every member. */
  testChunks(test: Split, size: number): TestChunk[] {
    this.same('test', test);
    if (this.chunks) return this.cached(this.chunks, 'chunk size', this.chunks.size, size).chunks;
    const chunks: TestChunk[] = [];
    for (let start = 0; start < test.count; start += size) {
      const count = Math.min(size, test.count - start);
      const testX = this.f32(test.images.slice(start * IMAGE_PIXELS, (start + count) * IMAGE_PIXELS), [count, IMAGE_PIXELS]);
      chunks.push({ feeds: { testX, ...this.labelFeeds(test.labels.subarray(start, start + count)) }, start, count });
    }
    this.chunks = { size, chunks };
    return chunks;
  }

  /** The CNN's K population mini-batches of m training rows for `seed` (Algorithm 2's fixed batches). */
  populationBatches(train: Split, seed: number, batches: number, m: number): Tensor[] {
    this.same('train', train);
    const key = `${seed} ${batches} ${m}`;
    let xs = this.populations.get(key);
    if (!xs) {
      const order = populationOrder(train, seed);
      xs = Array.from({ length: batches }, (_, k) => this.f32(gatherImages(train, populationRows(order, k, m)), [m, IMAGE_PIXELS]));
      this.populations.set(key, xs);
    }
    return xs;
  }

  /** What the share holds: sessions created, test-set feed sets (MLP whole, CNN chunked), population sets. */
  counts(): { sessions: number; testFeedSets: number; populationSets: number } {
    return {
      sessions: this.sessions.size,
      testFeedSets: Number(this.feeds !== undefined) + Number(this.chunks !== undefined),
      populationSets: this.populations.size,
    };
  }

  async release(): Promise<void> {
    const sessions = await Promise.allSettled(this.sessions.values());
    this.sessions.clear();
    for (const s of sessions) if (s.status === 'fulfilled') await s.value.release();
  }
}
