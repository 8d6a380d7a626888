#!/usr/bin/env bash
# One-call GPU check of @sparq/backend-cuda, for a machine with an NVIDIA GPU
# (sm_80+, e.g. H100/H200), a CUDA 13-capable driver and Node 20; no network
# needed. Steps, each with its own time limit, all output under $OUT:
#   1. device info (nvidia-smi), 2. build the addon if nvcc is present (else
#   use the carried native/build/sparq_cuda.node), 3. conformance suite
#   (vitest when node_modules exists, else the bundled runner), plus the
#   tensor-core accuracy tests under vitest, 4. benchmarks → cuda-bench.md/json.
# Without node_modules, first run here (where it exists):
#   pnpm --filter @sparq/backend-cuda build && node packages/backend-cuda/scripts/make-gpu-bundle.mjs
# and carry packages/backend-cuda/native/build to the GPU machine.
# Exit status: 0 when the conformance suite passed and the benchmark ran.
set -uo pipefail
PKG="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${OUT:-$PKG/gpu-check-out}"
mkdir -p "$OUT"
exec > >(tee -a "$OUT/gpu-check.log") 2>&1
cd "$PKG"
echo "== gpu-check $(date -u +%FT%TZ) on $(hostname), node $(node --version), $(nproc) cores"
(nvidia-smi || echo "nvidia-smi not available") > "$OUT/nvidia-smi.txt" 2>&1
head -20 "$OUT/nvidia-smi.txt"

echo "== 1/3 build"
if command -v nvcc >/dev/null 2>&1 || [ -x "${CUDA_HOME:-/usr/local/cuda}/bin/nvcc" ]; then
  timeout 200 node scripts/build-addon.mjs || echo "addon build FAILED"
else
  echo "nvcc not on this machine: using the carried native/build/sparq_cuda.node"
fi
export SPARQ_CUDA_ADDON="$PKG/native/build/sparq_cuda.node"
[ -f "$SPARQ_CUDA_ADDON" ] || { echo "no addon at $SPARQ_CUDA_ADDON: nothing to run"; exit 1; }
node -e "const m=require(process.env.SPARQ_CUDA_ADDON); console.log(JSON.stringify(m.init(), null, 2))" | tee "$OUT/status.json"
grep -q '"available": true' "$OUT/status.json" || { echo "no usable CUDA device (see status.json): nothing measured"; exit 3; }

BUNDLE="$PKG/native/build/gpu-bundle"
if [ -d "$PKG/node_modules/@sparq/tensor" ] && [ ! -f "$BUNDLE/cuda-bench.mjs" ]; then
  timeout 120 node scripts/make-gpu-bundle.mjs
fi

echo "== 2/3 conformance"
conf=1
if [ -d "$PKG/node_modules/@sparq/tensor" ] && [ -x "$(command -v pnpm)" ]; then
  timeout 150 pnpm exec vitest run src/conformance.gpu.test.ts src/native.test.ts src/backend.test.ts src/layout.test.ts --reporter=default > "$OUT/vitest.txt" 2>&1
  conf=$?
  tail -40 "$OUT/vitest.txt"
else
  timeout 150 node "$BUNDLE/gpu-conformance.mjs" "$OUT"
  conf=$?
fi
echo "conformance exit status: $conf"
if [ -d "$PKG/../lm/node_modules/@sparq/backend-cuda" ] && [ -x "$(command -v pnpm)" ]; then
  echo "== stories260K greedy on CUDA vs CPU (packages/lm)"
  (cd "$PKG/../lm" && timeout 120 pnpm exec vitest run src/stories260k-cuda.test.ts) > "$OUT/stories260k-cuda.txt" 2>&1 || conf=1
  tail -8 "$OUT/stories260k-cuda.txt"
else
  echo "stories260K CUDA check needs the workspace's node_modules (pnpm install): not run"
fi

echo "== 3/3 benchmarks"
timeout 200 node "$BUNDLE/cuda-bench.mjs" "$OUT"
bench=$?
echo "benchmark exit status: $bench"
[ -f "$OUT/cuda-bench.md" ] && cat "$OUT/cuda-bench.md"
[ "$conf" -eq 0 ] && [ "$bench" -eq 0 ]
