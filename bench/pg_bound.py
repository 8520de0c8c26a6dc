#!/usr/bin/env python3
# What PostgreSQL alone can do with 16 appends in flight (issue 12,
# docs/benchmarks.md "What PostgreSQL alone allows at 16 writers"): the
# bound any server in front of it works under, measured with pgbench and no
# acpstore process at all, beside the Aegis design in the same run.
#
# Every subject stores one 2.4 KB payload per row with synchronous_commit
# on, and keeps 16 appends in flight (clients x rows per transaction = 16):
#
#   aegis    16 clients: BEGIN; pg_advisory_xact_lock; INSERT ... SELECT
#            max(seq)+1; COMMIT (the design of Aegis's event store, as
#            bench/postgres_peer.h models it)
#   insert   16 clients: one autocommit single-row INSERT (the INSERT peer)
#   batch-N  16/N clients, one multi-row INSERT of N rows per transaction:
#            the cheapest way to store 16 rows in flight (3 columns, one
#            index, no counters)
#   engine   4 clients, 3 rows per transaction as the engine's cached batch
#            writes them (decision 0028): per row one statement that
#            advances the session row's counters and INSERTs the event into
#            the engine's own tables (schema made by `acpstore migrate`)
#
# For each: rows/s and PostgreSQL's CPU per row (the postmaster's utime +
# stime + cutime + cstime and every live child's utime + stime from
# /proc, before and after: the server must run on this machine). pgbench's
# own CPU is not counted (acpstore's would be, on top).
#
# Usage: bench/pg_bound.py --acpstore BUILD/src/cli/acpstore \
#          --postgres-url "host=/tmp/pg port=5432 user=postgres dbname=postgres" \
#          [--seconds 8] [--rounds 2]
# Needs psql and pgbench (postgresql-client; Debian keeps pgbench in
# /usr/lib/postgresql/<v>/bin, found there too). Drops its schemas when done.

import argparse
import glob
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SCHEMA_PEER = 'bound_peer'
SCHEMA_ENGINE = 'bound_engine'


def psql(url, sql):
    return subprocess.run(['psql', url, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql],
                          check=True, capture_output=True, text=True).stdout


def pgbench_binary():
    found = shutil.which('pgbench')
    if found:
        return found
    candidates = sorted(glob.glob('/usr/lib/postgresql/*/bin/pgbench'))
    if not candidates:
        sys.exit('pg_bound: pgbench not found (apt install postgresql-client)')
    return candidates[-1]


def payload():
    # An Aegis-shaped tool event: JSON text with the raw ACP frame, words
    # drawn from a small vocabulary (compresses about as real output does).
    rng = random.Random(1)
    words = ['the', 'file', 'src', 'function', 'return', 'const', 'value',
             'error', 'test', 'build', 'import', 'class', 'def', 'self',
             'string', 'int', 'path', 'config']
    text = ' '.join(rng.choice(words) for _ in range(330))
    body = json.dumps({'acp': {'jsonrpc': '2.0', 'method': 'session/update',
                               'params': {'update': {
                                   'sessionUpdate': 'tool_call_update',
                                   'toolCallId': 'call_1', 'rawOutput': text}}},
                       'toolCallId': 'call_1', 'status': 'completed',
                       'output': text[:300]})
    return body[:2400].replace("'", "''")


def scripts(dir_path):
    p = payload()
    peer = SCHEMA_PEER + '.pe'
    out = {}

    def write(name, text):
        path = os.path.join(dir_path, name + '.sql')
        with open(path, 'w') as f:
            f.write(text)
        out[name] = path

    write('aegis',
          "BEGIN;\n"
          "SELECT pg_advisory_xact_lock(hashtextextended('a' || :client_id, 0));\n"
          f"INSERT INTO {peer} SELECT 'a' || :client_id, coalesce(max(seq), 0) + 1, "
          f"convert_to('{p}', 'UTF8') FROM {peer} WHERE session = 'a' || :client_id;\n"
          "COMMIT;\n")
    write('insert',
          "\\set s random(1, 1000000000000)\n"
          f"INSERT INTO {peer} VALUES ('i' || :client_id, :s::bigint, "
          f"convert_to('{p}', 'UTF8'));\n")
    for n in (4, 8, 16):
        rows = ','.join(
            f"('b' || :client_id, :s::bigint * 100 + {i}, convert_to('{p}', 'UTF8'))"
            for i in range(n))
        write(f'batch-{n}',
              "\\set s random(1, 1000000000000)\n"
              f"BEGIN;\nINSERT INTO {peer} VALUES {rows};\nCOMMIT;\n")
    stmts = []
    for k in range(3):
        stmts.append(
            f"WITH g AS (UPDATE {SCHEMA_ENGINE}.sessions SET last_seq = last_seq + 1, "
            "retained = retained + 1, payload_bytes = payload_bytes + 2400 "
            f"WHERE tenant_id = 't' AND session_id = 'c' || :client_id || '-{k}' "
            "RETURNING tenant_id, session_id, last_seq) "
            f"INSERT INTO {SCHEMA_ENGINE}.events (tenant_id, session_id, seq, "
            "client_event_id, event_type, occurred_at, ingested_at, backend_run_id, "
            "payload_ref, payload) SELECT tenant_id, session_id, last_seq, NULL, "
            f"'tool.completed', 1, 2, NULL, NULL, '{p}' FROM g;\n")
    write('engine', 'BEGIN;\n' + ''.join(stmts) + 'COMMIT;\n')
    return out


