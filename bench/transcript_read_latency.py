#!/usr/bin/env python3
"""Transcript read latency, resident vs evicted (decision 0018), same server.

Usage: python3 bench/transcript_read_latency.py ACPSTORE_BINARY [SESSIONS] [DELTAS] [READS]
Starts `acpstore serve` (file engine, --memory-budget 4MiB: transcripts get
1 MiB), fills SESSIONS sessions with DELTAS message.delta events of ~1 KiB
text each (one assistant entry per 50 deltas), waits until the oldest are
evicted, then times GET /v1/sessions/{id}/transcript?limit=1000 (the whole
transcript) READS times for the newest session (resident) and the oldest
(evicted), alternating. Prints medians and p90 in ms, and the stats.
"""
import http.client, json, os, re, statistics, subprocess, sys, tempfile, time

binary = sys.argv[1]
sessions = int(sys.argv[2]) if len(sys.argv) > 2 else 40
deltas = int(sys.argv[3]) if len(sys.argv) > 3 else 400
reads = int(sys.argv[4]) if len(sys.argv) > 4 else 200
d = tempfile.mkdtemp(prefix="acpstore-trread-")
p = subprocess.Popen([binary, "serve", "--data-dir", d + "/data", "--listen", "127.0.0.1:0",
                      "--sync", "none", "--memory-budget", "4MiB", "--max-events-per-session", "0"],
                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
port = None
while port is None:
    m = re.search(r"listening on 127\.0\.0\.1:(\d+)", p.stderr.readline())
    if m:
        port = int(m.group(1))
token = open(d + "/data/bootstrap-admin.token").read().strip()
c = http.client.HTTPConnection("127.0.0.1", port)
h = {"Authorization": "Bearer " + token, "Content-Type": "application/json", "Prefer": "return=minimal"}
text = ("lorem ipsum \\\"dolor\\\" sit amet caf\\u00e9 " * 30)[:1000]
for s in range(sessions):
    c.request("POST", "/v1/sessions", json.dumps({"id": "sess-%d" % s}).encode(), h); c.getresponse().read()
    events = [{"eventType": "message.delta",
               "payload": json.loads('{"messageId":"m%d","text":"%s"}' % (i // 50, text))}
              for i in range(deltas)]
    for at in range(0, deltas, 100):
        c.request("POST", "/v1/sessions/sess-%d/events" % s, json.dumps({"events": events[at:at + 100]}).encode(), h)
        r = c.getresponse(); r.read(); assert r.status in (200, 201), r.status
def stats():
    c.request("GET", "/v1/stats", headers=h)
    return json.loads(c.getresponse().read())["store"]
deadline = time.time() + 30
while stats().get("transcriptsEvicted", 0) == 0 and time.time() < deadline:
    time.sleep(0.1)
st = stats()
def get(s):
    t0 = time.perf_counter()
    c.request("GET", "/v1/sessions/sess-%d/transcript?limit=1000" % s, headers=h)
    r = c.getresponse(); body = r.read()
    assert r.status == 200, (r.status, body[:200])
    return (time.perf_counter() - t0) * 1e3, body
_, newest = get(sessions - 1); _, oldest = get(0)
res, ev = [], []
for i in range(reads):
    res.append(get(sessions - 1)[0]); ev.append(get(0)[0])
q = lambda xs, f: sorted(xs)[int(len(xs) * f)]
print("transcript bytes: resident %s evicted %s (%s evicted of %d); response bytes %d / %d" % (
    st["memory"]["transcriptBytes"], st["memory"].get("transcriptEvictedBytes"), st.get("transcriptsEvicted"),
    sessions, len(newest), len(oldest)))
print("resident read: median %.2f ms p90 %.2f ms" % (statistics.median(res), q(res, 0.9)))
print("evicted  read: median %.2f ms p90 %.2f ms" % (statistics.median(ev), q(ev, 0.9)))
p.terminate(); p.wait()
subprocess.run(["rm", "-rf", d])
