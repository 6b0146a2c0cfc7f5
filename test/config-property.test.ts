/**
 * Property-based tests (fast-check) of the config parser and the flags: whatever a config file
 * or the command line holds, the result is a valid config or a UserError (exit 1 or 2), never
 * another exception (which the CLI would report as an internal error, exit 70).
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULTS, type ResolvedConfig } from '../src/config/config.js';
import { applyOverrides, resolveConfig } from '../src/config/resolve.js';
import { RULES } from '../src/config/config-rules.js';
import { FLAG_KEYS, configFromFlags } from '../src/commands/flags.js';
import { EXIT, UserError } from '../src/core/errors.js';
import { tempDir } from './helpers.js';

const RUNS = 300;
const KEYS = Object.keys(RULES);

/** Either a config (which must then satisfy every rule) or a clean user error. */
function cleanOutcome(make: () => ResolvedConfig): void {
  let config: ResolvedConfig;
  try {
    config = make();
  } catch (err) {
    assert.ok(err instanceof UserError, `not a user error: ${(err as Error)?.stack ?? String(err)}`);
    assert.ok(err.exitCode === EXIT.usage || err.exitCode === EXIT.runtime);
    assert.ok(err.message.length > 0 && !err.message.includes('\n'), 'one sentence');
    return;
  }
  for (const key of KEYS) {
    const value = key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], config);
    assert.equal(RULES[key](value), undefined, `${key} = ${JSON.stringify(value)} passed although its rule refuses it`);
  }
}

/** Values near the edges of what rules accept, plus anything JSON can hold. */
const edgy = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(0, -1, 1, 2, 0.5, 1e308, -1e308, 2 ** 32, 1e9, '', '0', 'NaN', [], [0, 0], [1, 2, 3], {}, null, true),
  fc.array(fc.integer({ min: -5, max: 200 }), { maxLength: 6 }),
);

/** Nested overrides whose keys are real key paths, their parents, or odd names. */
const keyName = fc.oneof(
  fc.constantFrom(...KEYS, 'train', 'model', 'eval', 'data', 'batchNorm', '__proto__', 'constructor', 'toString', 'hasOwnProperty'),
  fc.string(),
);
const overrides = fc.dictionary(keyName, fc.oneof(edgy, fc.dictionary(keyName, edgy, { maxKeys: 4 })), { maxKeys: 5 });

test('config overrides: any JSON object gives a valid config or a usage error naming the problem', () => {
  fc.assert(
    fc.property(overrides, (o) => cleanOutcome(() => applyOverrides(structuredClone(DEFAULTS) as ResolvedConfig, o, 'prop.json'))),
    { numRuns: RUNS },
  );
});

test('config files: any text in the file gives a valid config or a usage error', () => {
  const path = join(tempDir(), 'config.json');
  const text = fc.oneof(
    fc.string(),
    overrides.map((o) => JSON.stringify(o)),
    fc.jsonValue().map((v) => JSON.stringify(v)),
  );
  fc.assert(
    fc.property(text, (t) => {
      writeFileSync(path, t);
      cleanOutcome(() => resolveConfig(path, {}));
    }),
    { numRuns: RUNS },
  );
});

test('flags: any text for any flag gives a valid config or a usage error', () => {
  const attrs = FLAG_KEYS.map(([attr]) => attr);
  const flagText = fc.oneof(
    fc.string(),
    fc.constantFrom('1e9', '1000000000', '-0', '0x10', '1,1', '3,', ',', ' 7 ', 'Infinity', '1e-400', '2.5', 'both', 'wasm'),
  );
  fc.assert(
    fc.property(fc.dictionary(fc.constantFrom(...attrs), flagText, { maxKeys: 4 }), (opts) => cleanOutcome(() => configFromFlags(opts))),
    { numRuns: RUNS },
  );
});

test('the properties can fail: a config that breaks a rule is refused, and a rule violation would be caught', () => {
  assert.throws(
    () => applyOverrides(structuredClone(DEFAULTS) as ResolvedConfig, JSON.parse('{"__proto__": {"train": 1}}'), 'x'),
    /unknown config key "__proto__"/,
  );
  assert.throws(() => configFromFlags({ seeds: '1000000000' }), /--seeds 1000000000 asks for 1,000,000,000 seeds; at most 1,000 are allowed/);
  assert.throws(() => cleanOutcome(() => ({ ...structuredClone(DEFAULTS), jobs: -1 }) as ResolvedConfig), /jobs = -1 passed/);
});
