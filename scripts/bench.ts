/**
 * `npm run bench [-- --full] [-- --backends wasm,cpu]`: speed of the training step per arm on
 * every backend that loads here (tensorflow, webgpu, ort-cpu, ort-webgpu, ort-cuda, wasm, cpu), in
 * ms per step and run-steps per second, the tfjs ones against the straightforward tfjs
 * loop (ratio naive/ours, since absolute times drift on a shared machine), the cost of one evaluation, the projected full-protocol time, peak memory,
 * and with --full the measured wall time of the whole paper protocol. Prints a table and writes
 * results/bench-<UTC timestamp>.json. `--count`: the kernels dispatched per step instead
 * (bench-count.ts); with --full as well, beside the timings.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/engines/backend.js';
import type { Arm } from '../src/config/config.js';
import { resolveConfig } from '../src/config/resolve.js';
import { armsOf } from '../src/config/runs.js';
import { loadDataset } from '../src/data/load.js';
import { jobsFor } from '../src/experiment.js';
import { consoleLogger, silentLogger } from '../src/core/logger.js';
import { countDispatches } from './bench-count.js';
import { dispatchTable, stackSizes } from './bench-count-trace.js';
import { writeBenchJson } from './bench-output.js';
import { engineEvaluationMs, engineMsPerStep } from './bench-engine.js';
import { stackedMsPerCall } from './bench-stacked.js';
import { ORT_BACKENDS } from '../src/engines/ort/runtime.js';
import { evaluationMs, measurementMs, naiveMsPerStep, oursMsPerStep, type Budget } from './bench-measure.js';

const { values: args } = parseArgs({
  options: {
    full: { type: 'boolean', default: false },
    backends: { type: 'string', default: 'tensorflow,webgpu,ort-cpu,ort-webgpu,ort-cuda,wasm,cpu' },
    stacked: { type: 'string', default: '1,2,6,30' },
    count: { type: 'boolean', default: false },
  },
});
const logger = consoleLogger({ quiet: false });
const stacks = (() => {
  try {
    return stackSizes(args.stacked);
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    process.exit(2);
  }
})();
const config = resolveConfig('configs/paper.json', {});
const shared = '../shared/data/mnist';
const env = { ...process.env, BN_REPRO_DATA: process.env.BN_REPRO_DATA ?? (existsSync(shared) ? shared : undefined) };
// No download here: full MNIST if a folder has it, else the embedded digits.
const data = await loadDataset({ ...config, data: { ...config.data, mirrors: [] } }, { logger: silentLogger, env });
logger.info(
  `data: ${data.source} (${data.train.count} train, ${data.test.count} test); protocol: ${config.train.steps} steps, eval every ${config.eval.every}`,
);

const dispatches = args.count ? await countDispatches(config, data, args.backends.split(','), stacks, logger) : undefined;
if (dispatches) console.log(`\nkernels dispatched per step (K runs per call):\n${dispatchTable(dispatches)}`);
if (dispatches && !args.full) {
  // --count alone: the dispatch table only.
  console.log(`written: ${writeBenchJson({ data: data.source, dispatches })}`);
  process.exit(0);
}

/** Steps timed per backend: the slow paths get fewer. */
const BUDGETS: Record<string, { ours: Budget; naive: Budget }> = {
  tensorflow: { ours: { warmup: 50, chunks: 20, stepsPerChunk: 50 }, naive: { warmup: 10, chunks: 10, stepsPerChunk: 10 } },
  webgpu: { ours: { warmup: 50, chunks: 20, stepsPerChunk: 50 }, naive: { warmup: 10, chunks: 10, stepsPerChunk: 10 } },
  wasm: { ours: { warmup: 50, chunks: 20, stepsPerChunk: 50 }, naive: { warmup: 3, chunks: 5, stepsPerChunk: 5 } },
  cpu: { ours: { warmup: 5, chunks: 5, stepsPerChunk: 10 }, naive: { warmup: 2, chunks: 3, stepsPerChunk: 5 } },
};
/** The ONNX Runtime engines: one graph call per step; no naive loop (that one is tfjs autodiff). */
const ORT_BUDGET: Budget = { warmup: 100, chunks: 20, stepsPerChunk: 100 };
const STACKED_BUDGET: Budget = { warmup: 10, chunks: 5, stepsPerChunk: 20 };

