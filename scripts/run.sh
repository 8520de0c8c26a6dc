#!/usr/bin/env bash
# Builds acpstore (release) and starts the server on the embedded default:
# the file engine in ./acpstore-data, listening on 127.0.0.1:7700. Extra
# arguments go to `acpstore serve`, and ACPSTORE_* variables are honoured:
# either replaces a default (scripts/run.sh --listen 127.0.0.1:9000, or
# ACPSTORE_DATA_DIR=/srv/acp scripts/run.sh). A second run reuses build/ and
# ccache.
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
# The defaults as variables, set only where the caller left them unset (or
# empty, which serve counts as unset): as flags they would clash with the
# same flag among the arguments ("At Most 1 required") and beat the
# caller's variable.
export ACPSTORE_DATA_DIR="${ACPSTORE_DATA_DIR:-./acpstore-data}"
export ACPSTORE_ENGINE="${ACPSTORE_ENGINE:-file}"
export ACPSTORE_LISTEN="${ACPSTORE_LISTEN:-127.0.0.1:7700}"
exec "$bin" serve "$@"
