#!/usr/bin/env bash
# A real Prometheus scrapes a running `troupe serve`; its HTTP API then
# returns Troupe's series: the generation counter equals what /metrics says,
# the engine families carry model_name, and a TTFT quantile over the
# histogram buckets is a number. Bounded: gives up after 40 s.
set -euo pipefail
bin=${TROUPE_BIN:?TROUPE_BIN must name the troupe binary}
src=${TROUPE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v prometheus >/dev/null || { echo "SKIP: prometheus is not installed"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$tmp/prom.log" ] && tail -20 "$tmp/prom.log"; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$bin" serve --model "$src/tests/data/models/tiny-llama3" --port 0 --no-tls --api-key sk-prom \
  --state-dir "$tmp/state" --stats-interval-s 0 >"$tmp/serve.out" 2>"$tmp/serve.err" &
pids+=($!)
for _ in $(seq 200); do grep -q "listening on" "$tmp/serve.out" && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$tmp/serve.out") || fail "troupe did not start: $(cat "$tmp/serve.err")"
model=$(curl -fsS "$url/v1/models" -H "Authorization: Bearer sk-prom" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])')
for i in 1 2 3; do
  curl -fsS "$url/v1/completions" -H "Authorization: Bearer sk-prom" -H 'content-type: application/json' \
    -d "{\"model\":\"$model\",\"prompt\":\"Hello $i\",\"max_tokens\":5,\"ignore_eos\":true}" >/dev/null
done
want=$(curl -fsS "$url/metrics" | awk -v m="$model" '$1 == "troupe:generation_tokens_total{model_name=\"" m "\"}" { print $2 }')
[ "$want" = 15 ] || fail "troupe's own /metrics says $want generation tokens, want 15"

prom_port=$(free_port)
cat > "$tmp/prometheus.yml" <<YML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: troupe
    static_configs: [{targets: ["${url#http://}"]}]
YML
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" >"$tmp/prom.log" 2>&1 &
pids+=($!)
api="http://127.0.0.1:$prom_port/api/v1/query"
query() { curl -fsS --get "$api" --data-urlencode "query=$1" 2>/dev/null || true; }
got=""
for _ in $(seq 80); do
  got=$(query 'troupe:generation_tokens_total' | python3 -c '
import json, sys
try: r = json.load(sys.stdin)["data"]["result"]
except Exception: r = []
print(" ".join("%s=%s" % (x["metric"].get("model_name"), x["value"][1]) for x in r))')
  [ -n "$got" ] && break
  sleep 0.5
done
[ "$got" = "$model=15" ] || fail "Prometheus returned '$got' for troupe:generation_tokens_total, want '$model=15'"
q=$(query 'histogram_quantile(0.5, sum by (le) (troupe:time_to_first_token_seconds_bucket))' |
  python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "none")')
python3 -c "import math,sys; v=float('$q'); sys.exit(0 if v > 0 and math.isfinite(v) else 1)" 2>/dev/null ||
  fail "TTFT median over the scraped buckets is '$q'"
n=$(query 'count(troupe:request_prompt_tokens_count{model_name!=""})' | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)')
[ "$n" = 1 ] || fail "the per-request prompt-token histogram is not scraped with model_name ($n series)"
up=$(query 'up{job="troupe"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["result"][0]["value"][1])')
[ "$up" = 1 ] || fail "up{job=troupe} is $up"
echo "Prometheus scraped troupe: generation_tokens_total=$got, TTFT p50=$q s"
echo "PASS"
