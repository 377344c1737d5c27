#!/usr/bin/env bash
# Quantization on the GPU machine, from the repository root, with binaries built
# elsewhere (docs/quantization.md):
#
#   bench/quant/gpu_run.sh BIN_DIR [OUT_DIR]
#
# BIN_DIR holds troupe_gpu_tests, troupe_engine_tests, quant_bench and engine_bench (and lib/
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
# Offline throughput, 500 requests of 202 prompt / 179 output tokens (the GPU
# issue's workload), bf16 against the 4-bit modes; TROUPE_QUANT_OFFLINE=0 skips it.
if [ "${TROUPE_QUANT_OFFLINE:-1}" != 0 ]; then
  for mode in ${TROUPE_QUANT_OFFLINE_MODES:-none int4}; do
    "$bin/engine_bench" --executor=cuda --model="$models/8b" --quantization="$mode" --requests=500 \
      --prompt=202 --output=179 --fixed-output --max-seqs=256 --budget=8192 --blocks=0 \
      --only-continuous >"$out/offline_$mode.log" 2>&1 || status=1
    echo "offline $mode: $(grep -iE 'tok/s|tokens/s' "$out/offline_$mode.log" | tail -2 | tr '\n' ' ')"
  done
fi
echo "gpu_run.sh: ${SECONDS} s, status $status (logs in $out)"
exit $status
