#!/usr/bin/env bash
# The web console (console/, SPEC §12): installs tests/browser's dev
# dependencies with `npm ci` (TypeScript, puppeteer-core, axe-core; no
# browser is downloaded), type-checks console/src (tsc --noEmit --checkJs),
# then runs the browser tests in Debian's chromium, headless, against the
# real `acpstore serve` binary, $ACPSTORE_BIN (default: the release build).
# Screenshots land in build/console-screenshots/. A missing chromium or
# binary fails the tests; nothing is skipped. Output ends with node's test
# summary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

echo "=== web console ==="
install_packages "${BROWSER_DEPS[@]}"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  install_packages nodejs npm
fi

export ACPSTORE_BIN="${ACPSTORE_BIN:-$ROOT/build/release/src/cli/acpstore}"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
# puppeteer-core never downloads a browser; this keeps any other
# puppeteer package from trying.
export PUPPETEER_SKIP_DOWNLOAD=1
cd "$ROOT/tests/browser"
npm ci --no-audit --no-fund
npx tsc -p "$ROOT/console/jsconfig.json"
node --test --test-reporter=spec console.test.mjs
