#!/usr/bin/env bash
# The max_num_seqs sweep: continuous batching with --max-num-seqs 1, 4, 16,
# 64, 256 under saturating load (every request sent at once), giving the
# latency/throughput frontier of the batch size. The knee is marked: the first
# max_num_seqs after which output throughput never again grows by KNEE_GAIN
# (10%) or more, while the next step grows TPOT p50 by more than that gain
# (computed by `troupe bench summary|plot --knee-gain`, see bench/serving/sweep.hpp).
#
# usage: bench/experiments/max_num_seqs_sweep.sh [--smoke] [--out DIR] [--model DIR]
#          [--executor cpu|cuda] [--seqs "1 4 16 64 256"] [--knee-gain 0.10]
#          [--prompts-per-seq K] [--num-prompts N] [--input-len N] [--output-len N]
#          [--dataset D] [--server-flag FLAG]...
# Environment twins: SEQS, KNEE_GAIN, PROMPTS_PER_SEQ, TROUPE_MODEL, EXECUTOR,
# NUM_PROMPTS, INPUT_LEN, OUTPUT_LEN, DATASET, OUT_DIR, TROUPE_BIN.
# Full (H100) defaults: each max_num_seqs gets PROMPTS_PER_SEQ (4) x max_num_seqs
# prompts, at least 16 (4 full waves: 16 ... 1024), of 512 words with 256
# output tokens, unless --num-prompts fixes the number.
experiment=max_num_seqs_sweep
experiment_command="$0 $*"
source "$(dirname "$0")/lib.sh"
parse_common_args "$@"
SEQS=${SEQS:-1 4 16 64 256}
KNEE_GAIN=${KNEE_GAIN:-0.10}
PROMPTS_PER_SEQ=${PROMPTS_PER_SEQ:-4}
set -- "${EXPERIMENT_ARGS[@]}"
while [ $# -gt 0 ]; do
  case "$1" in
    --seqs) SEQS=$2; shift ;;
    --knee-gain) KNEE_GAIN=$2; shift ;;
    --prompts-per-seq) PROMPTS_PER_SEQ=$2; shift ;;
    *) echo "$experiment: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
fixed_num_prompts=$NUM_PROMPTS
apply_defaults 32 16 8 1024 512 256

for seqs in $SEQS; do
  start_server "seqs$seqs" --policy continuous --max-num-seqs "$seqs"
  n=$NUM_PROMPTS
  if [ "$SMOKE" != 1 ] && [ -z "$fixed_num_prompts" ]; then
    n=$((PROMPTS_PER_SEQ * seqs)); [ "$n" -ge 16 ] || n=16
  fi
  run_bench "$OUT_DIR/seqs$seqs.json" --request-rate inf --num-prompts "$n" --label continuous \
    --point "max_num_seqs=$seqs" --server-metrics
  stop_server
done

write_summary "max_num_seqs sweep (continuous batching, saturating load)" \
  "Every request is sent at once, so the server always has max_num_seqs sequences to run. Knee: the first max_num_seqs after which output throughput never again grows by $KNEE_GAIN (relative) or more, while the next step grows TPOT p50 by more than that gain; past it, a larger batch buys latency rather than throughput. No knee marked means the frontier still climbs within the sweep." \
  --knee-gain "$KNEE_GAIN"
