// Benchmark: Aegis-style callers appending through the drop-in profile.
// N concurrent callers (default 220), each its own session, each appending
// ~2.5 KB events and awaiting every append, for a fixed duration. Reports
// appends/s, latency p50/p99/max, and the server's CPU time per event read
// from /proc/<pid>/stat (utime + stime) around the measured window.
//
//   npm run build && node dist/bench/aegis_appends.js [--callers 220] [--seconds 30] [--bytes 2560] [--full]
//
// --full: the profile asks for every event echoed back (minimalAppends:
// false) instead of Prefer: return=minimal.
//
// Uses the same harness as the tests: $ACPSTORE_BIN on a scratch directory
// and a free port on 127.0.0.1 (default sync mode: fdatasync per group commit).

import { readFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { cpus } from 'node:os';

import { createAcpstoreProfile } from '../src/aegis/index.js';
import { AcpstoreServer } from '../test/harness.js';

class AcpValidationError extends Error {}
class AcpDurableIdentityError extends Error {}

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

/** utime + stime of `pid`, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the ")" of the command name; utime and stime are 14 and 15.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(rest[11]) + Number(rest[12]);
  return ticks / Number(execSync('getconf CLK_TCK').toString().trim());
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function main(): Promise<void> {
  const callers = arg('callers', 220);
  const seconds = arg('seconds', 30);
  const bytes = arg('bytes', 2560);
  const server = await AcpstoreServer.start();
  const profile = createAcpstoreProfile({
    baseUrl: server.baseUrl,
    token: server.keys.service,
    errors: { AcpValidationError, AcpDurableIdentityError },
    minimalAppends: !process.argv.includes('--full'),
  });
  await profile.start();
  const scope = { tenantId: 'bench', ownerKeyId: 'aegis-user' };
  const now = Date.now();
  for (let c = 0; c < callers; ++c) {
    await profile.sessionStore.create({
      id: `bench-${c}`,
      ...scope,
      conversationId: `conv-${c}`,
      transcriptId: `tr-${c}`,
      status: 'initializing',
      createdAt: now,
      updatedAt: now,
    });
  }
  // A message.delta shaped like Aegis's mapper output, padded to `bytes`.
  const base = { text: '', messageId: 'msg-1', acp: { jsonrpc: '2.0', method: 'session/update', params: {} } };
  const pad = bytes - JSON.stringify(base).length;
  const payload = { ...base, text: 'x'.repeat(Math.max(0, pad)) };

  const latencies: number[] = [];
  let errors = 0;
  let measuring = false;
  let stop = false;
  const worker = async (c: number): Promise<void> => {
    const sessionId = `bench-${c}`;
    while (!stop) {
      const t0 = performance.now();
      try {
        await profile.eventStore.append({ ...scope, sessionId, eventType: 'message.delta', payload });
        if (measuring) latencies.push(performance.now() - t0);
      } catch {
        ++errors;
      }
    }
  };
  const workers = Array.from({ length: callers }, (_, c) => worker(c));
  // Warm up for 3 s, then measure.
  await new Promise((r) => setTimeout(r, 3000));
  const cpu0 = cpuSeconds(server.pid);
  const t0 = performance.now();
  measuring = true;
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const elapsed = (performance.now() - t0) / 1000;
  const cpu1 = cpuSeconds(server.pid);
  stop = true;
  await Promise.all(workers);
  await profile.stop();
  await server.stop();

  const n = latencies.length;
  latencies.sort((a, b) => a - b);
  const result = {
    callers,
    answers: process.argv.includes('--full') ? 'full' : 'minimal',
    payloadBytes: JSON.stringify(payload).length,
    seconds: Number(elapsed.toFixed(1)),
    appends: n,
    appendsPerSecond: Math.round(n / elapsed),
    p50ms: Number(percentile(latencies, 50).toFixed(1)),
    p99ms: Number(percentile(latencies, 99).toFixed(1)),
    maxMs: Number((latencies[n - 1] ?? NaN).toFixed(1)),
    errors,
    serverCpuSeconds: Number((cpu1 - cpu0).toFixed(2)),
    serverCpuMicrosPerEvent: Number((((cpu1 - cpu0) / n) * 1e6).toFixed(1)),
    machine: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}`,
    node: process.version,
  };
  console.log(JSON.stringify(result, null, 2));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
