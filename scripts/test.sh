#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is
# missing, builds, fetches the npm test clients and tokenizer files, and runs
# every test through ctest. GPU tests report "Skipped" without a GPU.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install-deps.sh --test
scripts/setup-test-data.sh
scripts/build.sh
cd build
ctest --output-on-failure -j2 --timeout 900
