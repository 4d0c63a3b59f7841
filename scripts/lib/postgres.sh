# scripts/lib/postgres.sh: start and stop a throwaway PostgreSQL on loopback.
# Source it, then: pg_start (sets PG_URL, PG_DIR); pg_stop. initdb refuses to
# run as root, so as root the server runs as the postgres user.
# fsync is off: the server is thrown away; durability is tested on SQLite.

pg_bin() { # the directory of initdb and pg_ctl, if PostgreSQL is installed
  if command -v initdb >/dev/null; then dirname "$(readlink -f "$(command -v initdb)")"; return; fi
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

pg_as=()
[ "$(id -u)" -eq 0 ] && pg_as=(runuser -u postgres --)

pg_free_port() {
  for p in $(shuf -i 20000-60000 -n 100); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
}

pg_start() {
  PG_DIR=$(mktemp -d /tmp/outcry-pg.XXXXXX)
  [ ${#pg_as[@]} -gt 0 ] && chown postgres "$PG_DIR"
  local port
  port=$(pg_free_port)
  [ -n "$port" ] || { echo "postgres: no free port"; return 1; }
  "${pg_as[@]}" "$(pg_bin)/initdb" -D "$PG_DIR/data" -A trust -U postgres >"$PG_DIR/initdb.log" 2>&1 ||
    { echo "postgres: initdb failed"; cat "$PG_DIR/initdb.log"; return 1; }
  "${pg_as[@]}" "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" -w -t 60 -l "$PG_DIR/server.log" start -o \
    "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" >/dev/null ||
    { echo "postgres: the server did not start"; cat "$PG_DIR/server.log"; return 1; }
  PG_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
}

pg_stop() {
  [ -n "${PG_DIR:-}" ] || return 0
  "${pg_as[@]}" "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  PG_DIR=""
}
