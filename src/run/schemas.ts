/**
 * One schema per file a run folder holds, checked whenever a file is read back (resume, merge,
 * report, plot): run.json, the checkpoints and the CSV headers. A file that does not match is
 * named in one sentence, with the first field that is wrong; nothing is modified. (The config
 * inside run.json is checked by the config rules, like any config file.)
 */
import { z } from 'zod';
import type { ResolvedConfig } from '../config/config.js';
import { UserError } from '../core/errors.js';
import type { Shard } from './shard.js';
import type { RunSummary } from '../training/records.js';

const count = z.number().int().nonnegative();
/** JSON writes NaN and Infinity as null (a diverged run's loss). */
const real = z.number().nullable();

export const runSummarySchema = z.object({
  arm: z.string().min(1),
  seed: count,
  steps: count,
  wallS: real,
  stepsPerSecond: real,
  finalTestAccuracy: real,
  finalTestLoss: real,
  bestTestAccuracy: real,
  divergedAtStep: count.optional(),
  interrupted: z.boolean().optional(),
});

export const RUN_STATUSES = ['running', 'finished', 'diverged', 'interrupted', 'failed', 'incomplete'] as const;

export const runJsonSchema = z.looseObject({
  status: z.enum(RUN_STATUSES),
  config: z.record(z.string(), z.unknown()),
  seeds: z.array(count).min(1),
  arms: z.array(z.string()).optional(),
  planned: z.array(z.string()).optional(),
  runs: z.array(runSummarySchema).optional(),
  backend: z.looseObject({ name: z.string() }).optional(),
  startedAt: z.string().optional(),
  /** sha256 of the config and data (digest.ts); absent in folders written before it existed. */
  digest: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'not a sha256')
    .optional(),
});

/**
 * run.json as every reader sees it: its schema's type (keys it does not name pass through as
 * unknown), with the config resolved over today's defaults (readRunJson) and a shard's place.
 */
export type RunJson = z.infer<typeof runJsonSchema> & {
  config: ResolvedConfig;
  shard?: Shard;
  /** As RunSummary types them; a NaN was written as null (JSON has no NaN), as the file holds it. */
  runs?: RunSummary[];
};

const evalRecordSchema = z.object({
  arm: z.string(),
  seed: count,
  step: count,
  trainLoss: real,
  testLoss: real,
  testAccuracy: real,
  elapsedS: z.number(),
});

/** The experiment a checkpoint belongs to and the rows on disk when it was saved (absent in older folders). */
const madeWith = {
  digest: z.string().optional(),
  rows: z.record(z.string(), z.string()).optional(),
};

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'not base64');

export const checkpointSchema = z.object({
  arm: z.string().min(1),
  seed: count,
  step: count,
  lastEvalStep: count,
  lossSum: z.number(),
  bestAccuracy: z.number(),
  last: evalRecordSchema.optional(),
  elapsedS: z.number(),
  params: z.array(base64).min(1),
  moving: z.object({ mean: z.array(base64), variance: z.array(base64) }).optional(),
  velocity: z.array(base64).optional(),
  sampler: z.object({ rng: z.tuple([z.number(), z.number(), z.number(), z.number()]), order: z.array(count), position: count }),
  ...madeWith,
  sha256: z.string(),
});

/** What is kept of a run that has ended: its summary, no weights. */
export const endedRunSchema = z.object({ arm: z.string().min(1), seed: count, summary: runSummarySchema, ...madeWith, sha256: z.string() });

/** Parses `value` with `schema`, or one sentence naming `file` and the first wrong field. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, file: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue.path.length > 0 ? `field "${issue.path.join('.')}"` : 'its content';
  throw new UserError(`${file} is damaged: ${where}: ${issue.message.replace(/\.$/, '')}.`);
}

/** Text as a JSON string with everything invisible escaped (a carriage return, a byte-order mark). */
const shown = (text: string) => JSON.stringify(text).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** What sets a header apart from the expected one, in words a reader can see. */
function headerDifference(header: string[], expected: string[]): string {
  if (header.at(-1)?.endsWith('\r')) return 'its lines end in a carriage return (CRLF line endings; bn-repro writes plain newlines)';
  if (header[0]?.startsWith('\ufeff')) return 'it starts with a byte-order mark';
  const i = expected.findIndex((c, j) => header[j] !== c);
  if (i < 0) return `it has ${header.length - expected.length} extra column(s)`;
  return i < header.length ? `column ${i + 1} is ${shown(header[i])}, expected ${shown(expected[i])}` : `it lacks the column ${shown(expected[i])}`;
}

/** Checks that a CSV's header is the one this folder's config writes. */
export function checkHeader(file: string, header: string[], expected: string[]): void {
  if (header.join(',') !== expected.join(',')) {
    throw new UserError(
      `${file} is damaged: its header is ${shown(header.join(','))}, expected ${shown(expected.join(','))}: ${headerDifference(header, expected)}.`,
    );
  }
}
