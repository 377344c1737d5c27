#!/usr/bin/env bash
# Configures and builds Troupe (Release) into build/. CUDA is detected: with
# nvcc present the CUDA executor is compiled (and used where a GPU exists).
# Extra arguments go to cmake's configure step (e.g. -DTROUPE_CUDA=OFF).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cuda_args=()
if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then
  cuda_args+=(-DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc)
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "${cuda_args[@]}" "$@" >/dev/null
cmake --build build -j"$(nproc)"
