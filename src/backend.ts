/**
 * Picks and initialises the tfjs backend. "auto" prefers the native TensorFlow binding
 * (@tensorflow/tfjs-node-gpu, then @tensorflow/tfjs-node) when one is installed and loads,
 * then wasm, then cpu. Reports what actually ran so it can be recorded beside results.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { BackendName } from './config.js';
import { UserError } from './errors.js';
import type { Logger } from './logger.js';

export interface BackendInfo {
  /** The tfjs backend in use: "tensorflow", "wasm" or "cpu". */
  name: string;
  /** The npm package that provides it. */
  package: string;
  tfjsVersion: string;
}

const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];

/** Loads the first native binding that imports; returns its package name or the reasons. */
async function loadNative(): Promise<{ pkg?: string; reasons: string[] }> {
  const reasons: string[] = [];
  for (const pkg of NATIVE_PACKAGES) {
    try {
      await import(pkg);
      return { pkg, reasons };
    } catch (err) {
      const code = (err as { code?: string }).code;
      reasons.push(code === 'ERR_MODULE_NOT_FOUND' ? `${pkg} is not installed` : `${pkg} failed to load: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return { reasons };
}

async function activate(name: string): Promise<boolean> {
  try {
    const ok = await tf.setBackend(name);
    await tf.ready();
    return ok && tf.getBackend() === name;
  } catch {
    return false;
  }
}

function versionOf(pkg: string): string {
  try {
    return (createRequire(import.meta.url)(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** bn-repro's own version, from the package.json two folders above dist/src. */
function ownVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Initialises the requested backend; an explicit choice that cannot run is a user error. */
export async function initBackend(requested: BackendName, logger: Logger): Promise<BackendInfo> {
  const tfjsVersion = tf.version.tfjs;
  // PROD silences tfjs's console banners and skips its debug-only checks on every op.
  tf.env().set('PROD', true);
  if (requested === 'tensorflow' || requested === 'auto') {
    const native = await loadNative();
    if (native.pkg && (await activate('tensorflow'))) return { name: 'tensorflow', package: native.pkg, tfjsVersion };
    if (requested === 'tensorflow') {
      throw new UserError(`The tensorflow backend is not available (${native.reasons.join('; ')}); use --backend wasm or cpu.`);
    }
  }
  if (requested === 'wasm' || requested === 'auto') {
    if (await activate('wasm')) return { name: 'wasm', package: '@tensorflow/tfjs-backend-wasm', tfjsVersion };
    if (requested === 'wasm') throw new UserError('The wasm backend failed to initialise; use --backend cpu.');
    logger.warn('the wasm backend failed to initialise; falling back to the slow cpu backend.');
  }
  if (!(await activate('cpu'))) throw new UserError('The cpu backend failed to initialise.');
  return { name: 'cpu', package: '@tensorflow/tfjs-backend-cpu', tfjsVersion };
}

/** Versions written beside every result. */
export function versions(): Record<string, string> {
  return {
    node: process.version,
    tfjs: tf.version.tfjs,
    'tfjs-backend-wasm': versionOf('@tensorflow/tfjs-backend-wasm'),
    'bn-repro': ownVersion(),
  };
}
