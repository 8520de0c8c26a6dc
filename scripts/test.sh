#!/usr/bin/env bash
# The one test command; CI (.ci/run) runs exactly this on a fresh clone.
# Installs what it needs (apt packages, and a throwaway PostgreSQL on a Unix
# socket), then, in order:
#   1. release build (everything) and the layering graph it writes;
#   2. ASan+UBSan build (everything);
#   3. `acpstore bench` built in (the bench-command preset, acpstore only),
#      run once on a tiny workload;
#   4. ThreadSanitizer build of the concurrency-bearing suites only
#      (engine, journal, HTTP end to end, kill -9);
#   5. clang-tidy over src/ (every finding fails), then the Debian package
#      (scripts/test_deb.sh: cpack, dpkg -i, serve, /healthz, purge; as root
#      or through sudo);
#   6. ctest: release (all, including the install and layering tests), then
#      ASan+UBSan (all), then TSan (labels engine, journal, http, crash);
#   7. the TypeScript client's suites (scripts/test_typescript.sh);
#   8. the web console: type check and browser tests in headless chromium
#      (scripts/test_console.sh).
# Every stage runs even if an earlier one failed, and the exit status is
# non-zero if any failed. A stage that cannot run fails; nothing is skipped.
# Each stage prints its wall time; the output ends with ctest's summaries,
# then node's (the client's, then the console's). A second run reuses
# build/ and ccache.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

install_packages "${DEPS[@]}" "${PG_DEPS[@]}" "${BROWSER_DEPS[@]}"

# A PostgreSQL for tests that need one; stopped when this script exits.
# Without it the run fails (the postgres tests fail, and so does this
# script's status), but the other stages still run.
source "$ROOT/scripts/pg_test_server.sh"
trap pg_test_server_stop EXIT
pg_status=0
pg_test_server_start || pg_status=1

status=$pg_status
times=()
# stage NAME COMMAND...: runs COMMAND, records its wall time, notes failure
# and goes on (the caller's `||` keeps set -e from ending the script).
stage() {
  local name="$1" start rc=0
  shift
  start=$(date +%s)
  "$@" || rc=$?
  times+=("$name: $(($(date +%s) - start)) s$([ "$rc" = 0 ] || echo " (FAILED, exit $rc)")")
  echo "=== [test.sh] ${times[-1]}"
  [ "$rc" = 0 ] || status=1
}

# The suites that start threads of their own; their binaries are all the
# TSan stage builds.
TSAN_TARGETS=(engine_test file_engine_test journal_test http_test
              kill_nine_test crash_child)
TSAN_LABELS='^(engine|journal|http|crash)$'

bench_command_smoke() {
  configure_and_build bench-command acpstore &&
    "$ROOT/build/bench-command/src/cli/acpstore" bench append \
      --events 200 --writers 2 --seconds 2 --no-peers >/dev/null
}

stage "release build" configure_and_build release
stage "asan build" configure_and_build asan
stage "bench-command build and smoke run" bench_command_smoke
stage "tsan build" configure_and_build tsan "${TSAN_TARGETS[@]}"
stage "clang-tidy" "$ROOT/scripts/clang_tidy.sh" "$ROOT/build/release"
# The Debian package from build/release: build, install, serve, purge (as
# root or through sudo).
stage "debian package" "$ROOT/scripts/test_deb.sh" "$ROOT/build/release"

cd "$ROOT"
echo "=== release ==="
stage "release ctest" ctest --preset release -j "$JOBS" --timeout 900
echo "=== ASan+UBSan ==="
stage "asan ctest" ctest --preset asan -j "$JOBS" --timeout 900
echo "=== TSan (engine, journal, http, crash) ==="
stage "tsan ctest" ctest --preset tsan -j "$JOBS" --timeout 900 -L "$TSAN_LABELS"
echo "=== [test.sh] stage times: ${times[*]/%/;}"
# Last, so that node's summaries end the output.
"$ROOT/scripts/test_typescript.sh" || status=1
"$ROOT/scripts/test_console.sh" || status=1
exit "$status"
