#!/usr/bin/env bash
# Quantization on the GPU machine, from the repository root, with binaries built
# elsewhere (docs/quantization.md):
#
#   bench/quant/gpu_run.sh BIN_DIR [OUT_DIR]
#
# BIN_DIR holds troupe_gpu_tests, troupe_engine_tests and quant_bench (and lib/
# with the shared libraries the GPU machine lacks). Runs the quantized-kernel
# tests against the CPU reference, the bundled model's quantized CUDA paths
# against the CPU executor, then quant_bench on a Llama-3-8B-shaped checkpoint
# with random bf16 weights made here by tools/reference/make_large_shape_reference.py
# (16 GB; it cannot travel). Logs go to OUT_DIR (default $OUT, else /tmp/troupe-quant).
set -uo pipefail
SECONDS=0
bin=$(cd "${1:?usage: bench/quant/gpu_run.sh BIN_DIR [OUT_DIR]}" && pwd)
out=${2:-${OUT:-/tmp/troupe-quant}}
mkdir -p "$out"
export LD_LIBRARY_PATH="$bin/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
export TROUPE_SOURCE_DIR=$PWD
status=0

echo "== quantized kernels vs the CPU reference (troupe_gpu_tests quant_kernels.*)"
"$bin/troupe_gpu_tests" --gtest_filter='quant_kernels.*' >"$out/gpu_tests.log" 2>&1 || status=1
grep -E 'PASSED|FAILED|SKIPPED|tests ran' "$out/gpu_tests.log" | tail -6

echo "== bundled model: quantized CUDA vs CPU (troupe_engine_tests QuantizedCuda.*)"
"$bin/troupe_engine_tests" --gtest_filter='QuantizedCuda.*' >"$out/engine_tests.log" 2>&1 || status=1
grep -E 'perplexity cpu|PASSED|FAILED|SKIPPED' "$out/engine_tests.log" | tail -12

echo "== Llama-3-8B shape, random bf16 weights"
models=${TROUPE_QUANT_MODELS:-/tmp/troupe-quant-models}
if [ ! -f "$models/8b/config.json" ]; then
  t0=$(date +%s)
  python3 tools/reference/make_large_shape_reference.py "$models" --no-reference 8b \
    >"$out/make_8b.log" 2>&1 || { echo "model generation failed"; tail -5 "$out/make_8b.log"; exit 1; }
  echo "made in $(( $(date +%s) - t0 )) s"
fi
"$bin/quant_bench" --model "$models/8b" --modes "${TROUPE_QUANT_MODES:-none,int8,fp8,nf4,int4}" \
  >"$out/quant_bench.log" 2>&1 || status=1
grep -vE '^\[' "$out/quant_bench.log" | tail -12
echo "gpu_run.sh: ${SECONDS} s, status $status (logs in $out)"
exit $status
