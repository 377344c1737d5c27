#!/usr/bin/env bash
# What the gateway → worker hop costs, and how throughput scales with workers.
#
#   1. TPOT at concurrency 1 and C through `troupe serve` (worker in-process)
#      and through `troupe gateway` + one `troupe worker` (loopback, BASP),
#      same workload, same machine, one after the other;
#   2. output throughput at concurrency C with 1, 2 and 4 workers behind one
#      gateway.
#
# usage: bench/cluster/hop_latency.sh [--model DIR] [--executor cpu|cuda]
#          [--concurrency C] [--num-prompts N] [--input-len N] [--output-len N]
#          [--workers "1 2 4"] [--out DIR] [--tls] [--engine-flag FLAG]...
# Defaults: the small test model on the CPU, C=64, 128 prompts of 64 words,
# 64 output tokens. --tls runs the cluster link over mutual TLS (a throwaway
# CA and certificates are made in OUT). --engine-flag adds a flag to every
# serve and worker (e.g. --engine-flag=--gpu-memory-utilization=0.4 for
# workers sharing one GPU).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
TROUPE_BIN=${TROUPE_BIN:-$root/build/troupe}
MODEL=$root/tests/data/models/tiny-llama3
EXECUTOR=cpu
CONC=64
NUM=128
IN=64
OUTLEN=64
WORKER_COUNTS="1 2 4"
OUT=$root/bench/results/cluster
TLS=0
EXTRA_ENGINE=()
while [ $# -gt 0 ]; do
  case "$1" in
    --model) MODEL=$2; shift ;;
    --executor) EXECUTOR=$2; shift ;;
    --concurrency) CONC=$2; shift ;;
    --num-prompts) NUM=$2; shift ;;
    --input-len) IN=$2; shift ;;
    --output-len) OUTLEN=$2; shift ;;
    --workers) WORKER_COUNTS=$2; shift ;;
    --out) OUT=$2; shift ;;
    --tls) TLS=1 ;;
    --engine-flag) EXTRA_ENGINE+=("$2"); shift ;;
    --engine-flag=*) EXTRA_ENGINE+=("${1#--engine-flag=}") ;;
    *) echo "hop_latency: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$OUT"
NAME=$(basename "$MODEL")
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

cluster_flags=(--cluster-plaintext)
if [ "$TLS" = 1 ]; then
  ( cd "$OUT"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -keyout ca.key -out ca.pem -subj /CN=ca 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout node.key -out node.csr -subj /CN=node 2>/dev/null
    openssl x509 -req -in node.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -out node.pem 2>/dev/null )
  cluster_flags=(--cluster-cert "$OUT/node.pem" --cluster-key "$OUT/node.key" --cluster-ca "$OUT/ca.pem")
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_line FILE REGEX: until FILE has a line matching REGEX (60 s).
wait_line() {
  for _ in $(seq 600); do grep -qE "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "hop_latency: no '$2' in $1" >&2; cat "$1" >&2; exit 1
}

engine_flags=(--model "$MODEL" --executor "$EXECUTOR" --max-waiting 4096 "${EXTRA_ENGINE[@]}")
edge_flags=(--no-tls --no-auth --host 127.0.0.1 --port 0 --log.url=off)

start_serve() {
  "$TROUPE_BIN" serve "${engine_flags[@]}" "${edge_flags[@]}" --state-dir "$OUT/state" > "$OUT/serve.out" 2> "$OUT/serve.err" &
  PIDS+=($!)
  wait_line "$OUT/serve.out" 'listening on'
  URL=$(sed -n 's/^troupe: listening on \(http:\/\/[^ ]*\)$/\1/p' "$OUT/serve.out")
}

# start_cluster N: N workers and one gateway dialing them.
start_cluster() {
  local n=$1 workers=() i port
  for i in $(seq "$n"); do
    port=$(free_port)
    "$TROUPE_BIN" worker "${engine_flags[@]}" --listen "127.0.0.1:$port" "${cluster_flags[@]}" \
      > "$OUT/worker$i.out" 2> "$OUT/worker$i.err" &
    PIDS+=($!)
    wait_line "$OUT/worker$i.out" 'serving'
    workers+=(--worker "127.0.0.1:$port")
  done
  "$TROUPE_BIN" gateway "${workers[@]}" "${cluster_flags[@]}" "${edge_flags[@]}" --state-dir "$OUT/state" \
    > "$OUT/gateway.out" 2> "$OUT/gateway.err" &
  PIDS+=($!)
  wait_line "$OUT/gateway.out" 'listening on'
  URL=$(sed -n 's/^troupe: listening on \(http:\/\/[^ ]*\)$/\1/p' "$OUT/gateway.out")
  for _ in $(seq 200); do curl -sf "$URL/ready" >/dev/null && break; sleep 0.1; done
}

stop_all() { cleanup; PIDS=(); sleep 0.5; }

bench() {  # bench LABEL CONCURRENCY
  "$TROUPE_BIN" bench --base-url "$URL" --model "$NAME" --no-progress --num-prompts "$NUM" \
    --input-len "$IN" --output-len "$OUTLEN" --max-concurrency "$2" --seed 0 --label "$1" \
    --out "$OUT/$1.json" > "$OUT/$1.txt"
}

figure() {  # figure FILE.json → "tpot_p50 tpot_mean tok/s"
  python3 - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
def find(d, key):
    if isinstance(d, dict):
        if key in d: return d[key]
        for v in d.values():
            x = find(v, key)
            if x is not None: return x
    return None
t = find(r, "tpot_ms") or {}
print(f'{t.get("p50", float("nan")):.3f} {t.get("mean", float("nan")):.3f} {find(r, "output_throughput") or float("nan"):.1f}')
PY
}

start_serve
bench serve-c1 1
bench serve-c$CONC "$CONC"
stop_all
start_cluster 1
bench gateway-c1 1
bench gateway-c$CONC "$CONC"
stop_all
for n in $WORKER_COUNTS; do
  start_cluster "$n"
  bench "workers-$n" "$CONC"
  stop_all
done

echo
echo "Gateway → worker hop ($NAME, $EXECUTOR executor, $(nproc) cores, $NUM prompts of $IN words, $OUTLEN tokens out, link $([ "$TLS" = 1 ] && echo mutual-TLS || echo plaintext) on loopback)"
printf '%-22s %12s %12s %12s\n' run "TPOT p50 ms" "TPOT mean ms" "output tok/s"
for r in serve-c1 gateway-c1 "serve-c$CONC" "gateway-c$CONC"; do
  printf '%-22s %12s %12s %12s\n' "$r" $(figure "$OUT/$r.json")
done
echo
echo "Scale-out at concurrency $CONC"
printf '%-22s %12s %12s %12s\n' workers "TPOT p50 ms" "TPOT mean ms" "output tok/s"
for n in $WORKER_COUNTS; do printf '%-22s %12s %12s %12s\n' "$n" $(figure "$OUT/workers-$n.json"); done
