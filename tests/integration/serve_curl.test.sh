#!/usr/bin/env bash
# `troupe serve` with curl over HTTPS (the generated self-signed certificate
# via --cacert): the listening line, endpoints, SSE, a slowloris client
# dropped, a graceful SIGTERM (exit 0), and the certificate reused on restart.
set -u
: "${TROUPE_BIN:?}" "${TROUPE_SOURCE_DIR:?}"
model="$TROUPE_SOURCE_DIR/tests/data/models/tiny-llama3"
[ -d "$model" ] || { echo "SKIP: test model $model is not there yet"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: no curl"; exit 77; }
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$work"' EXIT
key=sk-curl-test
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi; }

start() {
  "$TROUPE_BIN" serve --model "$model" --port 0 --api-key "$key" --state-dir "$work/state" \
    --header-timeout-ms 1000 >"$work/out" 2>"$work/err" &
  pid=$!
  for _ in $(seq 1 600); do
    grep -q 'troupe: listening on' "$work/out" 2>/dev/null && break
    kill -0 $pid 2>/dev/null || { echo "serve died:"; cat "$work/err"; exit 1; }
    sleep 0.2
  done
  url=$(sed -n 's/^troupe: listening on \(https:\/\/[^ ]*\)$/\1/p' "$work/out")
  port=${url##*:}
}

start
check "one https listening line with the real port" '[ -n "$url" ] && [ "$port" != 0 ] && [ "$(wc -l <"$work/out")" = 1 ]'
cert="$work/state/tls/cert.pem"
check "self-signed certificate written" '[ -s "$cert" ] && grep -q "created self-signed certificate" "$work/err"'
check "certificate names localhost and 127.0.0.1" 'openssl x509 -in "$cert" -noout -ext subjectAltName | grep -q "DNS:localhost, IP Address:127.0.0.1"'
c() { curl -sS --cacert "$cert" -H "Authorization: Bearer $key" "$@"; }

check "GET /health over verified TLS" '[ "$(c -o /dev/null -w "%{http_code}" "$url/health")" = 200 ]'
check "GET /ready" '[ "$(c -o /dev/null -w "%{http_code}" "$url/ready")" = 200 ]'
models=$(c "$url/v1/models")
check "GET /v1/models lists the model" 'echo "$models" | grep -q "\"object\":\"list\""'
mid=$(echo "$models" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
check "GET /v1/models/{id}" '[ "$(c -o /dev/null -w "%{http_code}" "$url/v1/models/$mid")" = 200 ]'
chat=$(c -H 'Content-Type: application/json' -d "{\"model\":\"$mid\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":4}" "$url/v1/chat/completions")
check "chat completion" 'echo "$chat" | grep -q "\"object\":\"chat.completion\""'
sse=$(c -N -H 'Content-Type: application/json' -d "{\"model\":\"$mid\",\"prompt\":\"Hi\",\"max_tokens\":4,\"stream\":true}" "$url/v1/completions")
check "SSE stream ends with [DONE]" '[ "$(echo "$sse" | grep -c "^data: ")" -ge 2 ] && echo "$sse" | grep -q "^data: \[DONE\]"'
tok=$(c -H 'Content-Type: application/json' -d '{"prompt":"Hello world"}' "$url/tokenize")
check "tokenize" 'echo "$tok" | grep -q "\"count\":" && echo "$tok" | grep -q "\"max_model_len\":"'
ids=$(echo "$tok" | sed -n 's/.*"tokens":\(\[[^]]*\]\).*/\1/p')
detok=$(c -H 'Content-Type: application/json' -d "{\"tokens\":$ids}" "$url/detokenize")
check "detokenize round trip" 'echo "$detok" | grep -q "Hello world"'
metrics=$(c "$url/metrics")
check "metrics in Prometheus text" 'echo "$metrics" | grep -q "^troupe:http_requests_total{endpoint=\"/v1/models\",status=\"200\"}"'
check "untrusted certificate is refused" '! curl -sS -o /dev/null "$url/health" 2>/dev/null'
check "x-request-id on every response" 'c -D - -o /dev/null "$url/nope" | grep -qi "^x-request-id:"'

# Slowloris: a TCP client that never finishes its TLS handshake is dropped
# after header_timeout_ms (1 s here).
t0=$(date +%s%N)
timeout 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; printf '\x16\x03\x01' >&3; cat <&3 >/dev/null"
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
check "slowloris dropped after the header timeout ($ms ms)" '[ $ms -ge 800 ] && [ $ms -lt 5000 ]'
check "still serving after slowloris" '[ "$(c -o /dev/null -w "%{http_code}" "$url/health")" = 200 ]'

# Graceful stop: an in-flight stream finishes, the process exits 0.
c -N -H 'Content-Type: application/json' -d "{\"model\":\"$mid\",\"prompt\":\"Hi\",\"max_tokens\":32,\"ignore_eos\":true,\"stream\":true}" "$url/v1/completions" >"$work/inflight" &
cpid=$!
sleep 0.3
kill -TERM $pid
wait $pid; rc=$?
wait $cpid
check "SIGTERM exits 0 (rc=$rc)" '[ $rc = 0 ]'
check "in-flight stream finished during the grace period" 'grep -q "^data: \[DONE\]" "$work/inflight"'

# Restart: the certificate is reused.
before=$(sha256sum "$cert")
: >"$work/out"
start
check "certificate reused on restart" '[ "$(sha256sum "$cert")" = "$before" ] && grep -q "using self-signed certificate" "$work/err"'
kill -TERM $pid; wait $pid
echo "$pass passed, $fail failed"
[ $fail = 0 ]
