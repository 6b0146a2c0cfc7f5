/**
 * A config from its layers: DEFAULTS (config.ts), then a config file's overrides, then the
 * command line's, every leaf checked by its rule (config-rules.ts) and the whole by the
 * consistency and memory checks; a saved run.json's config brought to today's keys.
 */
import { UsageError } from '../core/errors.js';
import { readUserFile } from '../core/user-file.js';
import { DEFAULTS, type ResolvedConfig } from './config.js';
import { LIMITS, RULES, checkConsistency, nestingDepth, type Rule } from './config-rules.js';
import { firstDuplicateKey } from './duplicate-keys.js';
import { checkNetworkFits } from './network-bounds.js';

type Json = unknown;
type Overrides = Record<string, Json>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value as JSON for an error message, cut to one readable line (a 1,001-seed list is not). */
function shortJson(value: unknown): string {
  // JSON writes Infinity (a config's 1e309) and NaN as null; name them as they are.
  const marked = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? `\u0000${v}` : v));
  const text = marked?.replace(/"\\u0000([^"]*)"/g, '$1') ?? String(value);
  return text.length > 80 ? `${text.slice(0, 76)} ...` : text;
}

/**
 * Merges `overrides` into `base`, checking every key against DEFAULTS and its rule.
 * `where` names the source in error messages ("configs/x.json", "flags"). `partial`: more
 * overrides follow (a config file before its flags), so whether the network fits the memory
 * bounds is left to the caller's last stage (a --test-subset flag may make it fit).
 */
export function applyOverrides(base: ResolvedConfig, overrides: Overrides, where: string, partial = false): ResolvedConfig {
  if (nestingDepth(overrides, LIMITS.nesting) > LIMITS.nesting) {
    throw new UsageError(`${where}: settings nest lists and objects more than ${LIMITS.nesting} deep; no config key takes such a value.`);
  }
  const out = structuredClone(base) as unknown as Record<string, unknown>;
  const walk = (target: Record<string, unknown>, src: Overrides, prefix: string): void => {
    for (const [key, value] of Object.entries(src)) {
      const path = prefix ? `${prefix}.${key}` : key;
      // Own keys only: "__proto__" or "constructor" must be unknown keys, not Object's members.
      const rule: Rule | undefined = Object.hasOwn(RULES, path) ? RULES[path] : undefined;
      const current = Object.hasOwn(target, key) ? target[key] : undefined;
      if (isPlainObject(current) && rule === undefined) {
        if (!isPlainObject(value)) throw new UsageError(`${where}: config key "${path}" must be an object of settings.`);
        walk(current, value, path);
        continue;
      }
      if (rule === undefined) throw new UsageError(`${where}: unknown config key "${path}".`);
      const problem = rule(value);
      if (problem) throw new UsageError(`${where}: config key "${path}" ${problem} (got ${shortJson(value)}).`);
      target[key] = structuredClone(value);
    }
  };
  walk(out, overrides, '');
  const merged = out as unknown as ResolvedConfig;
  checkConsistency(merged, where);
  if (!partial) checkNetworkFits(merged, where);
  return merged;
}

/**
 * Reads a JSON config file of overrides; a missing, special (FIFO, device), oversized or
 * malformed file is a usage error.
 */
export function readConfigFile(path: string): Overrides {
  const bytes = readUserFile(path, LIMITS.configFileBytes, (problem) => new UsageError(`Config file ${path} ${problem}.`));
  // A byte-order mark (editors on Windows) is not part of the JSON.
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`Config file ${path} is not valid JSON: ${(err as Error).message}.`);
  }
  if (!isPlainObject(parsed)) throw new UsageError(`Config file ${path} must hold a JSON object of overrides.`);
  // After the nesting bound (applyOverrides checks it too): the key walk recurses per level.
  const repeated = nestingDepth(parsed, LIMITS.nesting) > LIMITS.nesting ? undefined : firstDuplicateKey(text);
  if (repeated !== undefined) throw new UsageError(`Config file ${path} gives key "${repeated}" twice; give it once.`);
  return parsed;
}

/** DEFAULTS <- config file <- flag overrides, validated at each stage (see applyOverrides for `partial`). */
export function resolveConfig(configPath: string | undefined, flagOverrides: Overrides, partial = false): ResolvedConfig {
  let config = structuredClone(DEFAULTS) as ResolvedConfig;
  if (configPath) {
    const file = readConfigFile(configPath);
    config = applyOverrides(config, file, configPath, true);
    // Not in checkConsistency: a run.json's resolved config always holds both keys. "both", the
    // default, restricts nothing: `sweep --slurm` writes it into the resolved config its tasks read.
    if (Object.hasOwn(file, 'bn') && file.bn !== DEFAULTS.bn && config.sweep.length > 0) {
      throw new UsageError(
        `${configPath}: config key "bn" would be ignored, since the "sweep" entries choose the networks, each with its own "bn"; remove "bn".`,
      );
    }
  }
  return applyOverrides(config, flagOverrides, configPath && Object.keys(flagOverrides).length === 0 ? configPath : 'command line', partial);
}

/**
 * A config saved in a run.json by an earlier version, brought to the current keys: 0.1.0 had a
 * single `seed` where there is now the `seeds` list.
 */
export function migrateSavedConfig(saved: Record<string, unknown>): Record<string, unknown> {
  const { seed, ...rest } = saved;
  return seed === undefined || 'seeds' in saved ? saved : { ...rest, seeds: [seed] };
}
