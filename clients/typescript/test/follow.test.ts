// follow() across a SIGKILL and restart of the real server: appends before,
// during and after; the followed sequence has no duplicate and no gap and
// equals what the store lists. Also the truncated marker.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { followEvents } from '../src/follow.js';
import { anySignal } from '../src/client.js';
import { AcpstoreClient, type FollowItem } from '../src/index.js';
import { AcpstoreServer, waitFor } from './harness.js';

const servers: AcpstoreServer[] = [];
after(async () => {
  for (const s of servers) await s.stop();
});

test('follow resumes across a server SIGKILL and restart: no duplicate, no gap', async () => {
  const server = await AcpstoreServer.start();
  servers.push(server);
  const client = new AcpstoreClient({
    baseUrl: server.baseUrl,
    token: server.keys.writer,
    // Appends in flight when the server dies are retried under their
    // clientEventId until it is back.
    retry: { attempts: 100, baseDelayMs: 20, maxDelayMs: 200 },
  });
  await client.createSession({ id: 'f1' });
  for (let i = 1; i <= 40; ++i) await client.appendEvent('f1', { eventType: 'before', payload: { i } });

  const seen: FollowItem[] = [];
  let reconnects = 0;
  const ctl = new AbortController();
  const follower = (async () => {
    for await (const item of client.follow('f1', {
      signal: ctl.signal,
      baseDelayMs: 20,
      maxDelayMs: 200,
      onReconnect: () => ++reconnects,
    })) {
      seen.push(item);
    }
  })();
  await waitFor(() => seen.length >= 40, 10_000, '40 replayed events');

  // A writer that keeps appending through the crash.
  let stopWriting = false;
  let acknowledged = 0;
  const writer = (async () => {
    for (let i = 1; !stopWriting; ++i) {
      await client.appendEvent('f1', { eventType: 'during', payload: { i } });
      ++acknowledged;
    }
  })();
  await waitFor(() => acknowledged >= 20, 10_000, 'appends before the crash');
  await server.kill();
  await server.restart();
  await waitFor(() => acknowledged >= 60, 20_000, 'appends after the restart');
  stopWriting = true;
  await writer;
  for (let i = 1; i <= 40; ++i) await client.appendEvent('f1', { eventType: 'after', payload: { i } });

  const listed = [];
  for (let after = 0; ; ) {
    const page = await client.listEvents('f1', { after, limit: 1000 });
    listed.push(...page.events);
    if (page.events.length < 1000) break;
    after = page.lastSeq;
  }
  await waitFor(() => seen.length >= listed.length, 20_000, 'the follower to catch up');
  ctl.abort();
  await follower;

  assert.ok(reconnects >= 1, 'the follower reconnected');
  assert.ok(seen.every((x) => x.type === 'event'));
  const seqs = seen.map((x) => (x.type === 'event' ? x.event.eventSeq : -1));
  assert.deepEqual(
    seqs,
    listed.map((e) => e.eventSeq),
  );
  assert.deepEqual(
    seqs,
    Array.from({ length: seqs.length }, (_, i) => i + 1),
    'dense 1..n: no gap, no duplicate',
  );
  assert.ok(seqs.length >= 40 + 60 + 40);
  // Every acknowledged append is there exactly once (clientEventIds unique).
  const ids = listed.map((e) => e.clientEventId);
  assert.equal(new Set(ids).size, ids.length);
});

test('a resume point below the retained range yields a truncated item first', async () => {
  const server = await AcpstoreServer.start(['--max-events-per-session', '5']);
  servers.push(server);
  const client = new AcpstoreClient({ baseUrl: server.baseUrl, token: server.keys.writer });
  await client.createSession({ id: 'f2' });
  for (let i = 1; i <= 10; ++i) await client.appendEvent('f2', { eventType: 'x', payload: i });
  const ctl = new AbortController();
  const items: FollowItem[] = [];
  for await (const item of client.follow('f2', { after: 0, signal: ctl.signal })) {
    items.push(item);
    if (items.length === 6) ctl.abort();
  }
  assert.deepEqual(items[0], { type: 'truncated', firstSeq: 6 });
  assert.deepEqual(
    items.slice(1).map((x) => (x.type === 'event' ? x.event.eventSeq : -1)),
    [6, 7, 8, 9, 10],
  );
});

test('the truncated marker is yielded once, not again after each reconnect', async () => {
  // Every event of a closed session is dropped 1 s after it closed: each
  // connection from seq 0 starts with `truncated`, and no event follows to
  // move the resume point past the gap.
  const server = await AcpstoreServer.start(['--terminal-event-retention', '1s']);
  servers.push(server);
  const client = new AcpstoreClient({ baseUrl: server.baseUrl, token: server.keys.writer });
  await client.createSession({ id: 'f3' });
  for (let i = 1; i <= 3; ++i) await client.appendEvent('f3', { eventType: 'x', payload: i });
  await client.transitionSession('f3', 'close_requested');
  await client.transitionSession('f3', 'close_completed');
  await waitFor(async () => (await client.listEvents('f3')).firstSeq === 4, 15_000, 'retention to drop the events');

  const ctl = new AbortController();
  const items: FollowItem[] = [];
  const resumedAt: number[] = [];
  const follower = (async () => {
    for await (const item of client.follow('f3', {
      signal: ctl.signal,
      // Nothing arrives on this stream: reconnect every 300 ms.
      idleTimeoutMs: 300,
      baseDelayMs: 10,
      maxDelayMs: 20,
      onReconnect: (info) => resumedAt.push(info.lastSeq),
    })) {
      items.push(item);
    }
  })();
  await waitFor(() => resumedAt.length >= 3, 10_000, 'three reconnects');
  ctl.abort();
  await follower;
  assert.deepEqual(items, [{ type: 'truncated', firstSeq: 4 }]);
  assert.deepEqual(resumedAt.slice(0, 3), [3, 3, 3], 'each reconnect resumes after the gap');
});

