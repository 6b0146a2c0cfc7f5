/**
 * Whether the ORT engine keeps a run's training state and training set on the device (config key
 * `deviceResident`, src/engines/ort/device-tensors.ts): the key's decision table, in one place.
 * Built for the MLP on ort-webgpu only: onnxruntime-node 1.30's binding binds device outputs
 * ('gpu-buffer') to the WebGPU provider's allocator alone (its one device memory name is
 * "WebGPU_Buffer"; it names no CUDA allocator), so ort-cuda cannot take this path with that
 * binding, and on ort-cpu the host is the device.
 */
import { UsageError } from '../core/errors.js';
import { DEFAULTS, type BackendName, type ResolvedConfig } from './config.js';

/**
 * What `auto` does per backend that can do it; a backend not listed cannot. ort-webgpu: off for now,
 * though it measured no slower on SwiftShader (docs/performance.md#device-resident-state): one run of
 * test/engine-ort.test.ts there with it on gave a baseline accuracy of 0.13 against wasm's 0.09 at
 * step 6, not seen again in a rerun or four smaller runs, so `on` stays opt-in until that is settled.
 */
export const DEVICE_RESIDENT_AUTO: Partial<Record<BackendName, boolean>> = { 'ort-webgpu': false };

type Keys = Pick<ResolvedConfig, 'deviceResident' | 'model'>;

/** The usage error of `deviceResident: on` where it is not built (`where` starts the sentence), else undefined. */
export function deviceResidentRefusal(c: Keys, backend: string, where: string): UsageError | undefined {
  if (c.deviceResident !== 'on' || backend === 'auto') return undefined;
  if (DEVICE_RESIDENT_AUTO[backend as BackendName] !== undefined && c.model.kind === 'mlp') return undefined;
  const what = c.model.kind === 'mlp' ? `the ${backend} backend` : 'the CNN';
  return new UsageError(
    `${where}config key "deviceResident" is "on", but device-resident training is built for the MLP on ort-webgpu only, not for ${what}; use --backend ort-webgpu or set "deviceResident" to "auto" or "off".`,
  );
}

/**
 * Whether runs on `backend` (the one initBackend chose) keep their state on the device; `on` where
 * it is not built throws. A folder written before the key existed resumes with its default.
 */
export function deviceResidentFor(c: Keys, backend: string): boolean {
  const refusal = deviceResidentRefusal(c, backend, '');
  if (refusal) throw refusal;
  const mode = c.deviceResident ?? DEFAULTS.deviceResident;
  if (mode !== 'auto') return mode === 'on';
  return DEVICE_RESIDENT_AUTO[backend as BackendName] === true && c.model.kind === 'mlp';
}
