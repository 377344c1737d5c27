#!/usr/bin/env bash
# The cluster on one GPU machine: a 1B Llama shape (seeded random weights,
# made here with transformers), `troupe serve` vs `troupe gateway` + one
# worker vs two workers sharing the GPU (--gpu-memory-utilization 0.4 each),
# through bench/cluster/hop_latency.sh; then the failover pause on the GPU
# (SIGKILL of the busy worker, next token from the other).
#
# usage: bench/cluster/gpu_topology.sh OUT_DIR   (TROUPE_BIN: the CUDA build's troupe)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: gpu_topology.sh OUT_DIR}
models=${TROUPE_MODELS_DIR:-/tmp/troupe-models}  # 2.5 GB: kept out of OUT_DIR
mkdir -p "$out" "$models"
if [ ! -f "$models/1b/config.json" ]; then
  python3 "$root/tools/reference/make_large_shape_reference.py" "$models" --no-reference 1b > "$out/make_model.log" 2>&1
fi
cp "$root"/tests/data/models/tiny-llama3/tokenizer*.json "$models/1b/"
"$root/bench/cluster/hop_latency.sh" --model "$models/1b" --executor cuda --workers "1 2" \
  --concurrency 64 --num-prompts 64 --input-len 128 --output-len 128 --out "$out/hop" \
  --engine-flag=--gpu-memory-utilization=0.4
