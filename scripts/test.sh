#!/usr/bin/env bash
# Builds and runs every test: the release build runs the whole suite, then
# an ASan+UBSan build runs it again. Installs what it needs (apt packages,
# and a throwaway PostgreSQL on a Unix socket for the postgres tests).
# Output ends with ctest's summaries, then node's (clients/typescript).
# A second run reuses build/ and ccache.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

install_packages "${DEPS[@]}" "${PG_DEPS[@]}"

# A PostgreSQL for tests that need one; stopped when this script exits.
source "$ROOT/scripts/pg_test_server.sh"
pg_test_server_start
trap pg_test_server_stop EXIT

configure_and_build release
configure_and_build asan

cd "$ROOT"
status=0
ctest --preset release -j "$JOBS" --timeout 900 || status=$?
echo "=== ASan+UBSan ==="
ctest --preset asan -j "$JOBS" --timeout 900 || status=$?
"$ROOT/scripts/test_typescript.sh" || status=$?
exit "$status"
