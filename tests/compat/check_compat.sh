#!/usr/bin/env bash
# The compatibility test (ctest compat_data, label compat; docs/compatibility.md):
#
#   tests/compat/check_compat.sh path/to/acpstore tests/compat
#
# For every tests/compat/<version>/ made by scripts/make_compat_dir.sh: copy
# its data/ to a temporary directory (the stored one is never opened by a
# server, and is checked unchanged at the end), serve the copy with this
# binary, repeat every GET of requests.tsv with the same key, and compare
# the answer with api/<name>.json; then compare `acpstore keys list --json`.
#
# Normalisation, the only one: the action a-leased was leased for an hour
# when the directory was written, so by now its lease has expired and the
# server's sweep (SPEC §2.3) requeues it. Its status, leasedUntil, availableAt,
# updatedAt and errorMetadata are left out of every comparison, and checked
# on their own: either still "leased" with the recorded leasedUntil and
# errorMetadata, or "queued" with attemptCount unchanged, availableAt no
# earlier than the recorded leasedUntil and errorMetadata
# {"reason":"lease_expired"} (every expiry sets it since 0.1.0's successor). Everything else must be byte-for-byte the same JSON (after
# jq -S, which only sorts keys).
set -euo pipefail
[ $# = 2 ] || { echo "usage: $0 ACPSTORE_BINARY COMPAT_DIR" >&2; exit 2; }
BIN=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../../scripts/compat_lib.sh
source "$ROOT/scripts/compat_lib.sh"
echo "reader: $("$BIN" --version)"

WORK=$(mktemp -d)
trap 'compat_cleanup; rm -rf "$WORK"' EXIT
NORM='walk(if type == "object" and .actionId == "a-leased"
           then del(.status, .leasedUntil, .availableAt, .updatedAt, .errorMetadata)
           else . end)'

failures=0
dirs=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
fingerprint() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }

for dir in "$2"/*/; do
  dir=${dir%/}
  [ -d "$dir/data" ] || continue
  dirs=$((dirs + 1))
  name=$(basename "$dir")
  echo "== $name: written by $(cat "$dir/VERSION")"
  before=$(fingerprint "$dir")
  data=$WORK/$name
  cp -r "$dir/data" "$data"
  # shellcheck disable=SC1091
  source "$dir/tokens.env"
  compat_start "$BIN" "$data" "$WORK/$name.log"
  checked=0
  while IFS=$'\t' read -r req role path; do
    case $role in admin) token=$ADMIN ;; writer) token=$WRITER ;; reader) token=$READER ;; esac
    if ! got=$(api "$token" GET "$path" | jq -S .); then
      fail "$name: GET $path failed"; continue
    fi
    want=$(cat "$dir/api/$req.json")
    if ! diff <(jq -S "$NORM" <<<"$want") <(jq -S "$NORM" <<<"$got") >"$WORK/diff"; then
      fail "$name: GET $path ($req) differs (< recorded, > served now):"
      head -40 "$WORK/diff" >&2
    fi
    if [ "$req" = action-a-leased ]; then
      if ! jq -e --argjson want "$want" '
           (.attemptCount == $want.attemptCount) and
           ((.status == "leased" and .leasedUntil == $want.leasedUntil and
             .errorMetadata == $want.errorMetadata) or
            (.status == "queued" and .availableAt >= $want.leasedUntil and
             .errorMetadata == {"reason": "lease_expired"}))' \
           <<<"$got" >/dev/null; then
        fail "$name: a-leased is neither still leased nor swept after its lease: $got"
      fi
    fi
    checked=$((checked + 1))
  done <"$dir/requests.tsv"
  compat_stop
  if ! diff <(jq -S . "$dir/api/keys.json") \
            <("$BIN" keys list --json --data-dir "$data" | jq -S .) >"$WORK/diff"; then
    fail "$name: keys list differs:"; cat "$WORK/diff" >&2
  fi
  [ "$(fingerprint "$dir")" = "$before" ] || fail "$name: the stored directory changed"
  echo "   $checked requests and the keys list compared"
done

[ "$dirs" -gt 0 ] || fail "no stored directory under $2"
if [ "$failures" -gt 0 ]; then
  echo "compat: $failures failure(s)" >&2
  exit 1
fi
echo "compat: $dirs stored director$([ "$dirs" = 1 ] && echo y || echo ies) read back the same"
