#!/usr/bin/env bash
# HTTP edge throughput: requests/s of GET /v1/models over TLS keep-alive from
# `troupe serve`, against Debian's nginx serving the same JSON bytes with the
# same certificate in the same run, printed as a ratio. Loopback only; each
# load run is bounded by its duration.
#
# usage: bench/http_bench.sh [--model DIR] [--duration S] [--connections N] [--threads N]
# needs: wrk, nginx (apt-get install wrk nginx-light), a built troupe (TROUPE_BIN
# or build/troupe).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${TROUPE_BIN:-$root/build/troupe}
model=$root/tests/data/models/tiny-llama3
duration=10 connections=32 threads=2
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "http_bench: needs wrk (apt-get install wrk)" >&2; exit 2; }
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx_bin" ] || { echo "http_bench: needs nginx (apt-get install nginx-light)" >&2; exit 2; }
work=$(mktemp -d)
key=sk-bench
cleanup() {
  [ -n "${tpid:-}" ] && kill -TERM "$tpid" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill -QUIT "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
[ -n "${HTTP_BENCH_KEEP:-}" ] && trap - EXIT

"$bin" serve --model "$model" --port 0 --api-key "$key" --state-dir "$work/state" >"$work/out" 2>"$work/err" &
tpid=$!
for _ in $(seq 1 300); do grep -q 'listening on' "$work/out" 2>/dev/null && break; sleep 0.2; done
url=$(sed -n 's/^troupe: listening on //p' "$work/out")
[ -n "$url" ] || { cat "$work/err" >&2; exit 1; }
cert=$work/state/tls/cert.pem
chmod 755 "$work"  # nginx workers run as www-data
curl -sS --cacert "$cert" -H "Authorization: Bearer $key" "$url/v1/models" >"$work/models.json"
chmod 644 "$work/models.json"

nport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/nginx.conf" <<CONF
daemon on;
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $work/nginx-tmp;
  proxy_temp_path $work/nginx-tmp;
  fastcgi_temp_path $work/nginx-tmp;
  uwsgi_temp_path $work/nginx-tmp;
  scgi_temp_path $work/nginx-tmp;
  server {
    listen 127.0.0.1:$nport ssl;
    ssl_certificate $cert;
    ssl_certificate_key $work/state/tls/key.pem;
    location = /v1/models { default_type application/json; alias $work/models.json; }
  }
}
CONF
"$nginx_bin" -c "$work/nginx.conf" -p "$work" -e "$work/nginx-error.log"
sleep 0.5
curl -sS --cacert "$cert" "https://localhost:$nport/v1/models" | cmp -s - "$work/models.json" ||
  { echo "http_bench: nginx does not serve the same bytes" >&2; exit 1; }

rps() {  # $1 = url
  wrk -t"$threads" -c"$connections" -d"${duration}s" -H "Authorization: Bearer $key" "$1" |
    awk '/Requests\/sec:/ {print $2}'
}
troupe_rps=$(rps "$url/v1/models")
nginx_rps=$(rps "https://127.0.0.1:$nport/v1/models")
echo "GET /v1/models, TLS keep-alive, $connections connections, ${duration}s each (wrk -t$threads)"
echo "troupe: $troupe_rps req/s"
echo "nginx:  $nginx_rps req/s"
awk -v a="$troupe_rps" -v b="$nginx_rps" 'BEGIN { printf "ratio troupe/nginx: %.2f\n", a / b }'
