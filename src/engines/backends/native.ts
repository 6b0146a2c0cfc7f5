/**
 * The native TensorFlow binding: @tensorflow/tfjs-node-gpu, else @tensorflow/tfjs-node. Whether
 * a GPU is really used is asked of the binding (tfjs-node-gpu falls back to the CPU silently when
 * CUDA 11.2 / cuDNN 8.1 are missing, e.g. on CUDA 12/13 machines), never assumed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { execFileSync } from 'node:child_process';

export const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];

export interface DeviceInfo {
  gpu: boolean;
  /** From nvidia-smi when a GPU is used and the tool is there. */
  name?: string;
  driver?: string;
  /** What the binding was built for (tfjs-node-gpu 4.x bundles libtensorflow 2.9.1). */
  builtFor?: string;
  note?: string;
}

/** Imports modules by name; tests pass a fake to exercise the fallbacks. */
export type Importer = (pkg: string) => Promise<unknown>;
export const importPackage: Importer = (pkg) => import(pkg);

/** Imports the first native binding that loads; else the reason for each. */
export async function loadNative(importer: Importer = importPackage): Promise<{ pkg?: string; reasons: string[] }> {
  const reasons: string[] = [];
  for (const pkg of NATIVE_PACKAGES) {
    try {
      await importer(pkg);
      return { pkg, reasons };
    } catch (err) {
      const code = (err as { code?: string }).code;
      const why = code === 'ERR_MODULE_NOT_FOUND' ? 'is not installed' : `is installed but failed to load (${(err as Error).message.split('\n')[0]})`;
      reasons.push(`${pkg} ${why}`);
    }
  }
  return { reasons };
}

function nvidiaSmi(): { name?: string; driver?: string } {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=name,driver_version', '--format=csv,noheader'], { encoding: 'utf8', timeout: 5000 });
    const [name, driver] = out
      .split('\n')[0]
      .split(',')
      .map((s) => s.trim());
    return { name, driver };
  } catch {
    return {};
  }
}

/** Asks the active tensorflow backend whether it runs on a GPU. */
export function nativeDevice(pkg: string): DeviceInfo {
  const backend = tf.backend() as unknown as { isUsingGpuDevice?: boolean; isGPUPackage?: boolean };
  const gpu = backend.isUsingGpuDevice === true;
  const builtFor = pkg.endsWith('-gpu') ? 'libtensorflow 2.9.1: CUDA 11.2, cuDNN 8.1' : undefined;
  if (gpu) return { gpu, builtFor, ...nvidiaSmi(), note: `CUDA_VISIBLE_DEVICES=${process.env.CUDA_VISIBLE_DEVICES ?? '(unset)'}` };
  const note = pkg.endsWith('-gpu')
    ? 'tfjs-node-gpu found no usable GPU (CUDA 11.2 and cuDNN 8.1 libraries needed): TensorFlow runs on the CPU'
    : 'CPU build of TensorFlow';
  return { gpu, builtFor, note };
}
