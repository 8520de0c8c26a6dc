# Shared by scripts/make_compat_dir.sh and tests/compat/check_compat.sh
# (docs/compatibility.md): start and stop an `acpstore serve` on a free
# loopback port, and make requests to it. Needs curl and jq. Sourced, not run.

for tool in curl jq; do
  command -v "$tool" >/dev/null || { echo "compat: needs $tool (apt-get install $tool)" >&2; exit 1; }
done

# The options both the writing and the reading server use: no time-based
# retention (the stored directory must read back the same in a year), the
# event cap that makes retention drop events, and the small snapshot interval
# that makes the writer snapshot mid-run.
COMPAT_SERVE_OPTIONS=(--max-events-per-session 4 --terminal-event-retention 0
                      --session-retention 0 --action-retention 0)

# compat_start BIN DATA_DIR LOG [extra serve options...]: starts the server,
# waits (30 s deadline) until it answers /healthz; sets COMPAT_PID, COMPAT_URL.
compat_start() {
  local bin=$1 data=$2 log=$3
  shift 3
  # Created here, not by the background job's redirection: that runs in the
  # child after the fork, and the loop below may read the log before it.
  : >"$log"
  "$bin" serve --data-dir "$data" --listen 127.0.0.1:0 "${COMPAT_SERVE_OPTIONS[@]}" "$@" \
    >"$log" 2>&1 &
  COMPAT_PID=$!
  local deadline=$((SECONDS + 30)) port=""
  while [ -z "$port" ]; do
    if ! kill -0 "$COMPAT_PID" 2>/dev/null; then
      echo "acpstore serve exited early:" >&2; cat "$log" >&2; return 1
    fi
    [ $SECONDS -lt $deadline ] || { echo "acpstore serve did not start" >&2; cat "$log" >&2; return 1; }
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -1)
    [ -n "$port" ] || sleep 0.05
  done
  COMPAT_URL="http://127.0.0.1:$port"
  until curl -sf "$COMPAT_URL/healthz" >/dev/null; do
    [ $SECONDS -lt $deadline ] || { echo "no /healthz answer" >&2; return 1; }
    sleep 0.05
  done
}

# compat_stop: SIGTERM, the graceful shutdown (finish, fsync, snapshot);
# fails unless the server exits 0.
compat_stop() {
  kill -TERM "$COMPAT_PID"
  local rc=0
  wait "$COMPAT_PID" || rc=$?
  COMPAT_PID=""
  [ "$rc" = 0 ] || { echo "acpstore serve exited $rc on SIGTERM" >&2; return 1; }
}

# compat_kill: SIGKILL, so that what was written since the last snapshot
# stays a journal tail (every write was fsync'ed before it was answered).
compat_kill() {
  kill -KILL "$COMPAT_PID"
  wait "$COMPAT_PID" 2>/dev/null || true
  COMPAT_PID=""
}

# For an EXIT trap: kills a server still running (a failed run).
compat_cleanup() {
  if [ -n "${COMPAT_PID:-}" ]; then
    kill -KILL "$COMPAT_PID" 2>/dev/null || true
  fi
}

# api TOKEN METHOD PATH [JSON BODY]: prints the body; fails on a non-2xx.
api() {
  local token=$1 method=$2 path=$3 body=${4:-}
  local args=(-sS -X "$method" -H "Authorization: Bearer $token" -w '\n%{http_code}')
  [ -z "$body" ] || args+=(-H 'Content-Type: application/json' --data-binary "$body")
  local out code
  out=$(curl "${args[@]}" "$COMPAT_URL$path")
  code=${out##*$'\n'}
  out=${out%$'\n'*}
  if [ "${code:0:1}" != 2 ]; then
    echo "$method $path -> $code: $out" >&2
    return 1
  fi
  printf '%s\n' "$out"
}
