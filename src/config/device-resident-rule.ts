/**
 * Whether the ORT engine keeps a run's training state and training set on the device (config key
 * `deviceResident`, src/engines/ort/device-tensors.ts): the key's decision table, in one place.
 * Built for the MLP on ort-webgpu only: onnxruntime-node 1.30's binding binds device outputs
 * ('gpu-buffer') to the WebGPU provider's allocator alone (its one device memory name is
 * "WebGPU_Buffer"; it names no CUDA allocator), so ort-cuda cannot take this path with that
 * binding, and on ort-cpu the host is the device.
 */
import { UsageError } from '../core/errors.js';
import type { BackendName, ResolvedConfig } from './config.js';

/** What `auto` does per backend that can do it; a backend not listed cannot. */
export const DEVICE_RESIDENT_AUTO: Partial<Record<BackendName, boolean>> = { 'ort-webgpu': true };

/** The usage error of `deviceResident: on` where it is not built (`where` starts the sentence), else undefined. */
export function deviceResidentRefusal(
  c: Pick<ResolvedConfig, 'deviceResident' | 'backend' | 'model'>,
  backend: BackendName,
  where: string,
): UsageError | undefined {
  if (c.deviceResident !== 'on' || backend === 'auto') return undefined;
  if (DEVICE_RESIDENT_AUTO[backend] !== undefined && c.model.kind === 'mlp') return undefined;
  const what = c.model.kind === 'mlp' ? `the ${backend} backend` : 'the CNN';
  return new UsageError(
    `${where}config key "deviceResident" is "on", but device-resident training is built for the MLP on ort-webgpu only, not for ${what}; use --backend ort-webgpu or set "deviceResident" to "auto" or "off".`,
  );
}

/** Whether runs on `backend` (the one initBackend chose) keep their state on the device; `on` where it is not built throws. */
export function deviceResidentFor(c: Pick<ResolvedConfig, 'deviceResident' | 'backend' | 'model'>, backend: BackendName): boolean {
  const refusal = deviceResidentRefusal(c, backend, '');
  if (refusal) throw refusal;
  if (c.deviceResident !== 'auto') return c.deviceResident === 'on';
  return DEVICE_RESIDENT_AUTO[backend] === true && c.model.kind === 'mlp';
}
