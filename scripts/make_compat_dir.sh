#!/usr/bin/env bash
# Writes a small data directory through an `acpstore` binary's HTTP API and
# records what the API served from it, for the compatibility test
# (docs/compatibility.md, SPEC §3 "format compatibility"):
#
#   scripts/make_compat_dir.sh path/to/acpstore tests/compat/<version>
#
# The output directory gets:
#   data/          the data directory (journal/, snapshot/, keys.json): a
#                  snapshot written at a graceful stop, then a journal tail
#                  written after it by a second run that was killed
#   api/NAME.json  each GET's answer (jq -S), as the writing server served it
#   requests.tsv   NAME <TAB> ROLE <TAB> PATH of every recorded GET
#   tokens.env     the test keys' tokens (throwaway; they guard nothing)
#   VERSION        `acpstore --version` of the writer
#
# What it writes: sessions in every status reachable here (initializing,
# idle, running, paused, intervening, closed, failed); events past
# --max-events-per-session 4, so retention dropped the oldest (in both
# runs); actions queued, delayed, leased, completed, failed (dead-lettered),
# failed and requeued (failed-retrying), cancelled; a plain pause, an active
# intervention and a full pause-intervention-resume cycle; the bootstrap
# admin, writer, reader and revoked keys. Needs curl and jq.
set -euo pipefail
[ $# = 2 ] || { echo "usage: $0 ACPSTORE_BINARY OUTPUT_DIR" >&2; exit 2; }
BIN=$(realpath "$1")
OUT=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=compat_lib.sh
source "$ROOT/scripts/compat_lib.sh"

[ ! -e "$OUT" ] || { echo "$OUT exists; remove it first" >&2; exit 2; }
WORK=$(mktemp -d)
trap 'compat_cleanup; rm -rf "$WORK"' EXIT
DATA=$WORK/data

# --- run 1: most of the records, a snapshot mid-run and one at the stop ---
compat_start "$BIN" "$DATA" "$WORK/serve1.log" --snapshot-every-bytes 4KiB
ADMIN=$(cat "$DATA/bootstrap-admin.token")
WRITER=$(api "$ADMIN" POST /v1/keys '{"role":"writer","name":"compat writer"}' | jq -r .token)
READER=$(api "$ADMIN" POST /v1/keys '{"role":"reader","name":"compat reader"}' | jq -r .token)
GONE=$(api "$ADMIN" POST /v1/keys '{"role":"writer","name":"revoked"}' | jq -r .key.id)
api "$ADMIN" DELETE "/v1/keys/$GONE" >/dev/null

w() { api "$WRITER" "$@" >/dev/null; }
session() {  # id, then transition events
  local id=$1; shift
  w POST /v1/sessions "{\"id\":\"$id\",\"correlationId\":\"job-$id\",\"backendMetadata\":{\"model\":\"m1\",\"n\":\"1\"},\"validationWarnings\":[{\"code\":\"w1\",\"message\":\"a warning\"}]}"
  local e
  for e in "$@"; do w POST "/v1/sessions/$id/transitions" "{\"event\":\"$e\"}"; done
}
session s-init
session s-idle agent_ready
session s-run agent_ready run_started
session s-closed close_requested close_completed
session s-failed runtime_failed
session s-paused run_started
session s-intervening run_started
session s-resumed run_started
w PATCH /v1/sessions/s-idle '{"acpAgentSessionId":"acp-1","currentBackendRunId":"run-1","backendMetadata":{"model":"m2"}}'

for i in 1 2 3 4 5 6; do
  w POST /v1/sessions/s-run/events "{\"eventType\":\"note\",\"payload\":{\"i\":$i,\"text\":\"é ☃ \\u0000\"},\"clientEventId\":\"c-$i\",\"backendRunId\":\"run-1\"}"
done
w POST /v1/sessions/s-run/events '{"events":[{"eventType":"tool_call","payload":{"name":"ls","args":[1,2.5,true,null]}},{"eventType":"tool_result","payload":"plain string","occurredAt":"2026-01-02T03:04:05.678Z"}]}'
w POST /v1/sessions/s-idle/events '{"eventType":"note","payload":{"only":"one"}}'

# Pauses: plain; active intervention; a whole cycle.
w POST /v1/sessions/s-paused/pause '{"reason":"review","requestedBy":"alice","idempotencyKey":"p-1","metadata":{"ticket":"T-1"}}'
w POST /v1/sessions/s-intervening/pause '{"reason":"stuck","requestedBy":"bob","pauseId":"pause-bob"}'
w POST /v1/sessions/s-intervening/intervention/start '{"interventionBy":"carol","interventionId":"iv-1"}'
w POST /v1/sessions/s-resumed/pause '{"reason":"check","requestedBy":"dan"}'
w POST /v1/sessions/s-resumed/intervention/start '{"interventionBy":"erin","interventionId":"iv-2"}'
w POST /v1/sessions/s-resumed/intervention/complete '{"interventionId":"iv-2","completedBy":"erin","guidance":"carry on"}'
w POST /v1/sessions/s-resumed/resume '{"resumedBy":"dan","resumeId":"r-1","metadata":{"why":"fixed"}}'

# Actions, one type each so a lease takes exactly the one meant.
enqueue() { w POST /v1/actions "{\"actionId\":\"$1\",\"sessionId\":\"s-run\",\"type\":\"$2\"${3:+,$3}}"; }
lease() { api "$WRITER" POST /v1/actions/lease "{\"sessionId\":\"s-run\",\"types\":[\"$1\"],\"leaseMs\":3600000}" | jq -r .leaseToken; }
enqueue a-completed approve '"idempotencyKey":"k-1","metadata":{"m":"1"}'
t=$(lease approve)
w POST /v1/actions/a-completed/complete "{\"leaseToken\":\"$t\",\"resultMetadata\":{\"ok\":\"yes\"}}"
enqueue a-dead reject '"approvalId":"ap-1"'
t=$(lease reject)
w POST /v1/actions/a-dead/fail "{\"leaseToken\":\"$t\",\"errorMetadata\":{\"reason\":\"boom\"}}"
enqueue a-retrying resume '"controlRequestId":"cr-1"'
t=$(lease resume)
w POST /v1/actions/a-retrying/fail "{\"leaseToken\":\"$t\",\"errorMetadata\":{\"reason\":\"try again\"},\"retry\":true}"
enqueue a-cancelled cancel
w POST /v1/actions/a-cancelled/cancel '{"errorMetadata":{"reason":"not needed"}}'
enqueue a-leased driver_transfer
lease driver_transfer >/dev/null
enqueue a-delayed close '"availableAt":"2100-01-01T00:00:00.000Z"'
enqueue a-queued prompt '"metadata":{"text":"hello"}'
compat_stop

# --- run 2: a journal tail after the snapshot the stop wrote ---
compat_start "$BIN" "$DATA" "$WORK/serve2.log"
for i in 7 8 9; do
  w POST /v1/sessions/s-run/events "{\"eventType\":\"note\",\"payload\":{\"i\":$i},\"clientEventId\":\"c-$i\"}"
done
session s-tail agent_ready
w POST /v1/sessions/s-tail/events '{"eventType":"note","payload":{"tail":true}}'
enqueue a-tail intervene '"metadata":{"from":"the tail"}'
w PATCH /v1/sessions/s-paused '{"claudeSessionId":"cl-1"}'

# Record every GET, as this server serves it.
mkdir -p "$OUT/api"
: >"$OUT/requests.tsv"
record() {  # name role path
  local token
  case $2 in admin) token=$ADMIN ;; writer) token=$WRITER ;; reader) token=$READER ;; esac
  api "$token" GET "$3" | jq -S . >"$OUT/api/$1.json"
  printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$OUT/requests.tsv"
}
record sessions admin '/v1/sessions?limit=100'
record sessions-reader reader '/v1/sessions?limit=100'
for id in $(jq -r '.sessions[].id' "$OUT/api/sessions.json"); do
  record "session-$id" writer "/v1/sessions/$id"
  record "events-$id" reader "/v1/sessions/$id/events?after=0&limit=1000"
done
for id in s-paused s-intervening s-resumed; do
  record "pause-$id" writer "/v1/sessions/$id/pause"
done
record actions admin '/v1/actions?limit=100'
for id in $(jq -r '.actions[].actionId' "$OUT/api/actions.json"); do
  record "action-$id" writer "/v1/actions/$id"
done
compat_kill

# keys: there is no GET of keys; `acpstore keys list --json` reads keys.json.
"$BIN" keys list --json --data-dir "$DATA" | jq -S . >"$OUT/api/keys.json"

mkdir -p "$OUT/data"
cp -r "$DATA/journal" "$DATA/snapshot" "$DATA/keys.json" "$OUT/data/"
printf 'ADMIN=%s\nWRITER=%s\nREADER=%s\n' "$ADMIN" "$WRITER" "$READER" >"$OUT/tokens.env"
"$BIN" --version >"$OUT/VERSION"
echo "wrote $OUT ($(du -sh "$OUT" | cut -f1)): $(wc -l <"$OUT/requests.tsv") requests recorded"
