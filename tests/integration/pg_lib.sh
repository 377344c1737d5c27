# A throwaway PostgreSQL server for the integration tests: initdb + pg_ctl
# into a scratch directory, Unix socket only, as the postgres user (or nobody)
# when run as root. Source it, then:
#   pg_require      exit 77 (skip) unless the server binaries and psql exist
#   pg_start DIR    start a server with its data and socket in DIR; sets pg_url
#                   (calls the test's `fail` if it cannot)
#   pg_stop DIR     stop it; never fails (for an EXIT trap)

pg_require() {
  pgbin=${TROUPE_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
  [ -x "$pgbin/initdb" ] && [ -x "$pgbin/pg_ctl" ] ||
    { echo "SKIP: PostgreSQL server binaries not found (install postgresql)"; exit 77; }
  command -v psql >/dev/null || { echo "SKIP: psql not installed"; exit 77; }
  as_pg=()
  if [ "$(id -u)" = 0 ]; then
    if id -u postgres >/dev/null 2>&1; then as_pg=(runuser -u postgres --)
    else as_pg=(setpriv --reuid=nobody --regid=nogroup --clear-groups); fi
  fi
}

pg_start() {
  local dir=$1 port=$((20000 + $$ % 20000))
  chmod 777 "$dir"
  "${as_pg[@]}" "$pgbin/initdb" -D "$dir/data" --auth=trust --username=troupe --encoding=UTF8 \
    --locale=C --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log"; fail "initdb"; }
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-k $dir -h '' -p $port -c fsync=off" start >/dev/null || { cat "$dir/server.log"; fail "pg_ctl start"; }
  pg_url="postgresql://troupe@/postgres?host=$dir&port=$port"
}

pg_stop() {
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$1/data" -m immediate -w stop >/dev/null 2>&1 || true
}
