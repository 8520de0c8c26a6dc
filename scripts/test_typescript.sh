#!/usr/bin/env bash
# The TypeScript client (clients/typescript): installs its dev dependencies
# with `npm ci`, type-checks (tsc --noEmit), lints (eslint), builds, and
# runs its node --test suites against the real `acpstore serve` binary,
# $ACPSTORE_BIN (default: the release build, build/release). Output ends
# with node's test summary; a missing binary fails the suites.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

echo "=== TypeScript client ==="
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  install_packages nodejs npm
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 18 ]; then
  echo "clients/typescript needs Node 18 or newer (found $(node --version))" >&2
  exit 1
fi

export ACPSTORE_BIN="${ACPSTORE_BIN:-$ROOT/build/release/src/cli/acpstore}"
cd "$ROOT/clients/typescript"
npm ci --no-audit --no-fund
npx tsc -p tsconfig.json --noEmit
npx eslint .
npx tsc -p tsconfig.json
node --test --test-reporter=spec dist/test/*.test.js
