#!/usr/bin/env bash
# The Debian package end to end (CI: a stage of scripts/test.sh):
#
#   scripts/test_deb.sh [BUILD_DIR]     (default build/release, already built)
#
# What needs root (dpkg -i/--purge, runuser, the conffile, reading the data
# directory) runs as root directly, or through sudo for another user, as
# scripts/lib.sh's install_packages does; the package itself is built as the
# caller, so build/ gets no root-owned files. Neither root nor sudo: it says
# so and exits 1.
#
# It leaves the machine as it found it on every exit path (a failed check,
# an error, Ctrl-C, SIGTERM): the package it installed is purged (with its
# conffile, user and data directory), and an /etc/default/acpstore that was
# there without a package is put back. It refuses to start over an acpstore
# package in any state, an existing acpstore user or group, or an existing
# /var/lib/acpstore, since the purge would delete them.
#
# cpack -G DEB → dpkg -i → check what it installed (binary, unit, conffile,
# the acpstore user, /var/lib/acpstore 0700) → start the service → GET
# /healthz on 127.0.0.1 → stop it → dpkg --purge → check that the user, the
# data and the files are gone.
#
# Starting the service: under systemd (PID 1) the package's postinst has
# already started it and this script uses systemctl. Without systemd (a
# container) it starts it the way the unit would: the unit's ExecStart, with
# its EnvironmentFile read, as its User through runuser, with its UMask; the
# unit itself is then checked with `systemd-analyze verify` only, not run by
# systemd. The script says which of the two it did.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
BUILD=$(realpath "${1:-$ROOT/build/release}")
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null ||
    { echo "test_deb: needs root, or sudo (dpkg -i, runuser): run it as root or install sudo" >&2; exit 1; }
  # Asks for a password now, if sudo wants one, rather than in the middle.
  sudo -v || { echo "test_deb: sudo refused; run it as root" >&2; exit 1; }
fi
for tool in cpack dpkg curl runuser systemd-analyze; do
  command -v "$tool" >/dev/null || PATH=$PATH:/usr/sbin:/sbin command -v "$tool" >/dev/null ||
    { echo "test_deb: needs $tool" >&2; exit 1; }
done
UNIT=/lib/systemd/system/acpstore.service
CONFFILE=/etc/default/acpstore
WORK=$(mktemp -d)
pid=""        # the backgrounded service (runuser, or sudo running it)
serve_log=""  # its log, whose first line names the server's pid
installed=""  # set from `dpkg -i` until the checked purge
saved=""      # where a package-less $CONFFILE found at start waits
alive() { [ -n "$1" ] && [ -d "/proc/$1" ]; }
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e  # every step of the clean-up is tried
  if [ -n "$pid" ]; then
    # The server (runuser's child) first: it would outlive runuser. Both may
    # be another user's (acpstore, root under sudo).
    server=$(sed -n 's/^server pid //p' "$serve_log" 2>/dev/null || true)
    if alive "$server"; then as_root kill -KILL "$server" 2>/dev/null || true; fi
    if alive "$pid"; then as_root kill -KILL "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
  fi
  if [ -n "$installed" ]; then
    # Also stops the service under systemd (prerm).
    echo "test_deb: cleaning up: dpkg --purge acpstore" >&2
    as_root dpkg --purge acpstore >&2 || echo "test_deb: cleanup: dpkg --purge acpstore failed" >&2
  fi
  if [ -n "$saved" ]; then
    as_root mv "$saved" "$CONFFILE" ||
      echo "test_deb: cleanup: could not put $CONFFILE back from $saved" >&2
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
# A signal ends the script through the EXIT trap too (exit 128+N).
trap 'exit 130' INT
trap 'exit 143' TERM
fail() { echo "test_deb: FAIL: $*" >&2; exit 1; }

# What a purge would delete must not be someone else's.
state=$(dpkg-query -W -f='${db:Status-Status}' acpstore 2>/dev/null || true)
if [ -n "$state" ] && [ "$state" != not-installed ]; then
  fail "an acpstore package is on this machine already ($state); this test would purge it (dpkg --purge acpstore first)"
