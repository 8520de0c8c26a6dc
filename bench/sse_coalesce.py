#!/usr/bin/env python3
"""What --sse-coalesce (decision 0025) does to one busy session's SSE writes, end to end.

Starts `acpstore serve --engine memory` once per run, alternating the windows given, opens N SSE
streams on one session (reader threads that only count frames), then appends 400-byte events over
one keep-alive connection as fast as the server answers for SECONDS. The memory engine makes each
append its own commit and its own wake-up of every stream, which is the quiet-machine regime of the
1,000 x 1,000/s target, whatever the disk. Prints, per run: appends/s, events sent and SSE writes
(from /metrics: acpstore_sse_events_sent_total, acpstore_sse_writes_total), events per write,
frames the readers received (must equal events sent), and the server's user+sys CPU per frame
(/proc/<pid>/stat over the append window; it includes the appends' own cost).

Usage: bench/sse_coalesce.py BINARY [SUBSCRIBERS] [ROUNDS] [WINDOWS] [SECONDS]
       (defaults: 10 subscribers, 2 rounds, windows "0,5ms", 3 s)
"""
import http.client, os, socket, subprocess, sys, tempfile, threading, time

binary = sys.argv[1]
subs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 2
windows = (sys.argv[4] if len(sys.argv) > 4 else "0,5ms").split(",")
seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 3.0
tick = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_cpu(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick


def run(window):
    data = tempfile.mkdtemp(prefix="acpstore-sse-coalesce-")
    port = free_port()
    srv = subprocess.Popen([binary, "serve", "--data-dir", data, "--engine", "memory",
                            "--listen", f"127.0.0.1:{port}", "--sse-coalesce", window,
                            "--max-subscribers-per-key", "8192", "--max-subscribers", "8192",
                            "--max-connections", "8192"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stop = threading.Event()
    try:
        token_path = data + "/bootstrap-admin.token"
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                token = open(token_path).read().strip()
                if token:
                    socket.create_connection(("127.0.0.1", port)).close()
                    break
            except OSError:
                pass
            time.sleep(0.05)
        else:
            raise SystemExit("the server did not start")
        head = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.request("POST", "/v1/sessions", '{"id":"s"}', head)
        conn.getresponse().read()
        got = [0] * subs
        opened = threading.Semaphore(0)

        def reader(i):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(("GET /v1/sessions/s/events/stream HTTP/1.1\r\nHost: bench\r\n"
                       f"Authorization: Bearer {token}\r\n\r\n").encode())
            opened.release()
            while not stop.is_set():
                b = s.recv(1 << 20)
                if not b:
                    break
                got[i] += b.count(b"\nid: ") + b.startswith(b"id: ")
            s.close()

        threads = [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(subs)]
        for t in threads:
            t.start()
        for _ in threads:
            opened.acquire()
        time.sleep(0.5)
        body = '{"eventType":"tool.output","payload":{"text":"' + "x" * 400 + '"}}'
        cpu0 = server_cpu(srv.pid)
        sent, t0 = 0, time.time()
        while time.time() - t0 < seconds:
            conn.request("POST", "/v1/sessions/s/events", body, head)
            conn.getresponse().read()
            sent += 1
        # Every frame reaches every reader before the counts are read.
        deadline = time.time() + 30
        while sum(got) < sent * subs and time.time() < deadline:
            time.sleep(0.05)
        used = server_cpu(srv.pid) - cpu0
        m = http.client.HTTPConnection("127.0.0.1", port)
        m.request("GET", "/metrics")
        text = m.getresponse().read().decode()

        def metric(name):
            return float(next(l for l in text.splitlines() if l.startswith(name + " ")).split()[1])

        events, writes = metric("acpstore_sse_events_sent_total"), metric("acpstore_sse_writes_total")
        print(f"window={window:5} subscribers={subs} appends/s={sent / seconds:7.0f} "
              f"events_sent={events:8.0f} writes={writes:8.0f} events/write={events / max(writes, 1):6.2f} "
              f"received={sum(got)} server_cpu_us/frame={used * 1e6 / max(events, 1):6.2f}", flush=True)
    finally:
        stop.set()
        srv.terminate()
        srv.wait()
        subprocess.run(["rm", "-rf", data])


for _ in range(rounds):
    for w in windows:
        run(w)
