#!/usr/bin/env python3
"""Server memory while readers page through large events (--max-page-bytes).

Starts `acpstore serve` (file engine, a scratch data directory) with the
extra flags given, appends 150 events of ~1 MB to one session, then pages
through them with GET .../events?limit=1000 (paging on from the last
eventSeq until lastSeq), first one reader, then six at once; then opens
eight SSE streams from the start that never read (--sse-buffer-bytes).
Prints the pages taken and the server's VmRSS/VmHWM from
/proc/<pid>/status after each step.

Usage: bench/page_memory.py BINARY [SERVE FLAGS...]
  e.g. bench/page_memory.py build/release/src/cli/acpstore --max-page-bytes 1GiB
"""
import json, socket, subprocess, sys, tempfile, threading, time, urllib.request

binary, flags = sys.argv[1], sys.argv[2:]
PORT = 7791
EVENTS = 150

with tempfile.TemporaryDirectory() as data:
    server = subprocess.Popen(
        [binary, "serve", "--data-dir", data, "--listen", f"127.0.0.1:{PORT}", *flags],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                token = open(f"{data}/bootstrap-admin.token").read().strip()
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/readyz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            sys.exit("the server did not become ready")

        def call(method, path, body=None):
            r = urllib.request.Request(
                f"http://127.0.0.1:{PORT}{path}", method=method, data=body,
                headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
            return urllib.request.urlopen(r, timeout=120).read()

        def mib(field):
            for line in open(f"/proc/{server.pid}/status"):
                if line.startswith(field):
                    return int(line.split()[1]) // 1024

        def read_all():
            after, events, pages = 0, 0, 0
            while True:
                page = json.loads(call("GET", f"/v1/sessions/s/events?limit=1000&after={after}"))
                if not page["events"]:
                    break
                events += len(page["events"])
                pages += 1
                after = page["events"][-1]["eventSeq"]
                if after >= page["lastSeq"]:
                    break
            return events, pages

        call("POST", "/v1/sessions", json.dumps({"id": "s"}).encode())
        blob = "z" * 1_000_000
        for i in range(EVENTS):
            call("POST", "/v1/sessions/s/events",
                 json.dumps({"eventType": "note", "payload": {"i": i, "b": blob}}).encode())
        time.sleep(2)
        print(f"after {EVENTS} appends of ~1 MB: VmRSS {mib('VmRSS')} MiB")
        events, pages = read_all()
        print(f"one reader: {events} events in {pages} page(s); "
              f"VmRSS {mib('VmRSS')} MiB, VmHWM {mib('VmHWM')} MiB")
        readers = [threading.Thread(target=read_all) for _ in range(6)]
        for t in readers:
            t.start()
        for t in readers:
            t.join()
        print(f"six readers at once: VmRSS {mib('VmRSS')} MiB, VmHWM {mib('VmHWM')} MiB")
        # Streams whose client never reads: the server holds what its
        # socket buffers and its own SSE buffer take, no more.
        streams = []
        for _ in range(8):
            sock = socket.create_connection(("127.0.0.1", PORT))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.sendall((f"GET /v1/sessions/s/events/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          f"Authorization: Bearer {token}\r\n\r\n").encode())
            streams.append(sock)
        time.sleep(5)
        print(f"eight SSE streams that never read: VmRSS {mib('VmRSS')} MiB, VmHWM {mib('VmHWM')} MiB")
        for sock in streams:
            sock.close()
    finally:
        server.terminate()
        server.wait()
