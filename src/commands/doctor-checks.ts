/**
 * `bn-repro doctor`: which backends can run here and why not, which one `auto` picks, and where
 * the MNIST files are and whether their checksums hold. Probes for real; assumes nothing.
 */
import { realDeps, versionOf, type BackendDeps } from '../engines/backend.js';
import { ORT_BACKENDS, ortVersion, providerDetail } from '../engines/ort/runtime.js';
import type { OrtBackendName } from '../config/config.js';
import { loadNative, nativeDevice } from '../engines/backends/native.js';
import { probeWebGpu, probeWebGpuQuietly, registerWebGpu } from '../engines/backends/webgpu.js';
import { MNIST_KEYS, hasAllFiles, readMnistFile } from '../data/mnist-files.js';
import { defaultDataDirs, fullSources, whyUnusable, type DataDirs } from '../data/sources.js';
import { UserError } from '../core/errors.js';

export interface BackendCheck {
  name: string;
  available: boolean;
  detail: string;
}

export async function checkBackends(deps: BackendDeps = realDeps): Promise<{ checks: BackendCheck[]; autoPick: string }> {
  const checks: BackendCheck[] = [];
  const native = await loadNative(deps.importer);
  if (native.pkg && (await deps.activate('tensorflow'))) {
    const d = nativeDevice(native.pkg);
    checks.push({
      name: 'tensorflow',
      available: true,
      detail: `${native.pkg} ${versionOf(native.pkg)}; ${d.gpu ? `GPU: ${d.name ?? 'yes'}` : (d.note ?? 'CPU only')}`,
    });
  } else {
    const why = native.pkg
      ? `${native.pkg} loaded but did not initialise`
      : `${native.reasons.join('; ')} (tfjs-node-gpu's install downloads libtensorflow and needs internet access)`;
    checks.push({ name: 'tensorflow', available: false, detail: why });
  }
  // The real probe runs in a child process so that Dawn's native warnings stay off the terminal.
  const webgpu = deps === realDeps ? probeWebGpuQuietly() : await probeWebGpu(deps.importer);
  if (webgpu.ok) {
    const missing = await registerWebGpu(deps.importer);
    checks.push({ name: 'webgpu', available: !missing, detail: missing ?? `experimental; adapter: ${webgpu.device.name}` });
  } else {
    checks.push({ name: 'webgpu', available: false, detail: webgpu.reason });
  }
  // ONNX Runtime: the GPU providers are tried in a child process (a failing one prints native warnings).
  for (const name of Object.keys(ORT_BACKENDS) as OrtBackendName[]) {
    const probe = deps.probeOrt ? await deps.probeOrt(name) : { ok: false as const, reason: 'onnxruntime-node is not part of this world' };
    checks.push({
      name,
      available: probe.ok,
      detail: probe.ok ? `onnxruntime-node ${ortVersion()}, ${ORT_BACKENDS[name]} execution provider (${probe.detail})` : providerDetail(name, probe),
    });
  }
  const wasm = await deps.activate('wasm');
  checks.push({
    name: 'wasm',
    available: wasm,
    detail: wasm ? `@tensorflow/tfjs-backend-wasm ${versionOf('@tensorflow/tfjs-backend-wasm')} (XNNPACK, SIMD)` : 'failed to initialise',
  });
  const cpu = await deps.activate('cpu');
  checks.push({ name: 'cpu', available: cpu, detail: cpu ? 'plain JavaScript: the slow fallback' : 'failed to initialise' });
  const autoPick = ['tensorflow', 'ort-cpu', 'wasm', 'cpu'].find((n) => checks.find((c) => c.name === n)?.available) ?? 'none';
  return { checks, autoPick };
}

/** One line per source that would be tried, in order, with its checksums, up to the one a run would use. */
export function checkData(dataDir: string, env: NodeJS.ProcessEnv, dirs: DataDirs = defaultDataDirs()): string[] {
  const lines: string[] = [];
  for (const source of fullSources(dataDir, env, dirs)) {
    const name = `  ${source.origin}: ${source.dir}:`;
    if (!hasAllFiles(source.dir)) {
      lines.push(`${name} ${source.explicit ? `UNUSABLE: ${whyUnusable(source)} bn-repro mnist will stop with this error` : 'no MNIST files'}`);
      if (source.explicit) return lines;
      continue;
    }
    const bad = MNIST_KEYS.flatMap((k) => {
      try {
        readMnistFile(source.dir, k, true);
        return [];
      } catch (err) {
        return [err instanceof UserError ? err.message : String(err)];
      }
    });
    lines.push(`${name} ${bad.length === 0 ? 'all 4 files, sha256 checks pass: a run uses this one' : `BAD: ${bad.join(' ')} A run stops with this error`}`);
    return lines;
  }
  lines.push(`  none found: bn-repro mnist will download it into ${dirs.cache}, or (--data auto) fall back to the embedded digits`);
  return lines;
}

export async function doctorReport(dataDir: string, env: NodeJS.ProcessEnv, deps?: BackendDeps): Promise<string> {
  const { checks, autoPick } = await checkBackends(deps);
  const lines = ['backends:'];
  for (const c of checks) lines.push(`  ${c.name.padEnd(11)} ${(c.available ? 'available' : 'not available').padEnd(14)} ${c.detail}`);
  lines.push(`--backend auto would use: ${autoPick}`, `CUDA_VISIBLE_DEVICES: ${env.CUDA_VISIBLE_DEVICES ?? '(unset)'}`, 'MNIST data (searched in this order):');
  lines.push(...checkData(dataDir, env));
  return `${lines.join('\n')}\n`;
}