fi
for what in user group; do
  db=passwd; [ "$what" = group ] && db=group
  ! getent "$db" acpstore >/dev/null ||
    fail "an acpstore $what exists already; this test's purge would delete it"
done
[ ! -e /var/lib/acpstore ] || fail "/var/lib/acpstore exists already; this test's purge would delete it"
if [ -e "$CONFFILE" ]; then
  # Not the package's (checked above): set aside for dpkg, put back at exit.
  saved=$(as_root mktemp /etc/default/.acpstore.test_deb.XXXXXX)
  as_root mv "$CONFFILE" "$saved"
  echo "test_deb: $CONFFILE (no package's) moved to $saved until this test ends"
fi

# 1. Build the package.
version=$("$BUILD/src/cli/acpstore" --version | awk '{print $2}')
arch=$(dpkg --print-architecture)
(cd "$BUILD" && cpack -G DEB >"$WORK/cpack.log" 2>&1) || { cat "$WORK/cpack.log"; fail "cpack"; }
deb=$BUILD/acpstore_${version}_${arch}.deb
[ -f "$deb" ] || { cat "$WORK/cpack.log"; fail "no $deb"; }
echo "test_deb: built $(basename "$deb") ($(du -h "$deb" | cut -f1))"
dpkg-deb --contents "$deb" | awk '{print "  " $1, $6}'

# 2. Install it.
installed=1
as_root dpkg -i "$deb"
[ -x /usr/bin/acpstore ] || fail "/usr/bin/acpstore missing"
/usr/bin/acpstore --version
[ -f "$UNIT" ] || fail "$UNIT missing"
dpkg-query -W -f='${Conffiles}\n' acpstore | grep -q "/etc/default/acpstore" ||
  fail "/etc/default/acpstore is not a conffile"
getent passwd acpstore >/dev/null || fail "no acpstore user"
[ "$(stat -c '%a %U %G' /var/lib/acpstore)" = "700 acpstore acpstore" ] ||
  fail "/var/lib/acpstore is $(stat -c '%a %U %G' /var/lib/acpstore), want 700 acpstore acpstore"
# The documents the unit and the options file point to are in the package.
for doc in "$(sed -n 's|^Documentation=file://||p' "$UNIT")" \
           "$(grep -o '/usr/share/doc/acpstore/[^ ]*' "$CONFFILE" | head -1)"; do
  [ -n "$doc" ] && [ -f "$doc" ] || fail "the unit or $CONFFILE points to '$doc', which the package does not install"
done
# Checks the unit's syntax, directives and ExecStart binary.
systemd-analyze verify "$UNIT" || fail "systemd-analyze verify $UNIT"
echo "test_deb: systemd-analyze verify $UNIT: ok"

# 3. Start the service, 4. one request, 5. stop it.
if [ "$(ps -p 1 -o comm=)" = systemd ] && [ -d /run/systemd/system ]; then
  echo "test_deb: systemd is PID 1: the package started acpstore.service"
  systemctl is-active --quiet acpstore.service || fail "acpstore.service is not active"
  port=7700
  deadline=$((SECONDS + 30))
  until curl -sf "http://127.0.0.1:$port/healthz" >"$WORK/health"; do
    [ $SECONDS -lt $deadline ] || fail "no /healthz answer"
    sleep 0.1
  done
  as_root systemctl stop acpstore.service
