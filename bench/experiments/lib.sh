# Shared by the experiment scripts (sourced, not run): options, the server's
# life cycle, and the output folder. Every parameter has an environment twin
# so a run can be repeated exactly; flags override the environment.
#
#   --smoke            tiny bundled model on the CPU, a few short prompts (seconds)
#   --out DIR          output folder (default bench/results/<experiment>-<UTC date>/)
#   --model DIR        checkpoint to serve          ($TROUPE_MODEL)
#   --executor E       cpu | cuda | auto            ($EXECUTOR)
#   --num-prompts N    requests per run             ($NUM_PROMPTS)
#   --input-len N      prompt words (~tokens)       ($INPUT_LEN)
#   --output-len N     generated tokens             ($OUTPUT_LEN)
#   --dataset D        fixed | uniform | sharegpt-like lengths ($DATASET)
#   --server-flag F    extra `troupe serve` flag, repeatable (e.g. --server-flag --kv-cache-bytes=4294967296)
# plus the experiment's own options (see its header).

set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TROUPE_BIN=${TROUPE_BIN:-$repo_root/build/troupe}
SMOKE=${SMOKE:-0}
OUT_DIR=${OUT_DIR:-}
TROUPE_MODEL=${TROUPE_MODEL:-}
EXECUTOR=${EXECUTOR:-}
NUM_PROMPTS=${NUM_PROMPTS:-}
INPUT_LEN=${INPUT_LEN:-}
OUTPUT_LEN=${OUTPUT_LEN:-}
DATASET=${DATASET:-}
SERVER_FLAGS=()
EXPERIMENT_ARGS=()   # options the experiment parses itself

parse_common_args() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --smoke) SMOKE=1 ;;
      --out) OUT_DIR=$2; shift ;;
      --model) TROUPE_MODEL=$2; shift ;;
      --executor) EXECUTOR=$2; shift ;;
      --num-prompts) NUM_PROMPTS=$2; shift ;;
      --input-len) INPUT_LEN=$2; shift ;;
      --output-len) OUTPUT_LEN=$2; shift ;;
      --dataset) DATASET=$2; shift ;;
      --server-flag) SERVER_FLAGS+=("$2"); shift ;;
      -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
      *) EXPERIMENT_ARGS+=("$1") ;;
    esac
    shift
  done
}

# Fills what the flags and environment left empty: smoke = tiny model on the
# CPU; full = the H100 settings, which need a model named explicitly.
# $1 $2 $3 = smoke num_prompts, input_len, output_len; $4 $5 $6 = full ones.
apply_defaults() {
  if [ "$SMOKE" = 1 ]; then
    TROUPE_MODEL=${TROUPE_MODEL:-$repo_root/models/troupe-tiny-chat}
    EXECUTOR=${EXECUTOR:-cpu}
    NUM_PROMPTS=${NUM_PROMPTS:-$1}; INPUT_LEN=${INPUT_LEN:-$2}; OUTPUT_LEN=${OUTPUT_LEN:-$3}
  else
    if [ -z "$TROUPE_MODEL" ]; then
      echo "$experiment: the full run needs --model DIR (or \$TROUPE_MODEL); --smoke uses the bundled tiny model" >&2
      exit 2
    fi
    EXECUTOR=${EXECUTOR:-cuda}
    NUM_PROMPTS=${NUM_PROMPTS:-$4}; INPUT_LEN=${INPUT_LEN:-$5}; OUTPUT_LEN=${OUTPUT_LEN:-$6}
  fi
  DATASET=${DATASET:-fixed}
  [ -x "$TROUPE_BIN" ] || { echo "$experiment: no troupe binary at $TROUPE_BIN (set TROUPE_BIN)" >&2; exit 2; }
  [ -d "$TROUPE_MODEL" ] || { echo "$experiment: no model folder $TROUPE_MODEL" >&2; exit 2; }
  MODEL_NAME=$(basename "$TROUPE_MODEL")
  if [ -z "$OUT_DIR" ]; then
    OUT_DIR=$repo_root/bench/results/$experiment-$(date -u +%Y%m%dT%H%M%SZ)
    [ "$SMOKE" = 1 ] && OUT_DIR=$OUT_DIR-smoke
  fi
  mkdir -p "$OUT_DIR"
  STATE_ROOT=$(mktemp -d)
  trap 'stop_server; rm -rf "$STATE_ROOT"' EXIT
  echo "$experiment: model $TROUPE_MODEL on $EXECUTOR, results in $OUT_DIR" >&2
}

