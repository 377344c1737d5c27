#!/usr/bin/env bash
# The three experiments of bench/experiments run end to end in --smoke mode
# (tiny model, CPU): each writes its JSON results, a summary table with one
# row per run, and real PNG charts. Figures are not asserted (CPU timing).
set -euo pipefail
command -v gnuplot >/dev/null || { echo "gnuplot not installed: experiments need it for charts"; exit 77; }
model="$TROUPE_SOURCE_DIR/models/troupe-tiny-chat"
[ -f "$model/tokenizer.json" ] || { echo "no $model/tokenizer.json"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TROUPE_BIN
exp="$TROUPE_SOURCE_DIR/bench/experiments"

check_png() {  # a non-empty file that starts with the PNG signature
  test -s "$1" || { echo "missing or empty chart $1"; exit 1; }
  head -c 8 "$1" | grep -q PNG || { echo "$1 is not a PNG"; exit 1; }
}
check_rows() {  # $1 = summary.md, $2 = expected "label | point" row starts
  local summary=$1; shift
  for row in "$@"; do
    grep -q "^| $row |" "$summary" || { echo "no row '$row' in $summary:"; cat "$summary"; exit 1; }
  done
}
check_results() {  # every JSON completed all its requests
  python3 - "$@" <<'PY'
import json, sys
for path in sys.argv[1:]:
    r = json.load(open(path))
    assert r["failed"] == 0 and r["completed"] > 0, (path, r["errors"])
    assert r["point"]["name"], path
PY
}

bash "$exp/static_vs_continuous.sh" --smoke --out "$work/svc" --rates "4 32"
for f in static-rate4 static-rate32 continuous-rate4 continuous-rate32; do test -s "$work/svc/$f.json"; done
check_results "$work"/svc/*.json
check_rows "$work/svc/summary.md" "static | request_rate=4" "static | request_rate=32" \
  "continuous | request_rate=4" "continuous | request_rate=32"
check_png "$work/svc/chart_latency_vs_throughput.png"
check_png "$work/svc/chart_percentiles.png"
test -s "$work/svc/chart_latency_vs_throughput.svg"

bash "$exp/max_num_seqs_sweep.sh" --smoke --out "$work/seqs" --seqs "1 4 16"
check_results "$work"/seqs/*.json
check_rows "$work/seqs/summary.md" "continuous | max_num_seqs=1" "continuous | max_num_seqs=4" \
  "continuous | max_num_seqs=16"
grep -q "| knee |$" "$work/seqs/summary.md"  # the knee column is there (a knee itself is not asserted)
check_png "$work/seqs/chart_latency_vs_throughput.png"

bash "$exp/prefix_caching.sh" --smoke --out "$work/prefix"
check_results "$work"/prefix/*.json
check_rows "$work/prefix/summary.md" "prefix-caching-on | shared_prefix_len=80" \
  "prefix-caching-off | shared_prefix_len=80"
# The hit rate comes from the server's counters: with caching off nothing is
# found; with it on, later requests reuse the shared prefix.
python3 - "$work/prefix" <<'PY'
import json, sys
d = sys.argv[1]
on = json.load(open(f"{d}/prefix-caching-on.json"))["server_metrics"]
off = json.load(open(f"{d}/prefix-caching-off.json"))["server_metrics"]
assert off["troupe:prefix_cache_hits_total"] == 0, off
assert on["troupe:prefix_cache_hits_total"] > 0, on
assert on["troupe:prefix_cache_queries_total"] > 0, on
print("prefix-cache hit rate on:", on["troupe:prefix_cache_hits_total"] / on["troupe:prefix_cache_queries_total"])
PY
check_png "$work/prefix/chart_percentiles.png"
echo "experiments smoke: all three wrote JSON, summaries and charts"
