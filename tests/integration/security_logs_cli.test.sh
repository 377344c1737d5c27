#!/usr/bin/env bash
# `troupe logs`: migrate creates the schema, rows inserted with the sqlite3
# CLI come back from tail and export (JSON lines, checked with node).
set -euo pipefail
bin=${TROUPE_BIN:?TROUPE_BIN must name the troupe binary}
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 CLI not installed"; exit 77; }
command -v node >/dev/null || { echo "SKIP: node not installed"; exit 77; }
if ! "$bin" logs --help >/dev/null 2>&1; then
  echo "SKIP: this troupe binary has no 'logs' command"; exit 77
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
db=$tmp/requests.db
fail() { echo "FAIL: $*"; exit 1; }

if "$bin" logs tail --db "sqlite:$db" 2>/dev/null; then fail "tail of a missing database succeeded"; fi
[ ! -e "$db" ] || fail "tail created the database"
"$bin" logs migrate --db "sqlite:$db" || fail "migrate failed"
[ "$(sqlite3 "$db" "SELECT version FROM schema_version WHERE component='request_log'")" = 2 ] ||
  fail "schema_version not recorded"

# 2026-01-05T08:00:00Z = 1767600000 s.
for i in 0 1 2 3; do
  sqlite3 "$db" "INSERT INTO request_log (request_id, principal, model, endpoint, status,
    finish_reason, prompt_tokens, completion_tokens, queue_time_ms, ttft_ms, total_ms,
    client_address, started_at, prompt_text) VALUES ('req-$i', 'key:key_ab', 'tiny',
    '/v1/chat/completions', 200, 'stop', $((10 + i)), $((2 * i)), 1.5, 20.25, 100.5,
    '127.0.0.1:5000$i', $((1767600000000 + 60000 * i)), CASE WHEN $i = 3 THEN 'hi \"there\"' END)"
done

tail_json=$("$bin" logs tail -n 2 --json --db "sqlite:$db")
echo "$tail_json" | node -e '
  const lines = require("fs").readFileSync(0, "utf8").trim().split("\n").map(JSON.parse);
  const ok = lines.length === 2 && lines[0].request_id === "req-2" && lines[1].request_id === "req-3"
    && lines[1].prompt_text === "hi \"there\"" && lines[1].prompt_tokens === 13
    && lines[1].started_at === "2026-01-05T08:03:00.000Z" && lines[0].ttft_ms === 20.25;
  if (!ok) { console.error(JSON.stringify(lines)); process.exit(1); }' || fail "tail -n 2 --json"

"$bin" logs tail --db "sqlite:$db" | grep -q "req\|key:key_ab" || fail "tail summary"
[ "$("$bin" logs tail --db "sqlite:$db" | wc -l)" = 4 ] || fail "tail default shows all 4 rows"

for since in 2026-01-05T08:01:00Z 1767600060 "2026-01-05T09:01:00+01:00"; do
  got=$("$bin" logs export --since "$since" --db "sqlite:$db" |
        node -e 'console.log(require("fs").readFileSync(0, "utf8").trim().split("\n")
                   .map(l => JSON.parse(l).request_id).join(","))')
  [ "$got" = "req-1,req-2,req-3" ] || fail "export --since $since gave '$got'"
done
if "$bin" logs export --since yesterday --db "sqlite:$db" 2>/dev/null; then
  fail "a bad --since was accepted"
fi
echo "PASS"
