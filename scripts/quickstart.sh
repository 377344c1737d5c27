#!/usr/bin/env bash
# Quick start on a fresh Debian 12 machine: installs what is missing, builds
# Release, and starts the all-in-one server on its embedded defaults (bundled
# model, SQLite, HTTPS with a generated certificate); see serve-default.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install-deps.sh
scripts/build.sh
exec scripts/serve-default.sh "$@"
