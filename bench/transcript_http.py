#!/usr/bin/env python3
"""Server CPU per append with transcripts on and off (issue 16), end to end.

Starts `acpstore serve` (file engine, --sync none unless $SYNC says otherwise) once per run, alternating
--transcript-max-bytes 16MiB (on) and 0 (off), sends N single appends of an
Aegis-shaped ACP session (payloads embed the raw frame under "acp") over one
keep-alive connection, and reads the server's user+sys CPU from
/proc/<pid>/stat before and after. Prints each run and the medians.

Usage: bench/transcript_http.py BINARY [EVENTS] [RUNS]
"""
import http.client, json, os, random, re, statistics, subprocess, sys, tempfile, time

binary = sys.argv[1]
events = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
tick = os.sysconf("SC_CLK_TCK")
WORDS = ["the ", "file ", "reads ", "function ", "returns ", "a ", "value ", '"quoted" ', "line\n", "café "]


def words(rng, n):
    out = ""
    while len(out) < n:
        out += WORDS[rng.randrange(10)]
    return out


def frame(update, body):
    return {"jsonrpc": "2.0", "method": "session/update",
            "params": {"sessionId": "sess-1", "update": dict(sessionUpdate=update, **body)}}


def session(n, seed=16):
    rng = random.Random(seed)
    out, tool, msg = [], 0, 0
    while len(out) < n:
        r = rng.randrange(100)
        if r < 60:
            t = words(rng, 20 + rng.randrange(100))
            out.append(("message.delta", {"acp": frame("agent_message_chunk", {"content": {"type": "text", "text": t}}),
                                          "messageId": "m%d" % msg, "text": t}))
            if rng.randrange(40) == 0:
                msg += 1
        elif r < 75:
            t = words(rng, 20 + rng.randrange(100))
            out.append(("thinking.delta", {"acp": frame("agent_thought_chunk", {"content": {"type": "text", "text": t}}), "text": t}))
        elif r < 83:
            tool += 1
            out.append(("tool.started", {"acp": frame("tool_call", {"toolCallId": "call_%d" % tool, "title": "Read src/main.cc",
                                                                    "kind": "read", "rawInput": {"path": "src/main.cc"}}),
                                         "input": {"path": "src/main.cc"}, "kind": "read", "status": "pending",
                                         "title": "Read src/main.cc", "toolCallId": "call_%d" % tool}))
        elif r < 91 and tool > 0:
            o = words(rng, 200 + rng.randrange(4000))
            out.append(("tool.completed", {"acp": frame("tool_call_update", {"toolCallId": "call_%d" % tool, "status": "completed",
                                                                             "content": [{"type": "content", "content": {"type": "text", "text": o}}]}),
                                           "output": o, "status": "completed", "toolCallId": "call_%d" % tool}))
        elif r < 94:
            out.append(("usage.updated", {"acp": frame("usage_update", {"used": 1234, "size": 200000}),
                                          "inputTokens": rng.randrange(5000), "outputTokens": rng.randrange(900)}))
        elif r < 97:
            out.append(("session.updated", {"acp": frame("current_mode_update", {"currentModeId": "code"}), "mode": "code"}))
        else:
            out.append(("turn.completed", {"acp": {"jsonrpc": "2.0", "id": 7, "result": {"stopReason": "end_turn"}}, "stopReason": "end_turn"}))
    return [json.dumps({"eventType": t, "payload": p}, ensure_ascii=False).encode() for t, p in out]


def cpu(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick


def run(on, bodies):
    d = tempfile.mkdtemp(prefix="acpstore-trhttp-")
    p = subprocess.Popen([binary, "serve", "--data-dir", d + "/data", "--listen", "127.0.0.1:0", "--sync", os.environ.get("SYNC", "none"),
                          "--transcript-max-bytes", "16MiB" if on else "0", "--max-events-per-session", "0"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    port = None
    while port is None:
        line = p.stderr.readline()
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if m:
            port = int(m.group(1))
    token = open(d + "/data/bootstrap-admin.token").read().strip()
    c = http.client.HTTPConnection("127.0.0.1", port)
    h = {"Authorization": "Bearer " + token, "Content-Type": "application/json", "Prefer": "return=minimal"}
    c.request("POST", "/v1/sessions", b'{"id":"sess-1"}', h); c.getresponse().read()
    c0, t0 = cpu(p.pid), time.monotonic()
    for b in bodies:
        c.request("POST", "/v1/sessions/sess-1/events", b, h)
        r = c.getresponse(); r.read()
        assert r.status == 201, r.status
    secs, used = time.monotonic() - t0, cpu(p.pid) - c0
    c.request("GET", "/v1/stats", headers=h)
    stats = json.loads(c.getresponse().read())
    p.terminate(); p.wait()
    subprocess.run(["rm", "-rf", d])
    return used * 1e6 / len(bodies), len(bodies) / secs, stats


bodies = session(events)
res = {True: [], False: []}
for i in range(runs):
    for on in ((True, False) if i % 2 == 0 else (False, True)):
        us, rate, stats = run(on, bodies)
        res[on].append((us, rate))
        print("run %d transcripts %-3s: server %.1f us CPU/append, %.0f appends/s" % (i, "on" if on else "off", us, rate), flush=True)
        if on:
            st = stats["store"]
            payload, tr = st["eventPayloadBytes"], st["memory"]["transcriptBytes"]
for on in (False, True):
    print("%s: median server CPU %.1f us/append, median %.0f appends/s" % (
        "on " if on else "off", statistics.median(u for u, _ in res[on]), statistics.median(r for _, r in res[on])))
print("CPU on/off %.3f, throughput on/off %.3f" % (
    statistics.median(u for u, _ in res[True]) / statistics.median(u for u, _ in res[False]),
    statistics.median(r for _, r in res[True]) / statistics.median(r for _, r in res[False])))
print("payload bytes %d, transcript bytes %d: %.3f transcript bytes per event byte" % (payload, tr, tr / payload))
