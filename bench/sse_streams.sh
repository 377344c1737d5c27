#!/usr/bin/env bash
# Concurrent SSE streams: how many streams `troupe serve` holds at once and
# what each added stream costs in inter-token latency. For each concurrency C
# (closed loop: C streams open all the time) `troupe bench` streams long
# completions and reports inter-token latency p50/p99; the first level (1) is
# the baseline the others are compared with. The engine computes every
# stream's tokens, so on a small CPU this mostly measures batched decoding;
# on a GPU it shows where the edge or the engine starts to add latency.
#
# usage: bench/sse_streams.sh [--model DIR] [--levels "1 16 64 256"] [--output-len N]
#                             [--executor cpu|cuda|auto]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${TROUPE_BIN:-$root/build/troupe}
model=$root/models/troupe-tiny-chat
levels="1 16 64 256"
output_len=128
executor=auto
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model=$2; shift ;;
    --levels) levels=$2; shift ;;
    --output-len) output_len=$2; shift ;;
    --executor) executor=$2; shift ;;
    *) echo "sse_streams: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
work=$(mktemp -d)
key=sk-sse-bench-$$-$RANDOM
max_level=$(echo "$levels" | tr ' ' '\n' | sort -n | tail -1)
cleanup() { [ -n "${pid:-}" ] && kill -TERM "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$bin" serve --model "$model" --port 0 --api-key "$key" --state-dir "$work/state" \
  --executor "$executor" --max-num-seqs "$max_level" --max-connections $((max_level + 64)) \
  --log.url=off >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 1 600); do grep -q 'listening on' "$work/out" 2>/dev/null && break; sleep 0.2; done
url=$(sed -n 's/^troupe: listening on //p' "$work/out")
[ -n "$url" ] || { cat "$work/err" >&2; exit 1; }
served=$(basename "$model")

printf '%-8s %10s %12s %12s %12s\n' streams completed "ITL p50 ms" "ITL p99 ms" "tok/s"
base=""
for c in $levels; do
  "$bin" bench --base-url "$url" --cacert "$work/state/tls/cert.pem" --api-key "$key" \
    --model "$served" --max-concurrency "$c" --num-prompts $((c * 2)) --input-len 16 \
    --output-len "$output_len" --no-progress --out "$work/c$c.json" >/dev/null
  read -r done p50 p99 tps < <(python3 - "$work/c$c.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
def find(d, *names):
    for n in names:
        for k, v in d.items():
            if k == n: return v
            if isinstance(v, dict):
                x = find(v, n)
                if x is not None: return x
    return None
itl = find(r, "itl_ms", "itl")
print(find(r, "completed"), itl["p50"], itl["p99"], find(r, "output_throughput", "output_tokens_per_s"))
PY
)
  [ -z "$base" ] && base=$p50
  printf '%-8s %10s %12.2f %12.2f %12.0f   (+%.2f ms p50 vs 1 stream)\n' "$c" "$done" "$p50" "$p99" "$tps" \
    "$(awk -v a="$p50" -v b="$base" 'BEGIN{print a-b}')"
done