SERVER_PID=
SERVER_URL=

# start_server NAME FLAG...: `troupe serve` on a free port (plain HTTP, no
# auth: the benchmark client and the server share the machine), waits until it
# listens and sets SERVER_URL. Its log is $OUT_DIR/server-NAME.log. The
# admission queue holds every request of a run (MAX_WAITING, default 4096), so
# a burst is queued rather than answered 503.
start_server() {
  local name=$1; shift
  local log=$OUT_DIR/server-$name.log
  mkdir -p "$STATE_ROOT/$name"
  : > "$STATE_ROOT/$name/stdout"  # exists before the background job opens it
  "$TROUPE_BIN" serve --model "$TROUPE_MODEL" --executor "$EXECUTOR" --no-tls --no-auth \
    --host 127.0.0.1 --port 0 --state-dir "$STATE_ROOT/$name" --log.url=off \
    --max-waiting "${MAX_WAITING:-4096}" "$@" "${SERVER_FLAGS[@]}" > "$STATE_ROOT/$name/stdout" 2> "$log" &
  SERVER_PID=$!
  local i
  for i in $(seq 1200); do
    SERVER_URL=$(sed -n 's/^troupe: listening on \(http:\/\/[^ ]*\)$/\1/p' "$STATE_ROOT/$name/stdout" || true)
    [ -n "$SERVER_URL" ] && break
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "$experiment: troupe serve $* exited; its log:" >&2
      cat "$log" >&2
      exit 1
    fi
    sleep 0.1
  done
  [ -n "$SERVER_URL" ] || { echo "$experiment: troupe serve did not listen within 120 s" >&2; exit 1; }
  echo "$experiment: server $name ($*) at $SERVER_URL" >&2
}

stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
}

# run_bench OUT.json BENCH_FLAG...: one `troupe bench` run against SERVER_URL
# with the common workload; its table goes to OUT.txt. A --num-prompts among
# the flags overrides NUM_PROMPTS.
run_bench() {
  local json=$1; shift
  "$TROUPE_BIN" bench --base-url "$SERVER_URL" --model "$MODEL_NAME" --no-progress \
    --num-prompts "$NUM_PROMPTS" --input-len "$INPUT_LEN" --output-len "$OUTPUT_LEN" \
    --dataset "$DATASET" --seed 0 --out "$json" "$@" > "${json%.json}.txt"
}

# write_summary TITLE DESCRIPTION SUMMARY_FLAG...: summary.md = what was run,
# where, and the markdown table of every result; then the charts.
write_summary() {
  local title=$1 description=$2; shift 2
  local commit
  commit=$(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo unknown)
  {
    echo "# $title"
    echo
    echo "$description"
    echo
    echo "- command: \`$experiment_command\`"
    echo "- commit: $commit; date: $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "- model: $MODEL_NAME on executor $EXECUTOR$([ "$SMOKE" = 1 ] && echo ' (CPU smoke: tiny model, figures say nothing about a GPU)')"
    echo "- workload: dataset $DATASET, input-len $INPUT_LEN words, output-len $OUTPUT_LEN tokens (fixed = exact; uniform = lengths in [len/2, 3len/2]; sharegpt-like = log-normal lengths, mean 202 in / 179 out, ignoring both); prompts per run = completed + failed"
    echo "- machine: $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)$(command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 | sed 's/^/; GPU: /')"
    echo
    "$TROUPE_BIN" bench summary "$OUT_DIR"/*.json "$@"
  } > "$OUT_DIR/summary.md"
  if ! command -v gnuplot >/dev/null; then
    # A GPU host may lack gnuplot: the JSON is all a chart needs, later and elsewhere.
    echo "$experiment: gnuplot not found, no charts; draw them later with:" \
      "troupe bench plot $OUT_DIR/*.json --out $OUT_DIR/chart $*" >&2
    echo "$experiment: wrote $OUT_DIR/summary.md" >&2
    return
  fi
  "$TROUPE_BIN" bench plot "$OUT_DIR"/*.json --out "$OUT_DIR/chart" --format png "$@" >&2
  "$TROUPE_BIN" bench plot "$OUT_DIR"/*.json --out "$OUT_DIR/chart" --format svg "$@" >&2
  echo "$experiment: wrote $OUT_DIR/summary.md and $OUT_DIR/chart_*.png|svg" >&2
}
