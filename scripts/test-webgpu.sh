#!/usr/bin/env bash
# `npm run test:webgpu`: the engine-equality and determinism tests of test/engine-ort.test.ts on
# ort-webgpu, without a GPU: SwiftShader's Vulkan driver and a Vulkan loader, both shipped in
# Debian 12's chromium-common, unpacked (no browser installed) into a folder outside git. Dawn,
# inside onnxruntime-node, then finds SwiftShader as its adapter. SwiftShader emulates the GPU on
# the CPU (about 0.6 s a step here), so the run is short: BN_REPRO_ORT_STEPS steps (default 60);
# then one tiny lockstep case of test/lockstep.test.ts (BN_REPRO_LOCKSTEP_STEPS, default 20).
set -euo pipefail
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
# onnxruntime-node does not report Dawn's adapter: name the only Vulkan driver it can see.
deb=$(ls "$DIR"/chromium-common_*.deb 2>/dev/null | head -n 1 || true)
echo "test:webgpu: adapter: SwiftShader Vulkan ICD ($VK_ICD_FILENAMES${deb:+, from $(basename "$deb")}), the only Vulkan driver visible"
node bin/bn-repro doctor | grep -E '^  ort-webgpu ' || true
node bin/bn-repro doctor | grep -qE '^  ort-webgpu +available' || { echo "error: ort-webgpu does not load with SwiftShader." >&2; exit 1; }
BN_REPRO_ORT_BACKEND=ort-webgpu BN_REPRO_ORT_STEPS="${BN_REPRO_ORT_STEPS:-60}" \
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