else
  echo "test_deb: systemd is not PID 1 here ($(ps -p 1 -o comm=)): starting the service the way" \
       "the unit would (its Environment, EnvironmentFile, ExecStart and UMask, as User=acpstore" \
       "via runuser); the unit itself was not run by systemd"
  exec_start=$(sed -n 's/^ExecStart=//p' "$UNIT")
  user=$(sed -n 's/^User=//p' "$UNIT")
  umask_=$(sed -n 's/^UMask=//p' "$UNIT")
  unit_env=$(sed -n 's/^Environment=//p' "$UNIT")
  env_files=$(sed -n 's/^EnvironmentFile=-\{0,1\}//p' "$UNIT")
  # serve_once LOG: starts the service, waits until it listens (the port in
  # $port), GET /healthz into $WORK/health, SIGTERM, checks it stopped
  # cleanly. The unit's Environment= first, then its files, which override
  # it, as systemd does. runuser stays the server's parent; the signal goes
  # to the server itself, as systemd's KillSignal would, and runuser passes
  # its exit status on.
  serve_once() {
    serve_log=$1
    as_root runuser -u "$user" -- sh -c '
        echo "server pid $$"
        umask "$1"; shift
        for kv in $1; do export "$kv"; done; shift
        for f in $1; do if [ -r "$f" ]; then set -a; . "$f"; set +a; fi; done; shift
        exec "$@"' sh "$umask_" "$unit_env" "$env_files" $exec_start >"$serve_log" 2>&1 &
    pid=$!
    local deadline=$((SECONDS + 30)) rc=0
    port=""
    while [ -z "$port" ]; do
      alive "$pid" || { cat "$serve_log"; fail "the service exited"; }
      [ $SECONDS -lt $deadline ] || { cat "$serve_log"; fail "the service did not start"; }
      port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$serve_log" | head -1)
      [ -n "$port" ] || sleep 0.1
    done
    curl -sf "http://127.0.0.1:$port/healthz" >"$WORK/health" || fail "GET /healthz"
    as_root kill -TERM "$(sed -n 's/^server pid //p' "$serve_log")"
    wait "$pid" || rc=$?
    pid=""
    [ "$rc" = 0 ] || { cat "$serve_log"; fail "the service exited $rc on SIGTERM"; }
    grep -q "stopped" "$serve_log" || fail "no graceful stop in the log"
  }
  # Listen on a free port: written into the conffile, so this also shows the
  # service reads /etc/default/acpstore. Purge removes the file.
  echo "ACPSTORE_LISTEN=127.0.0.1:0" | as_root tee -a "$CONFFILE" >/dev/null
  # The unit's defaults: JSON lines, data in /var/lib/acpstore (checked below).
  serve_once "$WORK/serve.log"
  grep -q '^{"ts":"[^"]*","level":"info","msg":"listening on 127\.0\.0\.1:' "$WORK/serve.log" ||
    { cat "$WORK/serve.log"; fail "the unit's default ACPSTORE_LOG_FORMAT=json was not applied"; }
  # A line of the options file overrides a default of the unit (its
  # Environment=); a flag in ExecStart would have won over it.
  echo "ACPSTORE_LOG_FORMAT=text" | as_root tee -a "$CONFFILE" >/dev/null
  serve_once "$WORK/serve-text.log"
  grep -q '^[0-9-]*T[0-9:.]*Z info listening on 127\.0\.0\.1:' "$WORK/serve-text.log" ||
    { cat "$WORK/serve-text.log"; fail "ACPSTORE_LOG_FORMAT=text in $CONFFILE did not override the unit's json"; }
  echo "test_deb: $CONFFILE overrides the unit's defaults (ACPSTORE_LOG_FORMAT=text: text lines)"
fi
echo "test_deb: GET http://127.0.0.1:$port/healthz -> $(cat "$WORK/health")"
grep -q '"status":"ok"' "$WORK/health" || fail "unexpected /healthz answer"
# /var/lib/acpstore is 0700 acpstore: only root looks in.
as_root test -d /var/lib/acpstore/journal || fail "no journal under /var/lib/acpstore"
[ "$(as_root stat -c '%U' /var/lib/acpstore/journal)" = acpstore ] || fail "journal not owned by acpstore"
echo "test_deb: data under /var/lib/acpstore: $(as_root ls /var/lib/acpstore | tr '\n' ' ')"

# 6. Purge: user, data, conffile and files gone.
as_root dpkg --purge acpstore
installed=""
! getent passwd acpstore >/dev/null || fail "user acpstore still there after purge"
! getent group acpstore >/dev/null || fail "group acpstore still there after purge"
[ ! -e /var/lib/acpstore ] || fail "/var/lib/acpstore still there after purge"
[ ! -e /usr/bin/acpstore ] && [ ! -e "$UNIT" ] && [ ! -e /etc/default/acpstore ] ||
  fail "files left after purge"
echo "test_deb: ok (installed, served, stopped, purged)"
