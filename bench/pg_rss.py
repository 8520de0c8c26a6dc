#!/usr/bin/env python3
# Server RSS against the size of a postgres engine's database (SPEC §10: "a
# server's memory does not grow with the data in the database";
# docs/benchmarks.md, "PostgreSQL engine (issue 12)").
#
# For each size (default 10^3 and 10^6 events), in a schema of its own:
# migrate it (`acpstore migrate`), make an admin key (`acpstore keys
# create`), create SESSIONS sessions through a server, then load the events
# straight into the tables with one INSERT ... SELECT generate_series (the
# rows the engine would write: canonical JSON text payloads, the session
# counters advanced to match) and stop that server. Then, RUNS times: start
# a fresh `acpstore serve --engine postgres`, read a few sessions (a page of
# events from 10 of them, the session list, /v1/stats), wait for two
# maintenance passes, and read the server's VmRSS and VmHWM from
# /proc/PID/status. Prints one line per run and the medians.
#
# Usage: bench/pg_rss.py --acpstore BUILD/src/cli/acpstore \
#          --postgres-url "host=/tmp/pg port=5432 user=postgres" \
#          [--events 1000,1000000] [--sessions 1000] [--runs 3] \
#          [--payload-bytes 512]
# Needs psql on PATH. Drops its schemas (rss_<events>) when done.

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def psql(url, sql):
    return subprocess.run(['psql', url, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql],
                          check=True, capture_output=True, text=True).stdout


class Server:
    def __init__(self, binary, url, schema, token):
        self.dir = tempfile.mkdtemp(prefix='pg-rss-')
        self.log = open(os.path.join(self.dir, 'server.log'), 'w+')
        self.proc = subprocess.Popen(
            [binary, 'serve', '--engine', 'postgres', '--postgres-url', url,
             '--postgres-schema', schema, '--data-dir', self.dir + '/data',
             '--listen', '127.0.0.1:0'],
            stdout=subprocess.DEVNULL, stderr=self.log)
        self.token = token
        deadline = time.time() + 60
        while time.time() < deadline:
            self.log.seek(0)
            m = re.search(r'listening on 127\.0\.0\.1:(\d+)', self.log.read())
            if m:
                self.port = int(m.group(1))
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.log.seek(0)
        raise RuntimeError('server did not start: ' + self.log.read())

    def request(self, method, path, body=None):
        c = http.client.HTTPConnection('127.0.0.1', self.port, timeout=60)
        headers = {'Authorization': 'Bearer ' + self.token}
        if body is not None:
            headers['Content-Type'] = 'application/json'
            body = json.dumps(body)
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        data = r.read()
        c.close()
        if r.status >= 300:
            raise RuntimeError('%s %s: HTTP %d %s' % (method, path, r.status, data[:200]))
        return json.loads(data) if data else None

    def memory(self):
        out = {}
        with open('/proc/%d/status' % self.proc.pid) as f:
            for line in f:
                if line.startswith(('VmRSS:', 'VmHWM:')):
                    out[line.split(':')[0]] = int(line.split()[1]) / 1024.0
        return out

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)


def load(args, events):
    schema = 'rss_%d' % events
    psql(args.postgres_url, 'SET client_min_messages = warning; '
         'DROP SCHEMA IF EXISTS %s CASCADE' % schema)
    subprocess.run([args.acpstore, 'migrate', '--postgres-url', args.postgres_url,
                    '--postgres-schema', schema], check=True, capture_output=True)
    token = subprocess.run(
        [args.acpstore, 'keys', 'create', '--postgres-url', args.postgres_url,
         '--postgres-schema', schema, '--tenant', 'default', '--role', 'admin'],
        check=True, capture_output=True, text=True).stdout.strip()
    server = Server(args.acpstore, args.postgres_url, schema, token)
    try:
        for i in range(args.sessions):
            server.request('POST', '/v1/sessions', {'id': 'rss-%d' % i})
    finally:
        server.stop()
    per = max(1, events // args.sessions)
    # Canonical compact JSON, as validation would have produced it.
    filler = 'x' * max(1, args.payload_bytes - 40)
    payload = "'{\"n\":' || g || ',\"text\":\"%s\"}'" % filler
    t0 = time.time()
    psql(args.postgres_url, f"""
SET search_path TO {schema};
INSERT INTO events (tenant_id, session_id, seq, event_type, occurred_at,
                    ingested_at, payload)
  SELECT s.tenant_id, s.session_id, g, 'tool.output', 1780000000000,
         1780000000000, {payload}
  FROM sessions s, generate_series(1, {per}) g;
UPDATE sessions s SET first_seq = 1, last_seq = {per}, retained = {per},
  payload_bytes = (SELECT sum(octet_length(e.payload)) FROM events e
                   WHERE e.tenant_id = s.tenant_id AND e.session_id = s.session_id);
ANALYZE;""")
    count = int(psql(args.postgres_url, f'SELECT count(*) FROM {schema}.events'))
    size = psql(args.postgres_url,
                f"SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c "
                f"JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '{schema}' "
                f"AND c.relkind = 'r'").strip()
    print('loaded %d events in %d sessions into %s (%s) in %.0f s'
          % (count, args.sessions, schema, size, time.time() - t0), flush=True)
    return schema, token, per


def measure(args, schema, token, per):
    server = Server(args.acpstore, args.postgres_url, schema, token)
    try:
        for i in range(0, args.sessions, max(1, args.sessions // 10)):
            page = server.request('GET', '/v1/sessions/rss-%d/events?limit=100' % i)
            assert len(page['events']) == min(100, per), page
            last = server.request('GET', '/v1/sessions/rss-%d/events?after=%d&limit=100'
                                  % (i, max(0, per - 100)))
            assert last['events'][-1]['eventSeq'] == per
        server.request('GET', '/v1/sessions?limit=100')
        server.request('GET', '/v1/stats')
        time.sleep(2.5)  # two maintenance passes (every second)
        return server.memory()
    finally:
        server.stop()


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--acpstore', required=True)
    p.add_argument('--postgres-url', required=True)
    p.add_argument('--events', default='1000,1000000')
    p.add_argument('--sessions', type=int, default=1000)
    p.add_argument('--runs', type=int, default=3)
    p.add_argument('--payload-bytes', type=int, default=512)
    p.add_argument('--keep', action='store_true', help='keep the schemas')
    args = p.parse_args()
    results = {}
    for events in [int(e) for e in args.events.split(',')]:
        schema, token, per = load(args, events)
        runs = []
        for run in range(1, args.runs + 1):
            m = measure(args, schema, token, per)
            print('  %d events, run %d: VmRSS %.1f MiB, VmHWM %.1f MiB'
                  % (events, run, m['VmRSS'], m['VmHWM']), flush=True)
            runs.append(m)
        results[events] = runs
        if not args.keep:
            psql(args.postgres_url, 'SET client_min_messages = warning; '
                 'DROP SCHEMA %s CASCADE' % schema)
    print('events     VmRSS MiB (median)  VmHWM MiB (median)')
    for events, runs in results.items():
        print('%-10d %18.1f  %18.1f' % (
            events, statistics.median(r['VmRSS'] for r in runs),
            statistics.median(r['VmHWM'] for r in runs)))


if __name__ == '__main__':
    sys.exit(main())
