#!/usr/bin/env bash
# `npm run test:webgpu`: the engine-equality and determinism tests of test/engine-ort.test.ts on
# ort-webgpu, without a GPU: SwiftShader's Vulkan driver and a Vulkan loader, both shipped in
# Debian 12's chromium-common, unpacked (no browser installed) into a folder outside git. Dawn,
# inside onnxruntime-node, then finds SwiftShader as its adapter. SwiftShader emulates the GPU on
# the CPU (about 0.6 s a step here), so the run is short: BN_REPRO_ORT_STEPS steps (default 60);
# then one tiny lockstep case of test/lockstep.test.ts (BN_REPRO_LOCKSTEP_STEPS, default 20).
# Before those, tfjs's own `webgpu` backend: its opt-in packages installed with --no-save where
# missing, then test/webgpu-tfjs*.test.ts (BN_REPRO_TFJS_WEBGPU=0 leaves that part out).
# `scripts/test-webgpu.sh --prepare` only unpacks and installs (no tests): .ci/run does that first,
# so that the tests can then run beside `npm test` without npm changing node_modules under it.
set -euo pipefail
prepare_only=
case "${1:-}" in
"") ;;
--prepare) prepare_only=1 ;;
*)
  echo "usage: scripts/test-webgpu.sh [--prepare]   (--prepare: unpack and install only, no tests)" >&2
  exit 2
  ;;
esac
cd "$(dirname "$0")/.."
DIR="${BN_REPRO_SWIFTSHADER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/bn-repro/swiftshader}"
LIB="$DIR/usr/lib/chromium"
if [ ! -f "$LIB/vk_swiftshader_icd.json" ] || [ ! -f "$LIB/libvulkan.so.1" ]; then
  mkdir -p "$DIR"
  deb=$(ls "$DIR"/chromium-common_*.deb 2>/dev/null | head -n 1 || true)
  if [ -z "$deb" ]; then
    echo "test:webgpu: downloading Debian's chromium-common for SwiftShader into $DIR" >&2
    (cd "$DIR" && apt-get download chromium-common >/dev/null) || {
      echo "error: could not download chromium-common (run apt-get update first, or put chromium-common_*.deb in $DIR)." >&2
      exit 1
    }
    deb=$(ls "$DIR"/chromium-common_*.deb | head -n 1)
  fi
  dpkg -x "$deb" "$DIR"
