// "Not now" answers (docs/http_api.md, Errors: "429, 503 and 507 are worth
// retrying later", the first two with Retry-After): a request that is safe
// to repeat (a GET, an append under its clientEventId, an enqueue with an
// idempotencyKey, a pause route with its key, a heartbeat, a PATCH, a key
// revocation: docs/http_api.md, Idempotency) is asked again after Retry-After; any other is not. A 507 (the
// disk is full: not over in seconds) is never asked again, nor a 501 (the
// server does not do this, e.g. transcripts off). A fake server on
// 127.0.0.1 answers the first `busy` requests with 429, 501, 503 or 507,
// then as acpstore would.

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, test } from 'node:test';

import { AcpstoreClient, AcpstoreError } from '../src/index.js';

const json = { 'content-type': 'application/json' };
const session = { id: 's', status: 'running' };

let fake: Server;
let port = 0;
/** The bodies of the requests seen, in order. */
let seen: { method: string; url: string; body: string }[] = [];
let busy = 0;
let busyStatus = 503;
let retryAfter: string | undefined = '0';

before(async () => {
  fake = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', body });
      if (busy > 0) {
        --busy;
        const codes: Record<number, string> = {
          429: 'too_many_requests',
          501: 'not_implemented',
          503: 'unavailable',
          507: 'insufficient_storage',
        };
        const code = codes[busyStatus];
        res
          .writeHead(busyStatus, { ...json, ...(retryAfter === undefined ? {} : { 'retry-after': retryAfter }) })
          .end(JSON.stringify({ error: { code, message: 'not now' } }));
        return;
      }
      if (req.url?.endsWith('/events')) {
        res.writeHead(201, json).end(JSON.stringify({ eventSeq: 1, eventId: 'e1', ingestedAt: '2026-01-01T00:00:00Z' }));
      } else if (req.url === '/v1/actions') {
        res.writeHead(201, json).end(JSON.stringify({ actionId: 'a', status: 'queued' }));
      } else {
        res.writeHead(req.method === 'POST' ? 201 : 200, json).end(JSON.stringify(session));
      }
    });
  });
  await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
  port = (fake.address() as AddressInfo).port;
});
after(async () => {
  fake.closeAllConnections();
  await new Promise((r) => fake.close(r));
});
beforeEach(() => {
  seen = [];
  busy = 0;
  busyStatus = 503;
  retryAfter = '0';
});

const client = (): AcpstoreClient =>
  new AcpstoreClient({ baseUrl: `http://127.0.0.1:${port}`, token: 't', retry: { attempts: 4, baseDelayMs: 1 } });

test('a GET answered 503 or 429 is asked again, and resolves', async () => {
  for (const status of [503, 429]) {
    seen = [];
    busy = 2;
    busyStatus = status;
    assert.equal((await client().getSession('s')).id, 's');
    assert.equal(seen.length, 3, String(status));
  }
});

test('an append is asked again under the same clientEventId; an idempotent enqueue too', async () => {
  busy = 1;
  const r = await client().appendEvent('s', { eventType: 't', payload: 1 }, { minimal: true });
  assert.equal(r.value.eventSeq, 1);
  assert.equal(seen.length, 2);
  const ids = seen.map((s) => (JSON.parse(s.body) as { clientEventId: string }).clientEventId);
  assert.equal(ids[0], ids[1]);
  seen = [];
  busy = 1;
  await client().enqueueAction({ sessionId: 's', type: 'prompt', idempotencyKey: 'k' });
  assert.equal(seen.length, 2);
});

test('a write that is not safe to repeat is asked once: the 503 rejects', async () => {
  for (const call of [
    (c: AcpstoreClient) => c.createSession({ id: 's' }),
    (c: AcpstoreClient) => c.enqueueAction({ sessionId: 's', type: 'prompt' }),
    (c: AcpstoreClient) => c.transitionSession('s', 'run_started'),
  ]) {
    seen = [];
    busy = 1;
    await assert.rejects(call(client()), (e: unknown) => e instanceof AcpstoreError && e.status === 503 && e.code === 'unavailable');
    assert.equal(seen.length, 1);
  }
});

