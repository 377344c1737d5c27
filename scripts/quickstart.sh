#!/usr/bin/env bash
# Quick start on a fresh Debian 12 machine: installs what is missing, builds
# Release, and starts Troupe on its embedded defaults (the bundled model).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install-deps.sh
scripts/build.sh
if [ -x build/troupe ] && build/troupe --help | grep -q "^  serve"; then
  exec scripts/serve-default.sh "$@"
fi
exec build/troupe generate --prompt "In the beginning" --max-tokens 48 "$@"