test('follow of a missing session fails with 404, not an endless retry', async () => {
  const server = await AcpstoreServer.start();
  servers.push(server);
  const client = new AcpstoreClient({ baseUrl: server.baseUrl, token: server.keys.writer });
  await assert.rejects(
    (async () => {
      for await (const _ of client.follow('absent')) {
        // nothing
      }
    })(),
    (e: unknown) => (e as { status?: number }).status === 404,
  );
});

test('a consumer slower than idleTimeoutMs is not a silent server: no timeout, no reconnect', async () => {
  const server = await AcpstoreServer.start();
  servers.push(server);
  const client = new AcpstoreClient({ baseUrl: server.baseUrl, token: server.keys.writer });
  // Each item is held longer than idleTimeoutMs, and the next event is
  // appended meanwhile: the server was never silent, the consumer was busy.
  const consume = async (id: string, items: AsyncGenerator<FollowItem>, stop: AbortController): Promise<number[]> => {
    const seqs: number[] = [];
    for await (const item of items) {
      if (item.type === 'event') seqs.push(item.event.eventSeq);
      if (seqs.length === 4) {
        stop.abort();
        continue;
      }
      await client.appendEvent(id, { eventType: 'x', payload: seqs.length + 1 });
      await new Promise((r) => setTimeout(r, 400));
    }
    return seqs;
  };

  await client.createSession({ id: 'f-slow' });
  await client.appendEvent('f-slow', { eventType: 'x', payload: 1 });
  const ctl = new AbortController();
  const reconnects: unknown[] = [];
  const followed = client.follow('f-slow', {
    signal: ctl.signal,
    idleTimeoutMs: 150,
    onReconnect: ({ error }) => reconnects.push(error),
  });
  assert.deepEqual(await consume('f-slow', followed, ctl), [1, 2, 3, 4]);
  assert.deepEqual(reconnects, [], 'follow reconnected although data kept arriving');

  // The same without reconnecting (streamEvents' and streamTranscript's
  // code): a slow consumer does not get a timeout.
  await client.createSession({ id: 'f-slow-2' });
  await client.appendEvent('f-slow-2', { eventType: 'x', payload: 1 });
  const url = `${server.baseUrl}/v1/sessions/f-slow-2/events/stream`;
  const open = (lastSeq: number, signal: AbortSignal): Promise<Response> =>
    fetch(url, {
      headers: { authorization: `Bearer ${server.keys.writer}`, accept: 'text/event-stream', 'last-event-id': String(lastSeq) },
      signal,
    });
  const one = new AbortController();
  const streamed = followEvents(open, { reconnect: false, idleTimeoutMs: 150, signal: one.signal });
  assert.deepEqual(await consume('f-slow-2', streamed, one), [1, 2, 3, 4]);
});

test('a session deleted and made anew while follow reconnects: a recreated item, then the new events from seq 1', async () => {
  const server = await AcpstoreServer.start();
  servers.push(server);
  // The network between follow and the server: `down` refuses new streams,
  // and aborting a controller of `open` cuts its stream. Other requests pass.
  let down = false;
  const open: AbortController[] = [];
  const net: typeof fetch = (input, init) => {
    const url = input instanceof Request ? input.url : input instanceof URL ? input.href : input;
    if (url.includes('/events/stream')) {
      if (down) return Promise.reject(new TypeError('fetch failed'));
      const cut = new AbortController();
      open.push(cut);
      return fetch(input, { ...init, signal: anySignal([init?.signal ?? new AbortController().signal, cut.signal]).signal });
    }
    return fetch(input, init);
  };
  const client = new AcpstoreClient({ baseUrl: server.baseUrl, token: server.keys.writer, fetch: net });
  const label = (x: FollowItem): string =>
    x.type === 'event' ? `${x.event.eventType}#${x.event.eventSeq}` : x.type === 'truncated' ? `truncated<${x.firstSeq}` : 'recreated';

  for (const [id, fresh] of [
    ['f-again', 7], // the new session has more events than follow had seen
    ['f-again-short', 2], // and fewer
  ] as const) {
    await client.createSession({ id });
    await client.appendEvents(id, [1, 2, 3, 4, 5].map((i) => ({ eventType: 'old', payload: i })));
    const seen: FollowItem[] = [];
    const ctl = new AbortController();
    const follower = (async () => {
      for await (const item of client.follow(id, { signal: ctl.signal, baseDelayMs: 20, maxDelayMs: 50 })) seen.push(item);
    })();
    let again;
    try {
      await waitFor(() => seen.length === 5, 10_000, 'the old events');
      down = true;
      for (const c of open.splice(0)) c.abort();
      await client.transitionSession(id, 'close_requested');
      await client.transitionSession(id, 'close_completed');
      await client.deleteSession(id);
      again = await client.createSession({ id });
      await client.appendEvents(id, Array.from({ length: fresh }, (_, i) => ({ eventType: 'new', payload: i + 1 })));
      down = false;
      // Without the check, follow resumes after old#5 and skips new#1..5.
      await waitFor(() => seen.length >= 5 + 1 + fresh, 5_000, `the new events of ${id}`).catch(() => undefined);
    } finally {
      ctl.abort();
      await follower;
    }
    assert.deepEqual(seen.map(label), [
      ...[1, 2, 3, 4, 5].map((i) => `old#${i}`),
      'recreated',
      ...Array.from({ length: fresh }, (_, i) => `new#${i + 1}`),
    ]);
    assert.deepEqual(seen[5], { type: 'recreated', createdAt: again.createdAt });
  }
});
