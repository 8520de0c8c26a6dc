#!/usr/bin/env bash
# Bytes on the transcript stream (GET .../transcript/stream) for 400
# thinking.delta events of 16 bytes sent 10 ms apart, as a model streams a
# thought, with and without ?textAppends=true (docs/benchmarks.md,
# "Transcript stream bytes"); each mode's frames are reassembled and the
# text's length printed beside the stored transcript's.
#
#   bench/transcript_stream_bytes.sh [ACPSTORE_BINARY]   (default: the release build)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN=${1:-$ROOT/build/release/src/cli/acpstore}
WORK=$(mktemp -d /tmp/acpstore-stream-bytes.XXXXXX)
D=$WORK/data
mkdir "$D"
KEY=$($BIN keys create --data-dir "$D" --tenant t1 --role writer --id w1 2>/dev/null)  # the token, alone on stdout
PORT=$((20000 + RANDOM % 10000))
$BIN serve --data-dir "$D" --listen 127.0.0.1:$PORT >"$WORK/serve.log" 2>&1 &
SPID=$!
trap 'kill $SPID 2>/dev/null; wait $SPID 2>/dev/null; rm -rf "$WORK"' EXIT
for i in $(seq 50); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.1; done
H="Authorization: Bearer $KEY"
for mode in "" "?textAppends=true"; do
  S="s$RANDOM"
  curl -sf -H "$H" -H 'content-type: application/json' -d "{\"id\":\"$S\"}" http://127.0.0.1:$PORT/v1/sessions >/dev/null
  OUT=$WORK/stream$RANDOM
  curl -sN -H "$H" "http://127.0.0.1:$PORT/v1/sessions/$S/transcript/stream$mode" >"$OUT" &
  CPID=$!
  sleep 0.3
  for i in $(seq 400); do
    curl -sf -H "$H" -H 'content-type: application/json' \
      -d '{"eventType":"thinking.delta","payload":{"text":"0123456789abcde "}}' \
      http://127.0.0.1:$PORT/v1/sessions/$S/events >/dev/null
    sleep 0.01
  done
  sleep 1
  kill $CPID; wait $CPID 2>/dev/null || true
  TEXT=$(curl -sf -H "$H" http://127.0.0.1:$PORT/v1/sessions/$S/transcript | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["entries"][0]["text"]))')
  echo "mode='${mode:-default}' stream_bytes=$(wc -c <"$OUT") entry_frames=$(grep -c '^event: entry' "$OUT") append_frames=$(grep -c '^event: append' "$OUT" || true) text_bytes=$TEXT"
  # Reassemble and compare.
  python3 - "$OUT" <<'PY'
import json,sys
text=None
for block in open(sys.argv[1]).read().split("\n\n"):
    ev=None;data=None
    for line in block.split("\n"):
        if line.startswith("event: "): ev=line[7:]
        if line.startswith("data: "): data=json.loads(line[6:])
    if ev=="entry": text=data["text"]
    elif ev=="append": text+=data["text"]
print("reassembled_len", len(text or ""))
PY
  rm -f "$OUT"
done
