#!/usr/bin/env bash
# The max_num_seqs sweep: continuous batching with --max-num-seqs 1, 4, 16,
# 64, 256 under saturating load (every request sent at once), giving the
# latency/throughput frontier of the batch size. The knee is marked: the first
# max_num_seqs after which the next step raises output throughput by less
# than KNEE_GAIN (10%) while TPOT p50 grows by more than throughput does
# (computed by `troupe bench summary|plot --knee`).
#
# usage: bench/experiments/max_num_seqs_sweep.sh [--smoke] [--out DIR] [--model DIR]
#          [--executor cpu|cuda] [--seqs "1 4 16 64 256"] [--knee-gain 0.10]
#          [--num-prompts N] [--input-len N] [--output-len N] [--server-flag FLAG]...
# Environment twins: SEQS, KNEE_GAIN, TROUPE_MODEL, EXECUTOR, NUM_PROMPTS,
# INPUT_LEN, OUTPUT_LEN, OUT_DIR, TROUPE_BIN.
# Full (H100) defaults: 1024 prompts (4x the largest batch) of 512 tokens with
# 256 output tokens.
experiment=max_num_seqs_sweep
experiment_command="$0 $*"
source "$(dirname "$0")/lib.sh"
parse_common_args "$@"
SEQS=${SEQS:-1 4 16 64 256}
KNEE_GAIN=${KNEE_GAIN:-0.10}
set -- "${EXPERIMENT_ARGS[@]}"
while [ $# -gt 0 ]; do
  case "$1" in
    --seqs) SEQS=$2; shift ;;
    --knee-gain) KNEE_GAIN=$2; shift ;;
    *) echo "$experiment: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
apply_defaults 32 16 8 1024 512 256

for seqs in $SEQS; do
  start_server "seqs$seqs" --policy continuous --max-num-seqs "$seqs"
  run_bench "$OUT_DIR/seqs$seqs.json" --request-rate inf --label continuous \
    --point "max_num_seqs=$seqs" --server-metrics
  stop_server
done

write_summary "max_num_seqs sweep (continuous batching, saturating load)" \
  "Every request is sent at once, so the server always has max_num_seqs sequences to run. Knee: the first max_num_seqs after which the next step raises output throughput by less than $KNEE_GAIN (relative) while TPOT p50 grows by more than throughput does; past it, a larger batch buys latency rather than throughput. No knee marked means the frontier still climbs within the sweep." \
  --knee-gain "$KNEE_GAIN"