/** K runs stepped by one ORT graph call (bench-stacked.ts). */
interface StackedRow {
  backend: string;
  k: number;
  msPerCall: number;
  runStepsPerSecond: number;
}
const stacked: StackedRow[] = [];

interface Row {
  backend: string;
  arm: Arm;
  oursMsPerStep: number;
  /** 1000 / oursMsPerStep: one run's steps per second. */
  runStepsPerSecond: number;
  /** null for the ONNX Runtime engines. */
  naiveMsPerStep: number | null;
  naiveOverOurs: number | null;
  evaluationMs: number;
  /** One ICS + landscape measurement (configs/landscape.json). */
  measurementMs: number;
  projectedArmS: number;
  /** The arm's projected time with configs/landscape.json's measurements, over projectedArmS. */
  landscapeFactor: number;
}
const rows: Row[] = [];
const evaluations = Math.floor(config.train.steps / config.eval.every) + 1;
const landscapeConfig = resolveConfig('configs/landscape.json', {});
const measurements = Math.floor(config.train.steps / (config.eval.every * landscapeConfig.eval.landscape.every)) + 1;
for (const name of args.backends.split(',')) {
  try {
    const info = await initBackend(name as 'wasm', silentLogger);
    if (info.name !== name) continue;
  } catch {
    logger.info(`backend ${name}: not available here, skipped`);
    continue;
  }
  const onnx = name.startsWith('ort-');
  for (const arm of armsOf('both')) {
    const ours = onnx ? await engineMsPerStep(config, data, arm, ORT_BUDGET) : oursMsPerStep(config, data, arm, BUDGETS[name].ours);
    const naive = onnx ? null : naiveMsPerStep(config, data, arm, BUDGETS[name].naive);
    const evalMs = onnx ? await engineEvaluationMs(config, data, arm, 5) : await evaluationMs(config, data, arm, name === 'cpu' ? 1 : 5);
    // The landscape measurements run on tfjs (beside ORT on wasm for the ORT engines).
    const measureMs = await measurementMs(landscapeConfig, data, arm, name === 'cpu' ? 1 : 5);
    const projectedArmS = (config.train.steps * ours + evaluations * evalMs) / 1000;
    const landscapeFactor = (projectedArmS + (measurements * measureMs) / 1000) / projectedArmS;
    rows.push({
      backend: name,
      arm,
      oursMsPerStep: ours,
      runStepsPerSecond: 1000 / ours,
      naiveMsPerStep: naive,
      naiveOverOurs: naive === null ? null : naive / ours,
      evaluationMs: evalMs,
      measurementMs: measureMs,
      projectedArmS,
      landscapeFactor,
    });
    logger.info(
      `${name} ${arm}: ${ours.toFixed(3)} ms/step (naive ${naive?.toFixed(1) ?? '-'}), evaluation ${evalMs.toFixed(0)} ms, measurement ${measureMs.toFixed(0)} ms`,
    );
  }
  if (!onnx) continue;
  for (const k of stacks) {
    const ms = await stackedMsPerCall(config, data, ORT_BACKENDS[name as keyof typeof ORT_BACKENDS], k, STACKED_BUDGET);
    stacked.push({ backend: name, k, msPerCall: ms, runStepsPerSecond: (k * 1000) / ms });
    logger.info(`${name} stacked K=${k}: ${ms.toFixed(2)} ms per call, ${((k * 1000) / ms).toFixed(0)} run-steps/s`);
  }
}

const jobs = jobsFor(config);
const projected = Object.fromEntries(
  [...new Set(rows.map((r) => r.backend))].map((b) => {
    const arms = rows.filter((r) => r.backend === b).map((r) => r.projectedArmS);
    // Two arms on `jobs` cores: side by side when jobs >= 2, else one after the other.
    return [b, jobs >= 2 ? Math.max(...arms) : arms.reduce((a, x) => a + x, 0)];
  }),
);

