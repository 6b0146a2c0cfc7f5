/**
 * One schema per file a run folder holds, checked whenever a file is read back (resume, merge,
 * report, plot): run.json, the checkpoints and the CSV headers. A file that does not match is
 * named in one sentence, with the first field that is wrong; nothing is modified. (The config
 * inside run.json is checked by the config rules, like any config file.)
 */
import { z } from 'zod';
import { UserError } from '../errors.js';

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
});

const evalRecordSchema = z.object({
  arm: z.string(),
  seed: count,
  step: count,
  trainLoss: real,
  testLoss: real,
  testAccuracy: real,
  elapsedS: z.number(),
});

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
  sampler: z.object({ rng: z.tuple([z.number(), z.number(), z.number(), z.number()]), order: z.array(count), position: count }),
  sha256: z.string(),
});

/** What is kept of a run that has ended: its summary, no weights. */
export const endedRunSchema = z.object({ arm: z.string().min(1), seed: count, summary: runSummarySchema, sha256: z.string() });

/** Parses `value` with `schema`, or one sentence naming `file` and the first wrong field. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, file: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue.path.length > 0 ? `field "${issue.path.join('.')}"` : 'its content';
  throw new UserError(`${file} is damaged: ${where}: ${issue.message.replace(/\.$/, '')}.`);
}

/** Checks that a CSV's header is the one this folder's config writes. */
export function checkHeader(file: string, header: string[], expected: string[]): void {
  if (header.join(',') !== expected.join(',')) {
    throw new UserError(`${file} is damaged: its header is "${header.join(',')}", expected "${expected.join(',')}".`);
  }
}
