/**
 * The digest that ties a run folder's parts to the settings they were made with: sha256 of a
 * canonical serialisation (object keys sorted, no whitespace) of the config keys that decide a
 * run's numbers and of the data it trained on. run.json and every checkpoint carry it; a part
 * whose digest differs was made by another experiment (or edited) and is refused.
 */
import { createHash } from 'node:crypto';

/**
 * Config keys left out of the digest: `jobs`, `tensorboard`, `lockstep` and `deviceResident` change no result; `seeds` lists the experiment's
 * runs, while each run's numbers depend on its own seed only (merge joins folders of other seeds,
 * and run.json's seeds are checked against its runs instead).
 */
export const DIGEST_IGNORED_KEYS = ['jobs', 'tensorboard', 'lockstep', 'deviceResident', 'seeds'] as const;

/** What decides the data a run saw: which MNIST and how many examples of each split. */
export interface DataIdentity {
  source: string;
  train: number;
  test: number;
}

/** JSON with every object's keys in sorted order, so equal values serialise equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The data identity recorded in run.json's `data`, or undefined when it lacks one. */
export function dataIdentityOf(data: unknown): DataIdentity | undefined {
  const d = data as Partial<DataIdentity> | undefined;
  if (typeof d?.source !== 'string' || typeof d.train !== 'number' || typeof d.test !== 'number') return undefined;
  return { source: d.source, train: d.train, test: d.test };
}

export function experimentDigest(config: object, data: DataIdentity): string {
  const decisive: Record<string, unknown> = { ...config };
  for (const key of DIGEST_IGNORED_KEYS) delete decisive[key];
  return createHash('sha256')
    .update(canonicalJson({ config: decisive, data: { source: data.source, train: data.train, test: data.test } }))
    .digest('hex');
}

/** sha256 of a run's rows of one CSV, in sorted order: merge may reorder rows, never change them. */
export function rowsDigest(lines: string[]): string {
  return createHash('sha256')
    .update([...lines].sort().join('\n'))
    .digest('hex');
}