def postmaster_pid(url):
    data_dir = psql(url, 'SHOW data_directory').strip()
    with open(os.path.join(data_dir, 'postmaster.pid')) as f:
        return int(f.readline())


def stat_fields(pid):
    with open(f'/proc/{pid}/stat') as f:
        return f.read().rsplit(')', 1)[1].split()


def children(pm):
    out = []
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            f = stat_fields(pid)
        except OSError:
            continue
        if int(f[1]) == pm:
            out.append(f)
    return out


def pg_cpu_seconds(pm):
    f = stat_fields(pm)
    total = sum(int(x) for x in f[11:15])  # utime stime cutime cstime
    for c in children(pm):
        total += int(c[11]) + int(c[12])
    return total / os.sysconf('SC_CLK_TCK')


def settle(pm, baseline):
    # A finished run's backends exit and are reaped after pgbench returns;
    # a sample taken meanwhile would miss or double their CPU.
    deadline = time.monotonic() + 10
    while len(children(pm)) > baseline and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)


def run(pgbench, url, script, clients, rows, seconds, pm, baseline):
    settle(pm, baseline)
    before = pg_cpu_seconds(pm)
    r = subprocess.run([pgbench, '-n', '-M', 'prepared', '-c', str(clients),
                        '-j', str(min(clients, 2)), '-T', str(seconds), '-f',
                        script, url], capture_output=True, text=True)
    settle(pm, baseline)
    after = pg_cpu_seconds(pm)
    m = re.search(r'number of transactions actually processed: (\d+)', r.stdout)
    if r.returncode != 0 or not m or int(m.group(1)) == 0:
        sys.exit(f'pg_bound: pgbench failed on {script}:\n{r.stdout}{r.stderr}')
    n = int(m.group(1)) * rows
    return n / seconds, (after - before) * 1e6 / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--acpstore', required=True)
    ap.add_argument('--postgres-url', required=True)
    ap.add_argument('--seconds', type=int, default=8)
    ap.add_argument('--rounds', type=int, default=2)
    args = ap.parse_args()
    url = args.postgres_url
    pgbench = pgbench_binary()
    pm = postmaster_pid(url)

    psql(url, f'DROP SCHEMA IF EXISTS {SCHEMA_PEER} CASCADE; '
              f'DROP SCHEMA IF EXISTS {SCHEMA_ENGINE} CASCADE; '
              f'CREATE SCHEMA {SCHEMA_PEER}; '
              f'CREATE TABLE {SCHEMA_PEER}.pe (session text, seq bigint, '
              'payload bytea, PRIMARY KEY (session, seq))')
    subprocess.run([args.acpstore, 'migrate', '--postgres-url', url,
                    '--postgres-schema', SCHEMA_ENGINE], check=True,
                   capture_output=True)
    psql(url, f"INSERT INTO {SCHEMA_ENGINE}.sessions (tenant_id, session_id, "
              "owner_key_id, status, updated_at, record) SELECT 't', "
              "'c' || c || '-' || k, 'o', 0, 0, ''::bytea FROM "
              "generate_series(0, 15) c, generate_series(0, 2) k")

    baseline = len(children(pm))  # the server's own processes
    subjects = [('aegis', 16, 1), ('insert', 16, 1), ('batch-4', 4, 4),
                ('batch-8', 2, 8), ('batch-16', 1, 16), ('engine', 4, 3)]
    results = {name: [] for name, _, _ in subjects}
    with tempfile.TemporaryDirectory() as d:
        files = scripts(d)
        try:
            for r in range(args.rounds):
                for name, clients, rows in subjects:
                    rate, cpu = run(pgbench, url, files[name], clients, rows,
                                    args.seconds, pm, baseline)
                    results[name].append((rate, cpu))
                    print(f'round {r + 1} {name:9s} clients={clients:2d} '
                          f'rows/txn={rows:2d}: {rate:8.0f} rows/s, '
                          f'PostgreSQL {cpu:6.1f} us/row', flush=True)
        finally:
            psql(url, f'DROP SCHEMA IF EXISTS {SCHEMA_PEER} CASCADE; '
                      f'DROP SCHEMA IF EXISTS {SCHEMA_ENGINE} CASCADE')

    aegis = statistics.median(x[0] for x in results['aegis'])
    print('\nmedians (16 appends in flight; x aegis = rows/s over the Aegis design\'s)')
    print(f'{"subject":9s} {"rows/s":>8s} {"x aegis":>8s} {"pg us/row":>10s}')
    for name, _, _ in subjects:
        rate = statistics.median(x[0] for x in results[name])
        cpu = statistics.median(x[1] for x in results[name])
        print(f'{name:9s} {rate:8.0f} {rate / aegis:8.2f} {cpu:10.1f}')


if __name__ == '__main__':
    main()
