# Starts a throwaway PostgreSQL 15 for tests: its own directory under /tmp,
# a Unix socket only (no TCP), trust auth. Sourced by scripts/test.sh.
# Sets ACPSTORE_TEST_POSTGRES_URL, which the postgres tests read; without it
# they FAIL (they never skip), so a missing server is an error here too:
# pg_test_server_start returns non-zero and says why.

pg_test_server_start() {
  local pgbin=/usr/lib/postgresql/15/bin
  if [ ! -x "$pgbin/initdb" ]; then
    echo "acpstore: ERROR: no PostgreSQL 15 at $pgbin (Debian package" \
      "postgresql-15): the postgres tests (ctest -L postgres) cannot run and" \
      "will fail" >&2
    return 1
  fi
  PG_TEST_DIR="$(mktemp -d /tmp/acpstore-pg.XXXXXX)"
  chmod 755 "$PG_TEST_DIR"
  local port=55432
  # initdb refuses to run as root; run the server as the postgres user.
  local run=(bash -c)
  if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$PG_TEST_DIR"
    run=(su postgres -s /bin/bash -c)
  fi
  if ! "${run[@]}" "$pgbin/initdb -D $PG_TEST_DIR/data -U postgres -A trust >/dev/null && \
    $pgbin/pg_ctl -D $PG_TEST_DIR/data -o '-k $PG_TEST_DIR -p $port -c listen_addresses=' \
    -l $PG_TEST_DIR/log -w start >/dev/null" >&2; then
    echo "acpstore: ERROR: the test PostgreSQL did not start (log:" \
      "$PG_TEST_DIR/log): the postgres tests will fail" >&2
    return 1
  fi
  export ACPSTORE_TEST_POSTGRES_URL="host=$PG_TEST_DIR port=$port user=postgres dbname=postgres"
  export PG_TEST_DIR PG_TEST_RUN="${run[*]}"
}

pg_test_server_stop() {
  [ -n "${PG_TEST_DIR:-}" ] || return 0
  local pgbin=/usr/lib/postgresql/15/bin
  if [ "$(id -u)" = 0 ]; then
    su postgres -s /bin/bash -c "$pgbin/pg_ctl -D $PG_TEST_DIR/data -m immediate stop" >/dev/null 2>&1 || true
  else
    "$pgbin/pg_ctl" -D "$PG_TEST_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$PG_TEST_DIR"
}
