/**
 * The evaluation sessions and test-set feeds that the members of an ORT engine share (OrtMember,
 * ort-member.ts): one session per distinct evaluation graph, one copy of the test set's feeds.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { CLASSES, IMAGE_PIXELS, type Split } from '../data/dataset.js';
import { sessionOptions, type Ort, type OrtProvider } from './ort/runtime.js';
import { evalModel, type EvalSpec } from './ort/step-graph.js';

function oneHot(labels: Uint8Array): Float32Array {
  const y = new Float32Array(labels.length * CLASSES);
  labels.forEach((label, i) => (y[i * CLASSES + label] = 1));
  return y;
}

/** Evaluation sessions (one per distinct evaluation graph) and the test-set feeds of one data set. */
export class EvalShare {
  private readonly sessions = new Map<string, Promise<InferenceSession>>();
  private feeds?: Record<string, Tensor>;

  constructor(
    private readonly ort: Ort,
    private readonly provider: OrtProvider,
  ) {}

  session(spec: EvalSpec): Promise<InferenceSession> {
    const key = JSON.stringify(spec);
    let session = this.sessions.get(key);
    if (!session) {
      session = this.ort.InferenceSession.create(evalModel(spec), sessionOptions(this.provider));
      this.sessions.set(key, session);
    }
    return session;
  }

  /** The held-out images, one-hot and integer labels, and the probe rows when the probe is a part. */
  testFeeds(test: Split, probeCount: number): Record<string, Tensor> {
    if (this.feeds) return this.feeds;
    const f32 = (values: Float32Array, dims: number[]) => new this.ort.Tensor('float32', values, dims);
    // Copies: the data set lies on SharedArrayBuffers (for worker threads), which ORT refuses.
    this.feeds = {
      testX: f32(test.images.slice(), [test.count, IMAGE_PIXELS]),
      testY: f32(oneHot(test.labels), [test.count, CLASSES]),
      testLabels: new this.ort.Tensor(
        'int64',
        BigInt64Array.from(test.labels, (l) => BigInt(l)),
        [test.count],
      ),
    };
    if (probeCount < test.count) this.feeds.probeX = f32(test.images.slice(0, probeCount * IMAGE_PIXELS), [probeCount, IMAGE_PIXELS]);
    return this.feeds;
  }

  async release(): Promise<void> {
    const sessions = await Promise.allSettled(this.sessions.values());
    this.sessions.clear();
    for (const s of sessions) if (s.status === 'fulfilled') await s.value.release();
  }
}
