#!/usr/bin/env bash
# Prefix caching on vs off: --enable-prefix-caching true and false on a
# workload whose prompts share a long prefix (--shared-prefix-len words of
# --input-len). TTFT and throughput are compared; the server's prefix-cache
# counters (/metrics troupe:prefix_cache_{hits,queries}_total) are read before
# and after each run (`troupe bench --server-metrics`) for the hit rate.
#
# usage: bench/experiments/prefix_caching.sh [--smoke] [--out DIR] [--model DIR]
#          [--executor cpu|cuda] [--shared-prefix-len N] [--max-concurrency C]
#          [--request-rate R] [--num-prompts N] [--input-len N] [--output-len N]
#          [--dataset D] [--server-flag FLAG]...
# Environment twins: SHARED_PREFIX_LEN, MAX_CONCURRENCY, REQUEST_RATE,
# TROUPE_MODEL, EXECUTOR, NUM_PROMPTS, INPUT_LEN, OUTPUT_LEN, DATASET, OUT_DIR,
# TROUPE_BIN.
# Requests are sent C at a time (closed loop), so later requests find the
# prefix that earlier ones computed. Full (H100) defaults: 400 prompts of 1024
# words sharing 896, 64 output tokens, concurrency 32 (a model with a context
# of at least ~1.5k tokens).
experiment=prefix_caching
experiment_command="$0 $*"
source "$(dirname "$0")/lib.sh"
parse_common_args "$@"
SHARED_PREFIX_LEN=${SHARED_PREFIX_LEN:-}
MAX_CONCURRENCY=${MAX_CONCURRENCY:-}
REQUEST_RATE=${REQUEST_RATE:-inf}
set -- "${EXPERIMENT_ARGS[@]}"
while [ $# -gt 0 ]; do
  case "$1" in
    --shared-prefix-len) SHARED_PREFIX_LEN=$2; shift ;;
    --max-concurrency) MAX_CONCURRENCY=$2; shift ;;
    --request-rate) REQUEST_RATE=$2; shift ;;
    *) echo "$experiment: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
apply_defaults 16 96 4 400 1024 64
if [ "$SMOKE" = 1 ]; then
  SHARED_PREFIX_LEN=${SHARED_PREFIX_LEN:-80}
  MAX_CONCURRENCY=${MAX_CONCURRENCY:-4}
else
  SHARED_PREFIX_LEN=${SHARED_PREFIX_LEN:-896}
  MAX_CONCURRENCY=${MAX_CONCURRENCY:-32}
fi

for enabled in true false; do
  label=$([ "$enabled" = true ] && echo "prefix-caching-on" || echo "prefix-caching-off")
  start_server "$label" --policy continuous --enable-prefix-caching="$enabled"
  run_bench "$OUT_DIR/$label.json" --request-rate "$REQUEST_RATE" \
    --max-concurrency "$MAX_CONCURRENCY" --shared-prefix-len "$SHARED_PREFIX_LEN" \
    --label "$label" --point "shared_prefix_len=$SHARED_PREFIX_LEN" --server-metrics
  stop_server
done

write_summary "Prefix caching on vs off" \
  "Prompts of $INPUT_LEN words of which the first $SHARED_PREFIX_LEN are the same in every request, sent $MAX_CONCURRENCY at a time (request rate $REQUEST_RATE). The hit rate is the share of prompt tokens the server found in its prefix cache during the run (deltas of troupe:prefix_cache_hits_total / troupe:prefix_cache_queries_total on /metrics)."
