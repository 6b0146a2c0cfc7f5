#!/usr/bin/env bash
# The run script of the GPU archive (scripts/gpu-pack.sh copies it in as bn-repro/run.sh): on a
# bare Linux x86-64 machine with an NVIDIA driver and no Node.js, runs with the bundled Node 20 and
# Vulkan loader: nvidia-smi, `bn-repro doctor`, the engine tests (dist/test/engine-ort.test.js,
# node:test) on ort-webgpu and on ort-cuda when its provider loads, the bench on every engine that
# loads, the paper protocol over 3 seeds on the fastest GPU engine (ort-cpu when none loads), then
# plot and report. Every step is time-limited; each writes a log, and summary.md says what ran,
# how long and its exit code. Everything lands in a new folder gpu-<UTC time> under
# $BN_REPRO_GPU_OUT, else $OUT, else ./gpu-results; nothing already there is touched.
# BN_REPRO_GPU_DRY_RUN=1 shrinks it for a dry run (10 test steps, the bench on ort-cpu only,
# 60 protocol steps on 500 test images, 1 seed: SwiftShader emulates the GPU at seconds a step). Exit: 0 when every step that ran exited 0, else 1.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BASE=$(realpath -m "${BN_REPRO_GPU_OUT:-${OUT:-$PWD/gpu-results}}")
DRY=${BN_REPRO_GPU_DRY_RUN:-0}
RESULTS=$BASE/gpu-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$BASE" && mkdir "$RESULTS" || { echo "error: cannot create the results folder $RESULTS." >&2; exit 1; }
export PATH="$HERE/node/bin:$PATH"
export LD_LIBRARY_PATH="$HERE/lib/vulkan${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
cd "$HERE"

# Time limits per step, in seconds (the budget: their sum, about 2 h 40 min with ort-cuda).
LIMIT_DOCTOR=180 LIMIT_TESTS=900 LIMIT_BENCH=1800 LIMIT_PROTOCOL=5400 LIMIT_PLOT=300 LIMIT_REPORT=120
TEST_STEPS=2000 BENCH_ARGS=() PROTOCOL_ARGS=(--seeds 3)
if [ "$DRY" = 1 ]; then
  TEST_STEPS=10 BENCH_ARGS=(--backends ort-cpu --stacked 1) PROTOCOL_ARGS=(--seeds 1 --steps 60 --eval-every 30 --test-subset 500)
  LIMIT_TESTS=600 LIMIT_BENCH=600 LIMIT_PROTOCOL=900
fi
SUMMARY=$RESULTS/summary.md
FAILED=0
note() { echo "gpu-run: $*"; echo "- $*" >>"$SUMMARY"; }
{
  echo "# bn-repro GPU run, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo "host $(uname -n), $(nproc) cores; node $(node --version 2>&1); dry run: $([ "$DRY" = 1 ] && echo yes || echo no); folder: $RESULTS"
  echo
} >"$SUMMARY"
STEPS_TABLE=$RESULTS/.steps
: >"$STEPS_TABLE"
# step NAME LIMIT_S COMMAND...: runs it under `timeout`, output to the terminal and NAME.log.
step() {
  local name=$1 limit=$2; shift 2
  echo "gpu-run: == $name (limit ${limit} s): $*"
  local t0=$SECONDS
  timeout -k 15 "$limit" "$@" 2>&1 | tee "$RESULTS/$name.log"
  local rc=${PIPESTATUS[0]}
  local took=$((SECONDS - t0))
  [ "$rc" = 0 ] || FAILED=1
  local why=""; [ "$rc" = 124 ] || [ "$rc" = 137 ] && why=" (timed out)"
  echo "gpu-run: == $name: exit $rc$why after ${took} s"
  echo "| $name | $rc$why | $took | $limit | \`$*\` |" >>"$STEPS_TABLE"
  return "$rc"
}

if command -v nvidia-smi >/dev/null; then step nvidia-smi 60 nvidia-smi; else note "nvidia-smi not found: no NVIDIA driver visible"; fi
step doctor "$LIMIT_DOCTOR" node bin/bn-repro doctor
loads() { grep -qE "^  $1 +available" "$RESULTS/doctor.log" 2>/dev/null; }
note "tfjs-node-gpu (--backend tensorflow) is not bundled: it needs CUDA 11.2 and cuDNN 8.1 and downloads libtensorflow at install"
note "ONNX Runtime's CUDA provider is not bundled (npm_config_onnxruntime_node_install=cuda12 npm ci fetches it from NuGet); ort-cuda $(loads ort-cuda && echo loads here || echo does not load)"

