#!/usr/bin/env bash
# The request log on PostgreSQL through the real `troupe serve --log.url
# postgresql://…` (a throwaway server started here by pg_lib.sh): the server
# creates the schema, and every request (two completions, a streamed chat, a
# 401) lands as one row with the key id, the token counts curl saw and no
# secret. Rows of requests that finished a
# flush interval before a SIGKILL survive it.
set -euo pipefail
bin=${TROUPE_BIN:?TROUPE_BIN must name the troupe binary}
src=${TROUPE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$(dirname "$0")/pg_lib.sh"
pg_require
for tool in curl node; do
  command -v $tool >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
model=$src/tests/data/models/tiny-llama3
[ -f "$model/tokenizer.json" ] || { echo "SKIP: run scripts/setup-test-data.sh first"; exit 77; }
tmp=$(mktemp -d)
serve_pid=
stop() {
  [ -n "$serve_pid" ] && kill -9 "$serve_pid" 2>/dev/null || true
  pg_stop "$tmp"
  rm -rf "$tmp"
}
trap stop EXIT
fail() { echo "FAIL: $*"; [ -f "$tmp/serve.err" ] && cat "$tmp/serve.err"; exit 1; }

pg_start "$tmp"
url=$pg_url

state=$tmp/state
mkdir -p "$state"
created=$("$bin" keys create --name pg --db "$state/keys.db" 2>"$tmp/key.err") || fail "keys create"
key=$created
key_id=$(sed -n 's/^Created \([^ .]*\).*/\1/p' "$tmp/key.err")
[ -n "$key_id" ] || fail "no key id in: $(cat "$tmp/key.err")"

"$bin" serve --model "$model" --port 0 --no-tls --state-dir "$state" --log.url "$url" \
  --flush-ms 200 >"$tmp/serve.out" 2>"$tmp/serve.err" &
serve_pid=$!
base=
for _ in $(seq 1 600); do
  base=$(sed -n 's/^troupe: listening on \(http:[^ ]*\).*/\1/p' "$tmp/serve.out")
  [ -n "$base" ] && break
  kill -0 "$serve_pid" 2>/dev/null || fail "serve exited"
  sleep 0.2
done
[ -n "$base" ] || fail "serve did not start"
grep -q "request log on PostgreSQL" "$tmp/serve.err" || fail "no 'request log on PostgreSQL' line"
grep -q "troupe@" "$tmp/serve.err" && fail "the PostgreSQL URL was printed"

mid=$(curl -sS "$base/v1/models" -H "Authorization: Bearer $key" | node -e 'console.log(JSON.parse(require("fs").readFileSync(0,"utf8")).data[0].id)')
# usage lines: "<id> <prompt_tokens> <completion_tokens>"
: >"$tmp/seen"
for p in "Hello there" "Once upon a time"; do
  curl -sS "$base/v1/completions" -H "Authorization: Bearer $key" -H 'content-type: application/json' \
    -d "{\"model\":\"$mid\",\"prompt\":\"$p\",\"max_tokens\":4}" |
    node -e 'const b=JSON.parse(require("fs").readFileSync(0,"utf8")); console.log(b.id, b.usage.prompt_tokens, b.usage.completion_tokens)' >>"$tmp/seen" ||
    fail "completion"
done
curl -sSN "$base/v1/chat/completions" -H "Authorization: Bearer $key" -H 'content-type: application/json' \
  -d "{\"model\":\"$mid\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":5}" |
  node -e 'const ev=require("fs").readFileSync(0,"utf8").split("\n").filter(l=>l.startsWith("data: {")).map(l=>JSON.parse(l.slice(6)));
           const u=ev.find(e=>e.usage).usage; console.log(ev[0].id, u.prompt_tokens, u.completion_tokens)' >>"$tmp/seen" ||
  fail "streamed chat"
code=$(curl -sS -o /dev/null -w '%{http_code}' "$base/v1/completions" -H 'Authorization: Bearer sk-nope-0123456789' \
  -H 'x-request-id: pg-unauthorized' -H 'content-type: application/json' -d "{\"model\":\"$mid\",\"prompt\":\"x\"}")
[ "$code" = 401 ] || fail "bad key gave $code"
echo "pg-unauthorized 0 0" >>"$tmp/seen"

# A flush interval and then some; then SIGKILL: nothing may be lost.
sleep 1
kill -9 "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; serve_pid=

"$bin" logs export --since 0 --db "$url" >"$tmp/rows.jsonl" || fail "logs export"
node - "$tmp/rows.jsonl" "$tmp/seen" "key:$key_id" "$mid" <<'EOF' || fail "rows differ (above)"
const fs = require('fs');
const [rowsFile, seenFile, principal, model] = process.argv.slice(2);
const rows = fs.readFileSync(rowsFile, 'utf8').trim().split('\n').map(JSON.parse);
const seen = fs.readFileSync(seenFile, 'utf8').trim().split('\n').map((l) => l.split(' '));
let bad = 0;
const want = (c, what) => { if (!c) { console.log('FAIL:', what); bad++; } };
want(rows.length === seen.length, `${rows.length} rows, want ${seen.length}`);
for (const [id, pt, ct] of seen) {
  const r = rows.find((x) => x.request_id === id);
  want(r, `row ${id}`);
  if (!r) continue;
  const refused = id === 'pg-unauthorized';
  want(r.principal === (refused ? '' : principal), `${id}: principal ${r.principal}`);
  want(r.model === (refused ? "" : model), `${id}: model ${r.model}`);
  want(r.status === (refused ? 401 : 200), `${id}: status ${r.status}`);
  want(r.prompt_tokens === +pt && r.completion_tokens === +ct, `${id}: tokens ${r.prompt_tokens}+${r.completion_tokens}, curl saw ${pt}+${ct}`);
  if (!refused) want(r.ttft_ms > 0 && r.queue_time_ms >= 0, `${id}: timings ${r.ttft_ms} ${r.queue_time_ms}`);
  want(r.client_address === '127.0.0.1', `${id}: client ${r.client_address}`);
}
process.exit(bad ? 1 : 0);
EOF
# The secret is nowhere in the database.
n=$(psql "$url" -X -At -c "SELECT count(*) FROM request_log WHERE row_to_json(request_log)::text LIKE '%$key%'")
[ "$n" = 0 ] || fail "the key secret is in request_log"
echo "PASS"