/** The whole paper protocol through the real CLI in a child process, so its memory is its own. */
let full: { wallS: number; backend: string; peakRssMiB: number; finalAccuracy: Record<string, number> } | undefined;
if (args.full) {
  const out = join(mkdtempSync(join(tmpdir(), 'bn-repro-bench-')), 'run');
  const t0 = performance.now();
  const child = spawnSync(process.execPath, ['bin/bn-repro', 'mnist', '--config', 'configs/paper.json', '--out', out, '--quiet'], { env, stdio: 'inherit' });
  const wallS = (performance.now() - t0) / 1000;
  if (child.status !== 0) throw new Error(`the full protocol run failed with exit code ${child.status}`);
  const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as {
    backend: { name: string };
    peakRssMiB: number;
    runs: { arm: string; finalTestAccuracy: number }[];
  };
  full = { wallS, backend: run.backend.name, peakRssMiB: run.peakRssMiB, finalAccuracy: Object.fromEntries(run.runs.map((r) => [r.arm, r.finalTestAccuracy])) };
  rmSync(dirname(out), { recursive: true, force: true });
}
const peakRssMiB = process.resourceUsage().maxRSS / 1024;

const pad = (s: string | number, n: number) => String(s).padStart(n);
console.log(
  `\n${'backend'.padEnd(11)}${'arm'.padEnd(9)}${pad('ours ms/step', 13)}${pad('steps/s', 9)}${pad('naive ms/step', 14)}${pad('naive/ours', 11)}${pad('eval ms', 9)}${pad('measure ms', 11)}${pad('arm s (proj.)', 14)}${pad('x landscape', 12)}`,
);
for (const r of rows) {
  console.log(
    `${r.backend.padEnd(11)}${r.arm.padEnd(9)}${pad(r.oursMsPerStep.toFixed(3), 13)}${pad(r.runStepsPerSecond.toFixed(0), 9)}${pad(r.naiveMsPerStep?.toFixed(1) ?? '-', 14)}${pad(r.naiveOverOurs === null ? '-' : `${r.naiveOverOurs.toFixed(1)}x`, 11)}${pad(r.evaluationMs.toFixed(0), 9)}${pad(r.measurementMs.toFixed(0), 11)}${pad(r.projectedArmS.toFixed(0), 14)}${pad(`${r.landscapeFactor.toFixed(2)}x`, 12)}`,
  );
}
for (const [b, s] of Object.entries(projected)) console.log(`full protocol, both arms, ${jobs} jobs, ${b}: ${s.toFixed(0)} s projected`);
if (stacked.length > 0)
  console.log(
    `\nstacked ORT step (K runs, one graph call: the engine of --lockstep on):\n${'backend'.padEnd(11)}${pad('K', 4)}${pad('ms/call', 10)}${pad('run-steps/s', 13)}`,
  );
for (const r of stacked) console.log(`${r.backend.padEnd(11)}${pad(r.k, 4)}${pad(r.msPerCall.toFixed(2), 10)}${pad(r.runStepsPerSecond.toFixed(0), 13)}`);
console.log(
  `x landscape: an arm's projected time with configs/landscape.json (${measurements} measurements, every ${landscapeConfig.eval.landscape.every} evaluation(s)) over its time without (target: at most 1.5x)`,
);
if (full) {
  console.log(
    `full protocol measured (${full.backend}, ${jobs} jobs): ${full.wallS.toFixed(1)} s wall, peak memory ${full.peakRssMiB.toFixed(0)} MiB; final accuracy ${JSON.stringify(full.finalAccuracy)}`,
  );
}
console.log(`peak memory of this benchmark process (all backends, naive loops included): ${peakRssMiB.toFixed(0)} MiB`);

const file = writeBenchJson({
  jobs,
  data: data.source,
  rows,
  stacked,
  projectedFullProtocolS: projected,
  full,
  peakRssMiB,
  dispatches,
});
console.log(`written: ${file}`);
