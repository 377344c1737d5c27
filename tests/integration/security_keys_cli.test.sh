#!/usr/bin/env bash
# `troupe keys`: the key is printed once, only its SHA-256 is stored (checked
# with coreutils sha256sum and the sqlite3 CLI), list never shows it, revoke
# marks the row.
set -euo pipefail
bin=${TROUPE_BIN:?TROUPE_BIN must name the troupe binary}
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 CLI not installed"; exit 77; }
if ! "$bin" keys --help >/dev/null 2>&1; then
  echo "SKIP: this troupe binary has no 'keys' command"; exit 77
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
db=$tmp/keys.db
fail() { echo "FAIL: $*"; exit 1; }

key=$("$bin" keys create --name ci --rpm 5 --tpm 1000 --models tiny,qwen --db "$db" 2>"$tmp/err")
[[ $key =~ ^trp_[A-Za-z0-9_-]{49}$ ]] || fail "key has the wrong shape: $key"
id=$(grep -oE 'key_[0-9a-f]{12}' "$tmp/err" | head -1)
[ -n "$id" ] || fail "create did not name the key id: $(cat "$tmp/err")"
grep -q "only this once" "$tmp/err" || fail "create did not warn that the key is shown once"

want=$(printf '%s' "$key" | sha256sum | cut -d' ' -f1)
row=$(sqlite3 "$db" "SELECT key_sha256, name, max_requests_per_minute, max_tokens_per_minute, allowed_models, revoked_at IS NULL FROM api_keys WHERE id = '$id'")
[ "$row" = "$want|ci|5|1000|tiny,qwen|1" ] || fail "stored row is '$row', want '$want|ci|5|1000|tiny,qwen|1'"
if grep -qa -- "${key#trp_}" "$db"* ; then fail "the key text is stored in the database"; fi

key2=$("$bin" keys create --db "$db" 2>/dev/null)
[ "$key2" != "$key" ] || fail "two creates gave the same key"

list=$("$bin" keys list --db "$db")
echo "$list" | grep -q "$id" || fail "list does not show $id"
echo "$list" | grep -q "ci" || fail "list does not show the name"
if echo "$list" | grep -q -- "${key#trp_}"; then fail "list shows the key"; fi
if echo "$list" | grep -q "$want"; then fail "list shows the key hash"; fi

"$bin" keys revoke "$id" --db "$db" | grep -q "Revoked $id" || fail "revoke did not confirm"
[ "$(sqlite3 "$db" "SELECT revoked_at IS NOT NULL FROM api_keys WHERE id = '$id'")" = 1 ] || fail "revoked_at not set"
"$bin" keys revoke "$id" --db "$db" | grep -q "already revoked" || fail "second revoke not reported"
if "$bin" keys revoke key_000000000000 --db "$db" 2>/dev/null; then fail "revoking an unknown id succeeded"; fi
if "$bin" keys create --rpm -3 --db "$db" 2>/dev/null; then fail "a negative --rpm was accepted"; fi

# In a folder without a database, list and revoke refuse (and say where the
# database was looked for) instead of creating an empty one there.
mkdir "$tmp/elsewhere"
if (cd "$tmp/elsewhere" && env -u TROUPE_KEYS_DB "$bin" keys list >/dev/null 2>"$tmp/err"); then
  fail "keys list succeeded without a database"
fi
grep -q "no key database at $tmp/elsewhere/troupe-data/keys.db" "$tmp/err" || fail "keys list did not say where it looked: $(cat "$tmp/err")"
[ ! -e "$tmp/elsewhere/troupe-data" ] || fail "keys list created a database folder"
if "$bin" keys revoke key_000000000000 --db "$tmp/none.db" 2>/dev/null; then fail "revoke succeeded without a database"; fi
[ ! -e "$tmp/none.db" ] || fail "keys revoke created a database"

# A bare `troupe serve` with no key anywhere says how to make one.
src=${TROUPE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
env -u TROUPE_KEYS_DB "$bin" serve --model "$src/tests/data/models/tiny-llama3" --port 0 --no-tls \
  --state-dir "$tmp/bare" --stats-interval-s 0 >"$tmp/bare.out" 2>"$tmp/bare.err" &
serve_pid=$!
for _ in $(seq 300); do grep -q "listening on" "$tmp/bare.out" && break; sleep 0.1; done
kill "$serve_pid"; wait "$serve_pid" || true
grep -q "no API key exists yet" "$tmp/bare.err" || fail "bare serve did not say that no key exists: $(cat "$tmp/bare.err")"
grep -qF "troupe keys create --name admin --db $tmp/bare/keys.db" "$tmp/bare.err" || fail "bare serve did not say how to create a key: $(cat "$tmp/bare.err")"
echo "PASS"
