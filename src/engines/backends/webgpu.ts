/**
 * Experimental WebGPU backend in Node: @tensorflow/tfjs-backend-webgpu over the `webgpu` npm
 * package (Google's Dawn, shipped as a binary inside the package; it drives Vulkan on Linux).
 * Neither is installed by default (Dawn's binaries for five platforms weigh 132 MB): users opt in
 * with INSTALL_WEBGPU. Without them, or without an adapter, this fails with one sentence.
 */
import { spawnSync } from 'node:child_process';
import type { DeviceInfo, Importer } from './native.js';
import { importPackage } from './native.js';

/** The opt-in packages, pinned; scripts/test-webgpu.sh installs these (--no-save) where they are missing. */
export const WEBGPU_PACKAGES = ['webgpu@0.6.2', '@tensorflow/tfjs-backend-webgpu@4.22.0'];

/** How to opt in, quoted by every message that finds the packages missing. */
export const INSTALL_WEBGPU = `npm install ${WEBGPU_PACKAGES.join(' ')}`;

interface Adapter {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string };
}
interface WebGpuModule {
  create: (flags: string[]) => { requestAdapter: () => Promise<Adapter | null> };
  globals: Record<string, unknown>;
}

/** Finds a WebGPU adapter and installs navigator.gpu; else the reason there is none. */
export async function probeWebGpu(importer: Importer = importPackage): Promise<{ ok: true; device: DeviceInfo } | { ok: false; reason: string }> {
  let mod: WebGpuModule;
  try {
    mod = (await importer('webgpu')) as WebGpuModule;
  } catch {
    return { ok: false, reason: `the opt-in package "webgpu" is not installed: ${INSTALL_WEBGPU}` };
  }
  let gpu: ReturnType<WebGpuModule['create']>;
  try {
    Object.assign(globalThis, mod.globals);
    gpu = mod.create([]);
  } catch (err) {
    return { ok: false, reason: `Dawn failed to start (${(err as Error).message.split('\n')[0]})` };
  }
  const adapter = await gpu.requestAdapter();
  if (!adapter) return { ok: false, reason: 'no WebGPU adapter: Dawn found no Vulkan driver and GPU' };
  // tfjs-backend-webgpu looks for navigator.gpu.
  const nav = ((globalThis as { navigator?: object }).navigator ?? {}) as Record<string, unknown>;
  Object.defineProperty(globalThis, 'navigator', { value: { ...nav, gpu }, configurable: true, writable: true });
  const info = adapter.info ?? {};
  const name = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'unknown adapter';
  return { ok: true, device: { gpu: true, name } };
}

/** Registers the tfjs WebGPU backend (after probeWebGpu succeeded). */
export async function registerWebGpu(importer: Importer = importPackage): Promise<string | undefined> {
  try {
    await importer('@tensorflow/tfjs-backend-webgpu');
    return undefined;
  } catch {
    return `the opt-in package "@tensorflow/tfjs-backend-webgpu" is not installed: ${INSTALL_WEBGPU}`;
  }
}

type Probe = Awaited<ReturnType<typeof probeWebGpu>>;

/**
 * probeWebGpu in a child process, for `doctor`: Dawn prints its native warnings (with C++ source
 * lines) straight to the process's stderr, so the probe runs where that output can be dropped.
 */
export function probeWebGpuQuietly(): Probe {
  const self = new URL(import.meta.url).href;
  const script = `import(${JSON.stringify(self)}).then((m) => m.probeWebGpu()).then((p) => process.stdout.write(JSON.stringify(p)), (e) => process.stdout.write(JSON.stringify({ ok: false, reason: String(e?.message ?? e) })))`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' });
  try {
    return JSON.parse(r.stdout) as Probe;
  } catch {
    return { ok: false, reason: `the WebGPU probe ${r.signal ? `was killed (${r.signal})` : `exited with code ${r.status}`}` };
  }
}