for engine in ort-webgpu ort-cuda; do
  if loads "$engine"; then
    step "test-$engine" "$LIMIT_TESTS" env BN_REPRO_ORT_BACKEND="$engine" BN_REPRO_ORT_STEPS="$TEST_STEPS" node --test --test-concurrency=1 dist/test/engine-ort.test.js dist/test/lockstep.test.js
  else
    note "engine tests on $engine skipped: it does not load (see doctor.log)"
  fi
done

[ "$DRY" = 1 ] && note "dry run: the bench on ort-cpu only, K=1 (ort-webgpu on SwiftShader would take hours)"
step bench "$LIMIT_BENCH" node dist/scripts/bench.js "${BENCH_ARGS[@]}"
# Kernels and GPU programs dispatched per step, per engine, single and stacked (seconds).
step bench-count "$LIMIT_BENCH" node dist/scripts/bench.js "${BENCH_ARGS[@]}" --count
BENCH_JSON=$(sed -n 's/^written: //p' "$RESULTS/bench.log" | tail -n 1)
if [ -n "$BENCH_JSON" ] && [ -f "$BENCH_JSON" ]; then mv "$BENCH_JSON" "$RESULTS/bench.json"; else BENCH_JSON=""; note "the bench wrote no JSON"; fi

# The fastest GPU engine by the bench (both arms' ms per step summed), else the first that loads.
ENGINE=""
if [ -n "$BENCH_JSON" ]; then
  ENGINE=$(node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).rows; const t = {}; for (const x of r) if (x.backend === "ort-webgpu" || x.backend === "ort-cuda") t[x.backend] = (t[x.backend] ?? 0) + x.oursMsPerStep; const b = Object.entries(t).sort((a, c) => a[1] - c[1])[0]; if (b) console.log(b[0]);' "$RESULTS/bench.json")
  [ -n "$ENGINE" ] && note "protocol engine: $ENGINE, the fastest GPU engine in the bench"
fi
if [ -z "$ENGINE" ]; then
  for e in ort-cuda ort-webgpu; do loads "$e" && { ENGINE=$e; note "protocol engine: $e, a GPU engine that loads (not timed by the bench)"; break; }; done
fi
[ -n "$ENGINE" ] || { ENGINE=ort-cpu; note "no GPU engine loads: the protocol falls back to ort-cpu"; }
# The seeds and both arms in lockstep on a GPU engine: one stacked graph call per step for all runs.
LOCKSTEP=(); [ "$ENGINE" = ort-cpu ] || { LOCKSTEP=(--lockstep on); note "the protocol trains its runs in lockstep on $ENGINE"; }
# One worker thread on a GPU engine: ort-webgpu in two worker threads segfaults (exit 139, seen
# on SwiftShader with --jobs 2), and the runs share one device anyway.
JOBS=(); [ "$ENGINE" = ort-cpu ] || { JOBS=(--jobs 1); note "the protocol runs with --jobs 1 on $ENGINE (ort-webgpu segfaults in two worker threads)"; }
RUN=$RESULTS/paper-3seeds
step protocol "$LIMIT_PROTOCOL" node bin/bn-repro mnist --config configs/paper.json --data full --backend "$ENGINE" "${PROTOCOL_ARGS[@]}" "${JOBS[@]}" "${LOCKSTEP[@]}" --out "$RUN"
PROTOCOL_RC=$?
if [ "$PROTOCOL_RC" = 0 ]; then
  step plot "$LIMIT_PLOT" node bin/bn-repro plot "$RUN"
  step report "$LIMIT_REPORT" node bin/bn-repro report "$RUN"
else
  note "plot and report skipped: the protocol exited $PROTOCOL_RC (its folder, if any, can be resumed: bn-repro mnist --resume $RUN)"
fi

{
  echo
  echo "| step | exit | seconds | limit s | command |"
  echo "| --- | --- | ---: | ---: | --- |"
  cat "$STEPS_TABLE"
} >>"$SUMMARY"
rm -f "$STEPS_TABLE"
echo "gpu-run: summary: $SUMMARY"
cat "$SUMMARY"
exit "$FAILED"