test('the pause routes with their key, a heartbeat, a PATCH and a key revocation are asked again with the same body', async () => {
  const calls: [string, (c: AcpstoreClient) => Promise<unknown>][] = [
    ['s', (c) => c.updateSession('s', { status: 'running', acpAgentSessionId: 'x' })],
    ['k', (c) => c.revokeKey('k')],
    ['pause', (c) => c.pauseSession('s', { reason: 'r', requestedBy: 'u', idempotencyKey: 'k' })],
    ['intervention/start', (c) => c.startIntervention('s', { interventionBy: 'u', interventionId: 'i' })],
    ['intervention/complete', (c) => c.completeIntervention('s', { interventionId: 'i', completedBy: 'u' })],
    ['resume', (c) => c.resumeSession('s', { resumedBy: 'u', resumeId: 'r' })],
    ['heartbeat', (c) => c.heartbeatAction('a', 'tok', 5000)],
  ];
  for (const [route, call] of calls) {
    for (const status of [503, 429]) {
      seen = [];
      busy = 2;
      busyStatus = status;
      await call(client());
      assert.equal(seen.length, 3, `${route} ${status}`);
      assert.ok(seen.every((r) => r.url.endsWith(`/${route}`) && r.body === seen[0]?.body), route);
    }
  }
});

test('a pause, intervention start or resume without its key is asked once: the 503 rejects', async () => {
  for (const call of [
    (c: AcpstoreClient) => c.pauseSession('s', { reason: 'r', requestedBy: 'u' }),
    (c: AcpstoreClient) => c.startIntervention('s', { interventionBy: 'u' }),
    (c: AcpstoreClient) => c.resumeSession('s', { resumedBy: 'u' }),
  ]) {
    seen = [];
    busy = 1;
    await assert.rejects(call(client()), (e: unknown) => e instanceof AcpstoreError && e.status === 503);
    assert.equal(seen.length, 1);
  }
});

test('507 (the disk is full) is never asked again: it rejects at once as insufficient_storage', async () => {
  for (const call of [
    (c: AcpstoreClient) => c.appendEvent('s', { eventType: 't', payload: 1 }),
    (c: AcpstoreClient) => c.enqueueAction({ sessionId: 's', type: 'prompt', idempotencyKey: 'k' }),
    (c: AcpstoreClient) => c.pauseSession('s', { reason: 'r', requestedBy: 'u', idempotencyKey: 'k' }),
    (c: AcpstoreClient) => c.heartbeatAction('a', 'tok', 5000),
  ]) {
    seen = [];
    busy = 1;
    busyStatus = 507;
    retryAfter = '1';
    await assert.rejects(
      call(client()),
      (e: unknown) => e instanceof AcpstoreError && e.status === 507 && e.code === 'insufficient_storage' && !e.isTransport,
    );
    assert.equal(seen.length, 1);
  }
});

test('501 (transcripts off: decision 0036) is never asked again, not even a GET', async () => {
  for (const call of [(c: AcpstoreClient) => c.getTranscript('s'), (c: AcpstoreClient) => c.getSession('s')]) {
    seen = [];
    busy = 1;
    busyStatus = 501;
    retryAfter = '1';
    await assert.rejects(call(client()), (e: unknown) => e instanceof AcpstoreError && e.status === 501 && e.code === 'not_implemented');
    assert.equal(seen.length, 1);
  }
});

test('Retry-After is waited for; after the last attempt the 503 rejects', async () => {
  busy = 1;
  retryAfter = '1';
  const t0 = Date.now();
  await client().getSession('s');
  assert.ok(Date.now() - t0 >= 900, `asked again after ${Date.now() - t0} ms`);
  seen = [];
  busy = 10;
  retryAfter = undefined;
  await assert.rejects(client().getSession('s'), (e: unknown) => e instanceof AcpstoreError && e.status === 503);
  assert.equal(seen.length, 4, 'attempts: 4 in all');
});
