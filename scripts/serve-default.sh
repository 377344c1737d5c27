#!/usr/bin/env bash
# Starts the all-in-one server on its embedded defaults: the bundled model,
# HTTPS with a self-signed certificate generated in troupe-data/tls/, API keys
# and the request log in SQLite files under troupe-data/. On the first start it
# creates an API key named "quickstart" and prints it once (only its SHA-256 is
# stored). Extra arguments go to `troupe serve` (e.g. --port 9443).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin=build/troupe
state=${TROUPE_STATE_DIR:-troupe-data}
keys_db=$state/keys.db

has_quickstart_key() {
  "$bin" keys list --db "$keys_db" 2>/dev/null |
    awk 'NR > 1 && $2 == "quickstart" && $6 == "-" { found = 1 } END { exit !found }'
}

if ! has_quickstart_key; then
  key=$("$bin" keys create --name quickstart --db "$keys_db" 2>/dev/null)
  cat <<MSG

  Created the API key "quickstart". It is shown only this once; keep it:

    export TROUPE_API_KEY=$key

  (lost it? build/troupe keys revoke <id> --db $keys_db, then start again)

MSG
fi
echo "  Try it (in another shell, after the export above):"
echo "    curl --cacert $state/tls/cert.pem https://127.0.0.1:8443/v1/chat/completions \\"
echo "      -H \"Authorization: Bearer \$TROUPE_API_KEY\" -H 'Content-Type: application/json' \\"
echo "      -d '{\"model\": \"troupe-tiny-chat\", \"messages\": [{\"role\": \"user\", \"content\": \"Tell me a story.\"}], \"max_tokens\": 60}'"
echo
exec "$bin" serve --state-dir "$state" "$@"
