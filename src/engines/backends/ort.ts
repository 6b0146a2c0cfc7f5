/**
 * The ONNX Runtime backends (ort-cpu, ort-webgpu, ort-cuda): the provider must load and run a
 * graph here, else one sentence says why. tfjs still runs beside ORT on wasm (else cpu) for the
 * host-side work (initial weights, checkpoints, the landscape measurements).
 */
import type { OrtBackendName } from '../../config/config.js';
import { ORT_BACKENDS, ortVersion, probeProvider, probeProviderQuietly, setActiveOrtProvider, whyNot, type ProviderProbe } from '../ort/runtime.js';
import { UserError } from '../../core/errors.js';
import type { DeviceInfo } from './native.js';

export interface OrtInfo {
  provider: string;
  /** onnxruntime-node's version, recorded in run.json. */
  onnxruntime: string;
  device: DeviceInfo;
  /** The tfjs backend beside it. */
  tfjsBackend: string;
}

/** The real probe: in this process for the CPU provider, in a child process for the others. */
export async function probeOrtBackend(name: OrtBackendName): Promise<ProviderProbe> {
  const provider = ORT_BACKENDS[name];
  return provider === 'cpu' ? probeProvider(provider) : probeProviderQuietly(provider);
}

/** Selects the provider for this thread when `probe` finds it working; else one sentence says why not. */
export async function initOrt(
  name: OrtBackendName,
  activate: (tfjsBackend: string) => Promise<boolean>,
  probe: (name: OrtBackendName) => Promise<ProviderProbe>,
): Promise<OrtInfo> {
  const provider = ORT_BACKENDS[name];
  const result = await probe(name);
  if (!result.ok) throw new UserError(whyNot(name, result));
  const tfjsBackend = (await activate('wasm')) ? 'wasm' : (await activate('cpu')) ? 'cpu' : undefined;
  if (!tfjsBackend) throw new UserError(`The ${name} backend needs tfjs's wasm or cpu backend beside it, and neither initialised.`);
  setActiveOrtProvider(provider);
  const device: DeviceInfo = provider === 'cpu' ? { gpu: false } : { gpu: true, note: `ONNX Runtime ${provider} execution provider (${result.detail})` };
  return { provider, onnxruntime: ortVersion(), device, tfjsBackend };
}