fi
export LD_LIBRARY_PATH="$LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export VK_ICD_FILENAMES="$LIB/vk_swiftshader_icd.json"
# --- tfjs's webgpu backend (issue 18 item 5) ------------------------------------------------------
# Its two packages (Dawn's binaries for five platforms, 132 MB) are not dependencies: where missing
# they go into node_modules with --no-save, leaving package.json and package-lock.json as they are
# (a later `npm ci` removes them again). The pinned versions are WEBGPU_PACKAGES in webgpu.ts.
TFJS_WEBGPU="${BN_REPRO_TFJS_WEBGPU:-1}"
if [ "$TFJS_WEBGPU" = 1 ]; then
  read -r -a pkgs < <(node --input-type=module -e "const m = await import('./dist/src/engines/backends/webgpu.js'); console.log(m.WEBGPU_PACKAGES.join(' '))")
  [ ${#pkgs[@]} -gt 0 ] || { echo "error: dist/ is not built; run npx tsc -p tsconfig.json (npm run test:webgpu does)." >&2; exit 1; }
  missing=()
  for spec in "${pkgs[@]}"; do
    name="${spec%@*}"
    have=$(node -p "JSON.parse(require('fs').readFileSync('node_modules/$name/package.json', 'utf8')).version" 2>/dev/null || true)
    [ "$have" = "${spec##*@}" ] || missing+=("$spec")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log="$DIR/npm-install-webgpu.log"
    echo "test:webgpu: installing the opt-in ${missing[*]} into node_modules (--no-save)" >&2
    npm install --no-save --no-audit --no-fund "${missing[@]}" >"$log" 2>&1 || {
      echo "error: could not install ${missing[*]} (offline? npm's log: $log); set BN_REPRO_TFJS_WEBGPU=0 to test ort-webgpu alone." >&2
      exit 1
    }
  fi
fi
# --- end of the tfjs webgpu install ---------------------------------------------------------------
[ -z "$prepare_only" ] || exit 0
# onnxruntime-node does not report Dawn's adapter: name the only Vulkan driver it can see.
deb=$(ls "$DIR"/chromium-common_*.deb 2>/dev/null | head -n 1 || true)
echo "test:webgpu: adapter: SwiftShader Vulkan ICD ($VK_ICD_FILENAMES${deb:+, from $(basename "$deb")}), the only Vulkan driver visible"
# One doctor for both engines (each run costs ~2.5 s: it probes every backend).
doctor=$(node bin/bn-repro doctor || true)
grep -E '^  (ort-)?webgpu ' <<<"$doctor" || true
grep -qE '^  ort-webgpu +available' <<<"$doctor" || { echo "error: ort-webgpu does not load with SwiftShader." >&2; exit 1; }
# --- tfjs's webgpu backend: gradients, SGD steps, a finite-difference check and a CLI run against wasm
if [ "$TFJS_WEBGPU" = 1 ]; then
  grep -qE '^  webgpu +available' <<<"$doctor" || { echo "error: tfjs's webgpu backend does not load with SwiftShader (see doctor's line above)." >&2; exit 1; }
  BN_REPRO_TFJS_WEBGPU=1 node --test --test-concurrency=1 dist/test/webgpu-tfjs.test.js dist/test/webgpu-tfjs-cli.test.js
fi
# --- end of the tfjs webgpu tests -----------------------------------------------------------------
# Evaluations cost SwiftShader more than steps (20 steps: 75 s with 3 evaluations, 204 s with 11, on
# a loaded machine): the equality run evaluates 4 times after step 0 (BN_REPRO_ORT_EVALS), not 10.
BN_REPRO_ORT_BACKEND=ort-webgpu BN_REPRO_ORT_STEPS="${BN_REPRO_ORT_STEPS:-60}" BN_REPRO_ORT_EVALS="${BN_REPRO_ORT_EVALS:-4}" \
  node --test --test-concurrency=1 dist/test/engine-ort.test.js
# One tiny lockstep case: 2 arms of seed 0 stacked in one graph, rows equal to separate runs (20 steps).
BN_REPRO_ORT_BACKEND=ort-webgpu BN_REPRO_ORT_STEPS="${BN_REPRO_LOCKSTEP_STEPS:-20}" \
  node --test --test-concurrency=1 dist/test/lockstep.test.js
# Lockstep's batched layout (the GPU providers' default): runs on a leading axis against separate runs
# (12 steps: at fewer, a high-learning-rate member has not yet lowered its test loss); the equality and
# divergence cases only, as SwiftShader emulates the GPU slowly (the CPU run has them all).
BN_REPRO_ORT_BACKEND=ort-webgpu BN_REPRO_ORT_STEPS="${BN_REPRO_BATCHED_STEPS:-12}" \
  node --test --test-concurrency=1 --test-name-pattern='equal their separate runs|goes NaN' dist/test/lockstep-batched.test.js
# The WebGPU log-softmax form (no node on the CPU provider) and the batched stack against separate graphs.
BN_REPRO_ORT_BACKEND=ort-webgpu \
  node --test --test-concurrency=1 dist/test/engine-ort-logsoftmax.test.js dist/test/engine-ort-batched.test.js
# The CNN on ort-webgpu (test/engine-ort-cnn-grad.test.ts, engine-ort-cnn.test.ts): the float32 gradients of
# the BN ReLU net against the tfjs CNN's backward, the max-pool tie rule, the BN net's rows against tfjs wasm
# (2 steps, one evaluation of 100 test images after step 0) and a deterministic rerun with every session
# released: 46 s here at a load average of 5.
BN_REPRO_ORT_BACKEND=ort-webgpu BN_REPRO_ORT_STEPS="${BN_REPRO_CNN_STEPS:-2}" \
  node --test --test-concurrency=1 --test-name-pattern='BN relu: .*float32|tie rule|population statistics|deterministic' \
  dist/test/engine-ort-cnn-grad.test.js dist/test/engine-ort-cnn.test.js
# CNN lockstep on ort-webgpu (test/lockstep-cnn-engine.test.ts), which `lockstep: auto` turns on there:
# two CNN members stacked in one graph against the same runs alone (3 steps: ~20 s here).
BN_REPRO_ORT_BACKEND=ort-webgpu BN_REPRO_ORT_STEPS="${BN_REPRO_CNN_LOCKSTEP_STEPS:-3}" \
  node --test --test-concurrency=1 dist/test/lockstep-cnn-engine.test.js
# --- device residency (deviceResident, test/engine-ort-device*.test.ts) ----------------------------
# State outputs kept on the device and the training set uploaded once on ort-webgpu: rows, checkpoints and a
# resume bit-identical with the key on and off, the Gather-fed step against the fed one, and a lockstep stack's
# device tensor count constant per step (6 steps: 53 s wall at a load average of 1 to 4 here, 3.5 min at 10).
BN_REPRO_ORT_BACKEND=ort-webgpu BN_REPRO_ORT_STEPS="${BN_REPRO_DEVICE_STEPS:-6}" \
  node --test --test-concurrency=1 dist/test/engine-ort-device.test.js dist/test/engine-ort-device-runs.test.js
# --- end of device residency ----------------------------------------------------------------------
