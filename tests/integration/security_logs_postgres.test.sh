#!/usr/bin/env bash
# `troupe logs` against a real PostgreSQL server started here (pg_lib.sh):
# migrate creates the schema, rows inserted with psql come back from
# tail and export.
set -euo pipefail
bin=${TROUPE_BIN:?TROUPE_BIN must name the troupe binary}
source "$(dirname "$0")/pg_lib.sh"
pg_require
command -v node >/dev/null || { echo "SKIP: node not installed"; exit 77; }
if ! "$bin" logs --help >/dev/null 2>&1; then
  echo "SKIP: this troupe binary has no 'logs' command"; exit 77
fi
tmp=$(mktemp -d)
stop() { pg_stop "$tmp"; rm -rf "$tmp"; }
trap stop EXIT
fail() { echo "FAIL: $*"; exit 1; }

pg_start "$tmp"
url=$pg_url

if "$bin" logs tail --db "$url" 2>/dev/null; then fail "tail before migrate succeeded"; fi
"$bin" logs migrate --db "$url" || fail "migrate"
[ "$(psql "$url" -X -At -c "SELECT version FROM schema_version WHERE component='request_log'")" = 2 ] ||
  fail "schema_version not recorded"
for i in 0 1 2; do
  psql "$url" -X -q -v ON_ERROR_STOP=1 -c "INSERT INTO request_log (request_id, principal, model,
    endpoint, status, finish_reason, prompt_tokens, completion_tokens, queue_time_ms, ttft_ms,
    total_ms, client_address, started_at) VALUES ('req-$i', 'jwt:user-1', 'tiny',
    '/v1/completions', 200, 'length', 5, 16, 0.5, 12.5, 80.25, '10.0.0.$i:1',
    $((1767600000000 + 60000 * i)))" || fail "insert"
done
got=$("$bin" logs export --since 2026-01-05T08:01:00Z --db "$url" |
      node -e 'console.log(require("fs").readFileSync(0, "utf8").trim().split("\n").map(JSON.parse)
                 .map(r => `${r.request_id}:${r.principal}:${r.completion_tokens}:${r.total_ms}`).join(","))')
[ "$got" = "req-1:jwt:user-1:16:80.25,req-2:jwt:user-1:16:80.25" ] || fail "export gave '$got'"
[ "$("$bin" logs tail -n 1 --json --db "$url" | node -e 'console.log(JSON.parse(require("fs").readFileSync(0,"utf8")).request_id)')" = req-2 ] ||
  fail "tail -n 1"
echo "PASS"
