#!/usr/bin/env bash
# Static vs continuous batching: the same server build run with --policy
# static and --policy continuous, each at several Poisson arrival rates; the
# chart is latency (TTFT, TPOT p50/p99) against output throughput, one curve
# per policy, each point named by its rate.
#
# usage: bench/experiments/static_vs_continuous.sh [--smoke] [--out DIR] [--model DIR]
#          [--executor cpu|cuda] [--rates "R1 R2 ..."] [--policies "static continuous"]
#          [--max-num-seqs N] [--seconds-per-rate S] [--num-prompts N] [--input-len N]
#          [--output-len N] [--dataset D] [--server-flag FLAG]...
# Environment twins: RATES, POLICIES, MAX_NUM_SEQS, SECONDS_PER_RATE,
# TROUPE_MODEL, EXECUTOR, NUM_PROMPTS, INPUT_LEN, OUTPUT_LEN, DATASET, OUT_DIR,
# TROUPE_BIN. In the full run each rate sends rate x SECONDS_PER_RATE (20)
# prompts, at least 32, unless --num-prompts fixes the number.
# Output lengths vary (uniform in smoke, sharegpt-like in the full run): with
# equal lengths every member of a static batch ends at the same step, and the
# policies differ much less. Full (H100) defaults: rates 1 2 4 8 16 32 req/s,
# ShareGPT-like lengths, max_num_seqs 256: about 5 minutes of arrivals in all.
experiment=static_vs_continuous
experiment_command="$0 $*"
source "$(dirname "$0")/lib.sh"
parse_common_args "$@"
RATES=${RATES:-}
POLICIES=${POLICIES:-static continuous}
MAX_NUM_SEQS=${MAX_NUM_SEQS:-}
SECONDS_PER_RATE=${SECONDS_PER_RATE:-20}
set -- "${EXPERIMENT_ARGS[@]}"
while [ $# -gt 0 ]; do
  case "$1" in
    --rates) RATES=$2; shift ;;
    --policies) POLICIES=$2; shift ;;
    --max-num-seqs) MAX_NUM_SEQS=$2; shift ;;
    --seconds-per-rate) SECONDS_PER_RATE=$2; shift ;;
    *) echo "$experiment: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
fixed_num_prompts=$NUM_PROMPTS
if [ "$SMOKE" = 1 ]; then DATASET=${DATASET:-uniform}; else DATASET=${DATASET:-sharegpt-like}; fi
apply_defaults 12 16 8 400 512 256
if [ "$SMOKE" = 1 ]; then
  RATES=${RATES:-4 16 64}
  MAX_NUM_SEQS=${MAX_NUM_SEQS:-8}
else
  RATES=${RATES:-1 2 4 8 16 32}
  MAX_NUM_SEQS=${MAX_NUM_SEQS:-256}
fi

for policy in $POLICIES; do
  start_server "$policy" --policy "$policy" --max-num-seqs "$MAX_NUM_SEQS"
  for rate in $RATES; do
    n=$NUM_PROMPTS
    if [ "$SMOKE" != 1 ] && [ -z "$fixed_num_prompts" ]; then
      n=$(awk -v r="$rate" -v s="$SECONDS_PER_RATE" 'BEGIN { n = int(r * s + 0.5); print (n < 32 ? 32 : n) }')
    fi
    run_bench "$OUT_DIR/$policy-rate$rate.json" --request-rate "$rate" --num-prompts "$n" \
      --label "$policy" --point "request_rate=$rate"
  done
  stop_server
done

write_summary "Static vs continuous batching" \
  "Each policy served the same Poisson workload (the same seed: the same prompts, lengths and arrival times) at request rates $RATES req/s (max_num_seqs $MAX_NUM_SEQS). Static batching forms a batch only when none runs and admits nothing until it has finished; continuous batching admits waiting requests every iteration."
