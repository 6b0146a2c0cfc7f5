/**
 * Loading onnxruntime-node and its execution providers. The package is imported lazily, so runs
 * on the tfjs backends never load ORT's native library. The provider a process trains on is
 * chosen once by initBackend (like tfjs's active backend, a process-wide setting: each worker
 * thread initialises its own); sessions are created per run by the engine.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import type * as OrtModule from 'onnxruntime-node';
import { ORT_INTRA_OP_THREADS, type OrtBackendName } from '../../config/config.js';
import { GraphBuilder } from './graph.js';
import type { LogSoftmaxForm } from './net-graph.js';

export type Ort = typeof OrtModule;
export type OrtProvider = 'cpu' | 'webgpu' | 'cuda';

export const ORT_BACKENDS: Record<OrtBackendName, OrtProvider> = { 'ort-cpu': 'cpu', 'ort-webgpu': 'webgpu', 'ort-cuda': 'cuda' };

/**
 * The loss's log-softmax per provider. WebGPU: ORT 1.30's WebGPU provider has no LogSoftmax kernel,
 * so the op form ran on the CPU with a copy each way; the reduce form runs every node on the GPU.
 * CPU and CUDA keep the single op: on ORT's CPU provider the reduce form differs in the last bits
 * (6e-7 after 300 BN steps), and today's rows there stay as they were.
 */
export const LOG_SOFTMAX: Record<OrtProvider, LogSoftmaxForm> = { cpu: 'op', webgpu: 'reduce', cuda: 'op' };

/** How to get the CUDA provider, which ORT's install downloads from NuGet only when asked. */
export const INSTALL_ORT_CUDA = 'npm_config_onnxruntime_node_install=cuda12 npm ci';

let active: OrtProvider | undefined;

/** The provider initBackend chose for this thread, or undefined when a tfjs backend trains. */
export function activeOrtProvider(): OrtProvider | undefined {
  return active;
}

export function setActiveOrtProvider(provider: OrtProvider | undefined): void {
  active = provider;
}

export async function loadOrt(): Promise<Ort> {
  return (await import('onnxruntime-node')) as Ort;
}

export function ortVersion(): string {
  try {
    return (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

/** Session options of every engine session: one provider, fixed threads, ORT's own warnings off. */
export function sessionOptions(provider: OrtProvider): OrtModule.InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    intraOpNumThreads: ORT_INTRA_OP_THREADS,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  };
}

/** `bundled`: what onnxruntime-node's listSupportedBackends() says of the provider (undefined: not listed). */
export type ProviderProbe = { ok: true; detail: string } | { ok: false; reason: string; bundled?: boolean };

/** Whether `provider` loads here and runs a one-node graph, in this process. */
export async function probeProvider(provider: OrtProvider): Promise<ProviderProbe> {
  let bundled: boolean | undefined;
  try {
    const ort = await loadOrt();
    bundled = ort.listSupportedBackends().find((b) => b.name === provider)?.bundled;
    const g = new GraphBuilder('float32');
    g.output('b', g.sigmoid(g.input('a', [1])), [1]);
    const session = await ort.InferenceSession.create(g.encode(), sessionOptions(provider));
    await session.run({ a: new ort.Tensor('float32', new Float32Array([0]), [1]) });
    await session.release();
    return { ok: true, detail: bundled ? 'bundled with onnxruntime-node' : 'installed' };
  } catch (err) {
    return { ok: false, reason: String((err as Error).message ?? err).split('\n')[0], bundled };
  }
}

/**
 * probeProvider in a child process: a provider that fails (no Vulkan adapter for WebGPU, no CUDA
 * library) prints native warnings where it runs, and a failed native load can abort the process.
 */
export function probeProviderQuietly(provider: OrtProvider): ProviderProbe {
  const self = new URL(import.meta.url).href;
  const script = `import(${JSON.stringify(self)}).then((m) => m.probeProvider(${JSON.stringify(provider)})).then((p) => process.stdout.write(JSON.stringify(p)), (e) => process.stdout.write(JSON.stringify({ ok: false, reason: String(e?.message ?? e) })))`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  try {
    return JSON.parse(r.stdout) as ProviderProbe;
  } catch {
    return { ok: false, reason: `the provider probe ${r.signal ? `was killed (${r.signal})` : `exited with code ${r.status}`}` };
  }
}

/**
 * ORT's error text without its C++ source location and check expression, e.g.
 * "/onnxruntime_src/...webgpu_context.cc:136 ... was false. Failed to get a WebGPU adapter: No
 * supported adapters" -> "failed to get a WebGPU adapter: No supported adapters".
 */
export function plainReason(message: string): string {
  const text = message
    .replace(/^.*\bwas false\.\s*/, '')
    .replace(/^[A-Za-z_]+Provider_?[A-Za-z]*:\s*/, '')
    .replace(/\.$/, '')
    .trim();
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** Why a provider does not load, for `doctor`'s table. */
export function providerDetail(name: OrtBackendName, probe: { reason: string; bundled?: boolean }): string {
  const listed = probe.bundled === undefined ? 'not listed' : probe.bundled ? 'bundled' : 'not bundled';
  const hint = name === 'ort-cuda' ? `; to install it: ${INSTALL_ORT_CUDA}` : '';
  return `${ORT_BACKENDS[name]} provider ${listed} in onnxruntime-node ${ortVersion()}: ${plainReason(probe.reason)}${hint}`;
}

/** One sentence for a provider that does not load, with what to do instead. */
export function whyNot(name: OrtBackendName, probe: { reason: string }): string {
  const hint = name === 'ort-cuda' ? ` (the CUDA provider is not installed by default: ${INSTALL_ORT_CUDA})` : '';
  return `The ${name} backend is not available: ${plainReason(probe.reason)}${hint}; use --backend ort-cpu or wasm.`;
}
