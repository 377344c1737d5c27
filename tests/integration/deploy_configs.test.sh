#!/usr/bin/env bash
# Everything under deploy/ checked by the real tools (deploy/check/run.sh).
set -euo pipefail
root=${TROUPE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
exec "$root/deploy/check/run.sh" "${TROUPE_BUILD_DIR:-$root/build}"
