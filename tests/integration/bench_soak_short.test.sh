#!/usr/bin/env bash
# The short soak + overload run (bench/soak/soak.mjs): one minute of mixed
# traffic (streams, cancels, vanishing clients, WebSocket sessions, bad
# requests, wrong and revoked keys) sampled every 15 s, then 20 s at 10x the
# rate against admission sized to a 2-core CPU (16 running, 32 waiting). Fails when KV blocks or
# descriptors leak, a completed request has no log row, the overload answers
# anything but 200/429/503, or the server does not recover. About 2 minutes.
set -euo pipefail
[ -x "${TROUPE_BIN:-}" ] || { echo "SKIP: TROUPE_BIN is not set"; exit 77; }
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 is not installed"; exit 77; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
node "$TROUPE_SOURCE_DIR/bench/soak/soak.mjs" --minutes 1 --rate 4 --sample-s 15 \
  --overload-s 20 --max-num-seqs 16 --max-waiting 32 --out "$out"
