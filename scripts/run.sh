#!/usr/bin/env bash
# Builds acpstore (release) and starts the server on the embedded default:
# the file engine in ./acpstore-data, listening on 127.0.0.1:7700. Extra
# arguments go to `acpstore serve`. A second run reuses build/ and ccache.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

install_packages "${DEPS[@]}"
# Only the binary: the tests are the other command's business.
configure_and_build release acpstore

bin="$ROOT/build/release/src/cli/acpstore"
if [ ! -x "$bin" ] || ! "$bin" serve --help >/dev/null 2>&1; then
  echo "acpstore: build/release/src/cli/acpstore is missing or has no serve command" >&2
  exit 2
fi
exec "$bin" serve --data-dir ./acpstore-data --engine file --listen 127.0.0.1:7700 "$@"
