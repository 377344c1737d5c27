#!/usr/bin/env bash
# `troupe bench` drives a server that is not Troupe (a tiny OpenAI-compatible
# peer) unchanged, writes its JSON, and `troupe bench plot` draws non-empty charts.
set -euo pipefail
work=$(mktemp -d)
trap 'kill $peer 2>/dev/null || true; rm -rf "$work"' EXIT
python3 "$TROUPE_SOURCE_DIR/tests/integration/fake_openai_peer.py" > "$work/port" &
peer=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")
for rate in 20 inf; do
  "$TROUPE_BIN" bench --base-url "http://127.0.0.1:$port" --model peer --num-prompts 12 \
    --request-rate "$rate" --input-len 16 --output-len 8 --dataset uniform --seed 3 \
    --goodput ttft:1000,tpot:500 --label "peer" --no-progress --out "$work/run_$rate.json" \
    | tee "$work/table_$rate.txt"
  grep -q "Successful requests: *12" "$work/table_$rate.txt"
done
"$TROUPE_BIN" bench --base-url "http://127.0.0.1:$port" --endpoint chat --model peer \
  --num-prompts 4 --max-concurrency 2 --output-len 5 --no-progress --out "$work/chat.json" >/dev/null
python3 - "$work" <<'PY'
import json, sys
d = sys.argv[1]
for name in ("run_20", "run_inf", "chat"):
    r = json.load(open(f"{d}/{name}.json"))
    assert r["failed"] == 0, r["errors"]
    assert r["ttft_ms"]["p50"] > 0 and r["e2e_ms"]["p99"] >= r["e2e_ms"]["p50"]
    assert r["parameters"]["model"] == "peer"
    # The peer sleeps 2 ms before every chunk: each event must be timed as it
    # arrives, not when the stream (or a read buffer) is complete.
    assert r["tpot_ms"]["p50"] >= 1.5 and r["itl_ms"]["p50"] >= 1.5, (name, r["tpot_ms"], r["itl_ms"])
    assert r["e2e_ms"]["p50"] - r["ttft_ms"]["p50"] >= 4, (name, r["ttft_ms"], r["e2e_ms"])
r = json.load(open(f"{d}/chat.json"))
assert r["completed"] == 4 and r["total_output_tokens"] == 20, r
print("bench JSON checked")
PY
if command -v gnuplot >/dev/null; then
  "$TROUPE_BIN" bench plot "$work/run_20.json" "$work/run_inf.json" --out "$work/chart"
  test -s "$work/chart_latency_vs_throughput.png"
  test -s "$work/chart_percentiles.png"
  head -c 8 "$work/chart_latency_vs_throughput.png" | grep -q PNG
  # --out into a folder that does not exist yet: the folder is made.
  "$TROUPE_BIN" bench plot "$work/run_20.json" --out "$work/new/sub/chart" --format svg
  test -s "$work/new/sub/chart_percentiles.svg"
  echo "charts written"
else
  echo "gnuplot not installed: chart check skipped"; exit 77
fi
