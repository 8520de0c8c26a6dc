// Every method of AcpstoreClient against a real `acpstore serve`.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { inspect } from 'node:util';

import { AcpstoreClient, AcpstoreError, operations } from '../src/index.js';
import { AcpstoreServer, waitFor } from './harness.js';

let server: AcpstoreServer;
let writer: AcpstoreClient;

before(async () => {
  server = await AcpstoreServer.start();
  writer = new AcpstoreClient({ baseUrl: server.baseUrl, token: server.keys.writer });
});
after(async () => {
  await server?.stop();
});

async function rejectsWith(p: Promise<unknown>, status: number, code: string): Promise<AcpstoreError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof AcpstoreError, `expected AcpstoreError, got ${String(e)}`);
    assert.equal(e.status, status, e.message);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected ${status} ${code}`);
}

describe('sessions', () => {
  test('create, get, list, update, transition, delete', async () => {
    const s = await writer.createSession({ id: 's-crud', correlationId: 'c1', backendMetadata: { b: 1, a: 'x' } });
    assert.equal(s.id, 's-crud');
    assert.equal(s.tenantId, 't1');
    assert.equal(s.ownerKeyId, 'w1');
    assert.equal(s.status, 'initializing');
    assert.deepEqual(s.backendMetadata, { a: 'x', b: 1 });
    assert.deepEqual(s.events, { firstSeq: 1, lastSeq: 0, retained: 0, bytes: 0 });

    assert.equal((await writer.getSession('s-crud')).correlationId, 'c1');
    const page = await writer.listSessions({ status: ['initializing'], limit: 10 });
    assert.ok(page.sessions.some((x) => x.id === 's-crud'));
    assert.equal(page.nextCursor, null);

    const u = await writer.updateSession('s-crud', { claudeSessionId: 'cl-1' });
    assert.equal(u.claudeSessionId, 'cl-1');
    const cleared = await writer.updateSession('s-crud', { claudeSessionId: null });
    assert.equal(cleared.claudeSessionId, undefined);

    assert.equal((await writer.transitionSession('s-crud', 'agent_ready')).status, 'idle');
    await rejectsWith(writer.deleteSession('s-crud'), 409, 'conflict');
    await writer.transitionSession('s-crud', 'close_requested');
    const closed = await writer.transitionSession('s-crud', 'close_completed');
    assert.equal(closed.status, 'closed');
    assert.ok(closed.closedAt);
    await writer.deleteSession('s-crud');
    await rejectsWith(writer.getSession('s-crud'), 404, 'not_found');
  });

  test('updateSession with a target status takes the one legal transition', async () => {
    await writer.createSession({ id: 's-status' });
    const s = await writer.updateSession('s-status', { status: 'running' });
    assert.equal(s.status, 'running');
    const e = await rejectsWith(writer.updateSession('s-status', { status: 'closed' }), 409, 'invalid_transition');
    assert.equal(e.details['to'], 'closed');
    assert.equal(e.details['status'], 'running');
  });

  test('caller-chosen conversation and transcript ids', async () => {
    const s = await writer.createSession({ id: 's-ids', conversationId: 'conv-1', transcriptId: 'tr-1' });
    assert.equal(s.conversationId, 'conv-1');
    assert.equal(s.transcriptId, 'tr-1');
  });

  test('paging with a cursor and updatedAfter', async () => {
    for (let i = 0; i < 5; ++i) await writer.createSession({ id: `s-page-${i}` });
    const seen = new Set<string>();
    let cursor: string | undefined;
    do {
      const p = await writer.listSessions({ limit: 2, ...(cursor === undefined ? {} : { cursor }) });
      for (const s of p.sessions) seen.add(s.id);
      cursor = p.nextCursor ?? undefined;
    } while (cursor !== undefined);
    for (let i = 0; i < 5; ++i) assert.ok(seen.has(`s-page-${i}`));
    const future = await writer.listSessions({ updatedAfter: new Date(Date.now() + 60_000) });
    assert.deepEqual(future.sessions, []);
  });

  test('errors carry status, code, field and details', async () => {
    const e = await rejectsWith(writer.createSession({ id: '' }), 400, 'invalid_argument');
    assert.equal(e.field, 'id');
    await writer.createSession({ id: 's-dup' });
    await rejectsWith(writer.createSession({ id: 's-dup' }), 409, 'conflict');
    const t = await rejectsWith(writer.transitionSession('s-dup', 'close_completed'), 409, 'invalid_transition');
    assert.equal(t.details['status'], 'initializing');
    assert.equal(t.details['event'], 'close_completed');
    await rejectsWith(writer.getSession('nope'), 404, 'not_found');
  });

  test('roles: a reader may read, not write; another writer sees nothing', async () => {
    const reader = new AcpstoreClient({ baseUrl: server.baseUrl, token: server.keys.reader });
    await writer.createSession({ id: 's-roles' });
    assert.equal((await reader.getSession('s-roles')).id, 's-roles');
    await rejectsWith(reader.createSession({}), 403, 'forbidden');
    const other = new AcpstoreClient({ baseUrl: server.baseUrl, token: server.keys.writer2 });
    await rejectsWith(other.getSession('s-roles'), 404, 'not_found');
    const bad = new AcpstoreClient({ baseUrl: server.baseUrl, token: 'acp_nonsense' });
    await rejectsWith(bad.listSessions(), 401, 'unauthenticated');
  });
});

describe('events', () => {
  test('append one, append a batch, list, replay by clientEventId, expectedLastSeq', async () => {
    await writer.createSession({ id: 's-ev' });
    const one = await writer.appendEvent('s-ev', { eventType: 'message.delta', payload: { text: 'hi', z: 1, a: 2 } });
    assert.equal(one.created, true);
    assert.equal(one.value.eventSeq, 1);
    assert.equal(one.value.eventId, 't1:w1:s-ev:1');
    assert.ok(one.value.clientEventId, 'a clientEventId is generated');
    assert.deepEqual(Object.keys(one.value.payload as object), ['text', 'z', 'a']);

    const again = await writer.appendEvent('s-ev', {
      eventType: 'message.delta',
      payload: { text: 'hi', z: 1, a: 2 },
      clientEventId: one.value.clientEventId,
    });
    assert.equal(again.created, false);
    assert.equal(again.value.eventSeq, 1);

    const batch = await writer.appendEvents('s-ev', [
      { eventType: 'tool.started', payload: [1, 2] },
      { eventType: 'tool.completed', payload: null, occurredAt: '2026-01-02T03:04:05.678Z', payloadRef: 'ref-1' },
    ]);
    assert.equal(batch.created, true);
    assert.deepEqual(
      batch.value.map((e) => e.eventSeq),
      [2, 3],
    );
    assert.equal(batch.value[1]?.occurredAt, '2026-01-02T03:04:05.678Z');

    const page = await writer.listEvents('s-ev', { after: 1, limit: 10 });
    assert.deepEqual(
      page.events.map((e) => e.eventSeq),
      [2, 3],
    );
    assert.equal(page.firstSeq, 1);
    assert.equal(page.lastSeq, 3);
    assert.equal(page.truncated, false);

    const c = await rejectsWith(
      writer.appendEvent('s-ev', { eventType: 'x', payload: 1 }, { expectedLastSeq: 2 }),
      409,
      'seq_conflict',
    );
    assert.equal(c.details['lastSeq'], 3);
    const ok = await writer.appendEvent('s-ev', { eventType: 'x', payload: 1 }, { expectedLastSeq: 3 });
    assert.equal(ok.value.eventSeq, 4);
    const bad = await rejectsWith(writer.appendEvents('s-ev', [{ eventType: '', payload: 1 }]), 400, 'invalid_argument');
    assert.equal(bad.field, 'events[0].eventType');
  });

  test('getTranscript pages the folded conversation', async () => {
    await writer.createSession({ id: 's-tr' });
    await writer.appendEvents('s-tr', [
      { eventType: 'message.delta', payload: { acp: { raw: 'FRAME' }, text: 'Hel' } },
      { eventType: 'message.delta', payload: { acp: { raw: 'FRAME' }, text: 'lo' } },
      { eventType: 'tool.started', payload: { title: 'Read', toolCallId: 't1' } },
      { eventType: 'tool.completed', payload: { text: 'ok', toolCallId: 't1' } },
      { eventType: 'turn.completed', payload: { stopReason: 'end_turn' } },
    ]);
    const page = await writer.getTranscript('s-tr');
    assert.deepEqual(
      page.entries.map((e) => [e.index, e.kind]),
      [
        [1, 'assistant'],
        [2, 'tool'],
        [3, 'turn_end'],
      ],
    );
    assert.equal(page.entries[0]?.text, 'Hello');
    assert.equal(page.entries[1]?.result, 'ok');
    assert.equal(page.complete, true);
    assert.equal(page.endIndex, 4);
    const tools = await writer.getTranscript('s-tr', { after: 1, kinds: ['tool', 'turn_end'], limit: 1 });
    assert.deepEqual(
      tools.entries.map((e) => e.index),
      [2],
    );
    assert.equal(tools.next, 2);
    await rejectsWith(writer.getTranscript('nope'), 404, 'not_found');

    const ctl = new AbortController();
    const seen: Array<[number, number]> = [];
    for await (const e of writer.streamTranscript('s-tr', { after: 3, signal: ctl.signal })) {
      assert.notEqual(e.kind, 'truncated'); // nothing was dropped
      if (!('index' in e)) continue;
      seen.push([e.index, e.lastSeq]);
      if (seen.length === 1) {
        await writer.appendEvent('s-tr', { eventType: 'message.delta', payload: { text: 'More' } });
      }
      if (seen.length === 3) ctl.abort();
    }
    // After seq 3: the tool (completed at 4), the turn end (5), then the new
    // message entry (6).
    assert.deepEqual(seen, [
      [2, 4],
      [3, 5],
      [4, 6],
    ]);
  });

  test('streamTranscript asks for text appends and yields whole entries', async () => {
    await writer.createSession({ id: 's-app' });
    await writer.appendEvent('s-app', { eventType: 'message.delta', payload: { messageId: 'm', text: 'H\u00e9' } });
    // What the server sends, seen through the client's fetch.
    let url = '';
    let wire = '';
    const watched = new AcpstoreClient({
      baseUrl: server.baseUrl,
      token: server.keys.writer,
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        const href = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
        if (href.includes('/transcript/stream') && res.body !== null) {
          url = href;
          const [mine, theirs] = res.body.tee();
          void (async () => {
            const reader = mine.getReader();
            const decoder = new TextDecoder();
            for (let r = await reader.read(); !r.done; r = await reader.read()) {
              wire += decoder.decode(r.value, { stream: true });
            }
          })().catch(() => undefined);
          return new Response(theirs, { status: res.status, headers: res.headers });
        }
        return res;
      },
    });
    const pieces = ['llo', ' \u65e5\u672c', ' \ud83d\ude00', ' "q" \\ \n\t\u0001', '', ' end'];
    const ctl = new AbortController();
    const texts: string[] = [];
    let last: unknown;
    for await (const e of watched.streamTranscript('s-app', { signal: ctl.signal })) {
      if (!('index' in e)) continue;
      assert.equal(e.index, 1);
      assert.equal(e.kind, 'assistant');
      assert.equal(e.messageId, 'm');
      texts.push(e.text ?? '');
      last = e;
      const next = pieces[texts.length - 1];
      if (next === undefined) {
        ctl.abort();
      } else {
        await writer.appendEvent('s-app', { eventType: 'message.delta', payload: { messageId: 'm', text: next } });
      }
    }
    assert.ok(url.endsWith('/transcript/stream?textAppends=true'), url);
    const whole = 'H\u00e9' + pieces.join('');
    assert.equal(texts.at(-1), whole);
    assert.deepEqual(texts, [1, 2, 3, 4, 5, 6, 7].map((n) => 'H\u00e9' + pieces.slice(0, n - 1).join('')));
    // Byte for byte what getTranscript returns.
    const page = await writer.getTranscript('s-app');
    assert.deepEqual(last, page.entries[0]);
    // The entry went whole once; the rest as appends.
    assert.equal(wire.match(/^event: entry$/gm)?.length, 1, wire);
    assert.equal(wire.match(/^event: append$/gm)?.length, pieces.length, wire);
  });

  test('streamTranscript resumed on a session created again starts over, said', async () => {
    const id = 's-again';
    await writer.createSession({ id });
    await writer.appendEvents(id, [
      { eventType: 'message.delta', payload: { text: 'old' } },
      { eventType: 'turn.completed', payload: {} },
      { eventType: 'message.delta', payload: { text: 'older' } },
    ]);
    const first = await writer.getSession(id);
    const renew = async (events: number): Promise<string> => {
      await writer.transitionSession(id, 'close_requested');
      await writer.transitionSession(id, 'close_completed');
      await writer.deleteSession(id);
      await new Promise((r) => setTimeout(r, 5)); // another createdAt
      const again = await writer.createSession({ id });
      for (let i = 0; i < events; ++i) {
        await writer.appendEvent(id, { eventType: 'message.delta', payload: { messageId: `n${i}`, text: `new${i}` } });
      }
      return again.createdAt;
    };
    const collect = async (opts: { after: number; createdAt?: string }): Promise<unknown[]> => {
      const ctl = new AbortController();
      const items: unknown[] = [];
      for await (const x of writer.streamTranscript(id, { ...opts, signal: ctl.signal })) {
        items.push(x);
        if ('index' in x && x.text === 'new0') ctl.abort();
      }
      return items;
    };
    // Fewer events than the resume point: told by events.lastSeq alone.
    const born = await renew(1);
    const items = await collect({ after: 3 });
    assert.deepEqual(items[0], { kind: 'recreated', createdAt: born });
    assert.equal((items[1] as { text: string }).text, 'new0');
    // More events than the resume point: told by createdAt only.
    const reborn = await renew(5);
    const more = await collect({ after: 3, createdAt: first.createdAt });
    assert.deepEqual(more[0], { kind: 'recreated', createdAt: reborn });
    assert.equal((more[1] as { index: number }).index, 1);
    // The same life, resumed: no recreated item.
    const same = await collect({ after: 0, createdAt: reborn });
    assert.equal((same[0] as { index: number }).index, 1);
  });

  test('minimal appends answer only what the store assigned', async () => {
    await writer.createSession({ id: 's-min' });
    const one = await writer.appendEvent('s-min', { eventType: 'a', payload: { big: 'x'.repeat(1000) } }, { minimal: true });
    assert.equal(one.created, true);
    assert.deepEqual(Object.keys(one.value).sort(), ['eventId', 'eventSeq', 'ingestedAt']);
    assert.equal(one.value.eventSeq, 1);
    assert.equal(one.value.eventId, 't1:w1:s-min:1');
    const batch = await writer.appendEvents('s-min', [{ eventType: 'b', payload: 1 }], { minimal: true });
    assert.deepEqual(
      batch.value.map((e) => e.eventSeq),
      [2],
    );
    const full = await writer.listEvents('s-min');
    assert.equal(full.events[0]?.ingestedAt, one.value.ingestedAt);
  });

  test('streamEvents yields the retained events of one connection', async () => {
    await writer.createSession({ id: 's-stream' });
    await writer.appendEvents('s-stream', [
      { eventType: 'a', payload: 1 },
      { eventType: 'b', payload: 2 },
    ]);
    const ctl = new AbortController();
    const got: number[] = [];
    for await (const item of writer.streamEvents('s-stream', { after: 0, signal: ctl.signal })) {
      if (item.type === 'event') got.push(item.event.eventSeq);
      if (got.length === 2) ctl.abort();
    }
    assert.deepEqual(got, [1, 2]);
  });
});

describe('streams: one set of rules for streamEvents, follow and streamTranscript', () => {
  /** Items of a stream, or its error. */
  async function drain(it: AsyncGenerator<unknown>): Promise<unknown[]> {
    const items: unknown[] = [];
    for await (const x of it) items.push(x);
    return items;
  }

  test("aborting before the answer's head ends the iteration quietly", async () => {
    // A server that accepts the request and never answers.
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const c = new AcpstoreClient({ baseUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, token: 't' });
      for (const make of [
        (signal: AbortSignal) => c.streamEvents('s', { signal }),
        (signal: AbortSignal) => c.follow('s', { signal }),
        (signal: AbortSignal) => c.streamTranscript('s', { signal }),
      ]) {
        const ctl = new AbortController();
        setTimeout(() => ctl.abort(), 100);
        assert.deepEqual(await drain(make(ctl.signal)), []);
      }
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  test('no data for idleTimeoutMs is AcpstoreError timeout (follow reconnects with it)', async () => {
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const c = new AcpstoreClient({ baseUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, token: 't' });
      const ctl = new AbortController();
      const errors: unknown[] = [];
      const items = await drain(
        c.follow('s', {
          signal: ctl.signal,
          idleTimeoutMs: 100,
          baseDelayMs: 10,
          onReconnect: ({ error }) => {
            errors.push(error);
            if (errors.length === 2) ctl.abort();
          },
        }),
      );
      assert.deepEqual(items, []);
      for (const e of errors) {
        assert.ok(e instanceof AcpstoreError, String(e));
        assert.equal(e.code, 'timeout');
        assert.equal(e.status, 0);
      }
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  test('an append for an entry the transcript stream does not hold is a protocol error', async () => {
    const frames = [
      // An append before any entry.
      'event: append\ndata: {"index":1,"lastSeq":2,"lastAt":"2026-01-01T00:00:00.000Z","text":"x"}\n\n',
      // An append to another entry than the one held.
      'id: 1\nevent: entry\ndata: {"index":1,"kind":"assistant","firstSeq":1,"lastSeq":1,' +
        '"firstAt":"2026-01-01T00:00:00.000Z","lastAt":"2026-01-01T00:00:00.000Z","text":"a"}\n\n' +
        'id: 2\nevent: append\ndata: {"index":2,"lastSeq":2,"lastAt":"2026-01-01T00:00:00.000Z","text":"b"}\n\n',
      // An append without its text.
      'id: 1\nevent: entry\ndata: {"index":1,"kind":"thought","firstSeq":1,"lastSeq":1,' +
        '"firstAt":"2026-01-01T00:00:00.000Z","lastAt":"2026-01-01T00:00:00.000Z","text":"a"}\n\n' +
        'id: 2\nevent: append\ndata: {"index":1,"lastSeq":2,"lastAt":"2026-01-01T00:00:00.000Z"}\n\n',
      // A tool entry is never appended to.
      'id: 1\nevent: entry\ndata: {"index":1,"kind":"tool","firstSeq":1,"lastSeq":1,' +
        '"firstAt":"2026-01-01T00:00:00.000Z","lastAt":"2026-01-01T00:00:00.000Z","result":"a"}\n\n' +
        'id: 2\nevent: append\ndata: {"index":1,"lastSeq":2,"lastAt":"2026-01-01T00:00:00.000Z","text":"b"}\n\n',
    ];
    for (const body of frames) {
      const fake: Server = createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' }).end('retry: 2000\n\n' + body);
      });
      await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
      try {
        const c = new AcpstoreClient({ baseUrl: `http://127.0.0.1:${(fake.address() as AddressInfo).port}`, token: 't' });
        const e = await rejectsWith(drain(c.streamTranscript('s')), 200, 'bad_response');
        assert.match(e.message, /append frame/);
      } finally {
        fake.closeAllConnections();
        fake.close();
      }
    }
  });

  test('a refused connection is AcpstoreError network', async () => {
    const dead = new AcpstoreClient({ baseUrl: 'http://127.0.0.1:1', token: 't' });
    for (const it of [dead.streamEvents('s'), dead.streamTranscript('s')]) {
      await rejectsWith(drain(it), 0, 'network');
    }
  });

  test('a 501 (the server does not do this) ends follow at once: no reconnect', async () => {
    const refusing: Server = createServer((_req, res) => {
      res
        .writeHead(501, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { code: 'not_implemented', message: 'no', reason: 'transcripts_off' } }));
    });
    await new Promise<void>((r) => refusing.listen(0, '127.0.0.1', r));
    try {
      const c = new AcpstoreClient({ baseUrl: `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`, token: 't' });
      const ctl = new AbortController();
      let reconnects = 0;
      const followed = c.follow('s', {
        signal: ctl.signal,
        baseDelayMs: 10,
        onReconnect: () => {
          ++reconnects;
          ctl.abort(); // a reconnect would otherwise go on for ever
        },
      });
      await rejectsWith(drain(followed), 501, 'not_implemented');
      assert.equal(reconnects, 0);
    } finally {
      refusing.closeAllConnections();
      refusing.close();
    }
  });

  test('an error frame has the status of its code: a key revoked mid-stream is 401, and follow does not retry it', async () => {
    const admin = new AcpstoreClient({ baseUrl: server.baseUrl, token: server.keys.admin });
    const k = await admin.createKey({ role: 'writer', name: 'revoked-mid-stream' });
    const temp = new AcpstoreClient({ baseUrl: server.baseUrl, token: k.token });
    await temp.createSession({ id: 's-revoked-stream' });
    await temp.appendEvent('s-revoked-stream', { eventType: 'message.delta', payload: { text: 'hi' } });
    const seen = { events: 0, entries: 0, followed: 0 };
    let reconnects = 0;
    const streams = [
      (async () => {
        for await (const _ of temp.streamEvents('s-revoked-stream')) ++seen.events;
      })(),
      (async () => {
        for await (const _ of temp.streamTranscript('s-revoked-stream')) ++seen.entries;
      })(),
      (async () => {
        for await (const _ of temp.follow('s-revoked-stream', { baseDelayMs: 10, onReconnect: () => ++reconnects })) {
          ++seen.followed;
        }
      })(),
    ];
    await waitFor(() => seen.events === 1 && seen.entries === 1 && seen.followed === 1, 5000, 'the three streams to start');
    await admin.revokeKey(k.key.id);
    const outcomes = await Promise.allSettled(streams);
    assert.deepEqual(
      outcomes.map((o) => (o.status === 'rejected' ? [(o.reason as AcpstoreError).status, (o.reason as AcpstoreError).code] : 'ended')),
      [
        [401, 'unauthenticated'],
        [401, 'unauthenticated'],
        [401, 'unauthenticated'],
      ],
    );
    assert.equal(reconnects, 0, 'follow took the frame for a refusal, not a failure worth a reconnect');
  });
});

describe('actions', () => {
  test('enqueue, replay, get, list, lease, heartbeat, complete, fail, cancel', async () => {
    await writer.createSession({ id: 's-act' });
    const a = await writer.enqueueAction({ sessionId: 's-act', type: 'prompt', actionId: 'a1', idempotencyKey: 'k1', metadata: { n: 1 } });
    assert.equal(a.created, true);
    assert.equal(a.value.status, 'queued');
    const replay = await writer.enqueueAction({ sessionId: 's-act', type: 'prompt', actionId: 'a1-again', idempotencyKey: 'k1', metadata: { n: 1 } });
    assert.equal(replay.created, false);
    assert.equal(replay.value.actionId, 'a1');
    await rejectsWith(
      writer.enqueueAction({ sessionId: 's-act', type: 'approve', idempotencyKey: 'k1' }),
      409,
      'idempotency_conflict',
    );
    await rejectsWith(writer.enqueueAction({ sessionId: 's-act', type: 'prompt', actionId: 'a1' }), 409, 'conflict');
    assert.equal((await writer.getAction('a1')).type, 'prompt');
    assert.equal((await writer.listActions({ sessionId: 's-act', status: ['queued'] })).actions.length, 1);

    const leased = await writer.leaseAction({ leaseMs: 5000, sessionId: 's-act' });
    assert.ok(leased);
    assert.equal(leased.status, 'leased');
    assert.equal(leased.attemptCount, 1);
    const token = leased.leaseToken;
    assert.ok(token);
    assert.equal(await writer.leaseAction({ sessionId: 's-act' }), null);
    const hb = await writer.heartbeatAction('a1', token, 10_000);
    assert.equal(hb.leaseToken, token);
    await rejectsWith(writer.completeAction('a1', { leaseToken: 'wrong' }), 409, 'stale_lease');
    const done = await writer.completeAction('a1', { leaseToken: token, resultMetadata: { ok: true } });
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.resultMetadata, { ok: true });

    await writer.enqueueAction({ sessionId: 's-act', type: 'approve', actionId: 'a2' });
    const l2 = await writer.leaseAction({ types: ['approve'] });
    assert.ok(l2?.leaseToken);
    const failed = await writer.failAction('a2', { leaseToken: l2.leaseToken, errorMetadata: { why: 'x' } });
    assert.equal(failed.status, 'failed');

    await writer.enqueueAction({ sessionId: 's-act', type: 'close', actionId: 'a3' });
    const cancelled = await writer.cancelAction('a3', { errorMetadata: { by: 'test' } });
    assert.equal(cancelled.status, 'cancelled');
    await rejectsWith(writer.cancelAction('a3'), 409, 'invalid_transition');
  });
});

describe('ids in URLs', () => {
  // Every character a caller may put in an id reaches the server as that
  // character, in a path segment and in a query string (where acpstore
  // reads `+` as a plus and wants %20 for a space).
  const ids = ['my session 1', 'a+b', 'a&b=c', '100%', '#frag', 'a/b', 'q?x=1', 'ünï 😀', ' lead and trail '];

  test('paths and query strings carry space, +, &, =, %, #, /, ? and unicode', async () => {
    for (const [i, id] of ids.entries()) {
      const created = await writer.createSession({ id, correlationId: id });
      assert.equal(created.id, id);
      assert.equal((await writer.getSession(id)).correlationId, id, id);
      await writer.appendEvent(id, { eventType: 'x', payload: { id } });
      assert.deepEqual(
        (await writer.listEvents(id, { after: 0 })).events.map((e) => e.payload),
        [{ id }],
        id,
      );
      const actionId = `act ${i} ${id}`;
      await writer.enqueueAction({ sessionId: id, type: 'prompt', actionId, idempotencyKey: `key ${id}` });
      assert.equal((await writer.getAction(actionId)).sessionId, id, id);
      const listed = await writer.listActions({ sessionId: id });
      assert.deepEqual(
        listed.actions.map((a) => a.actionId),
        [actionId],
        `listActions({sessionId: ${JSON.stringify(id)}})`,
      );
    }
  });

  test('"." and ".." are refused before any request: fetch would drop them from the path', async () => {
    let fetched = 0;
    const counting = new AcpstoreClient({
      baseUrl: server.baseUrl,
      token: server.keys.writer,
      fetch: (u, i) => {
        ++fetched;
        return fetch(u, i);
      },
    });
    // The server refuses to create them (SPEC 2.5), but a store may hold one
    // from before that rule; "/v1/sessions/./events" would read session "events".
    for (const id of ['.', '..']) {
      await assert.rejects(
        writer.createSession({ id }),
        (e: unknown) => e instanceof AcpstoreError && e.status === 400 && e.field === 'id',
      );
    }
    await writer.createSession({ id: 'events' });
    await writer.appendEvent('events', { eventType: 'not-mine', payload: 1 });
    // Iterates; an iterator that neither throws nor ends (reconnects
    // forever) is aborted after 2 s, and then fails the assertion.
    const drain = async (make: (signal: AbortSignal) => AsyncGenerator<unknown>): Promise<void> => {
      const ctl = new AbortController();
      const deadline = setTimeout(() => ctl.abort(), 2000);
      try {
        for await (const _ of make(ctl.signal)) assert.fail('nothing may be yielded');
      } finally {
        clearTimeout(deadline);
      }
      assert.fail('ended without an error');
    };
    for (const id of ['.', '..']) {
      const refused = (e: unknown): boolean => e instanceof TypeError && e.message.includes(`"${id}"`);
      await assert.rejects(counting.getSession(id), refused);
      await assert.rejects(counting.listEvents(id), refused);
      await assert.rejects(counting.appendEvent(id, { eventType: 'x', payload: 1 }), refused);
      await assert.rejects(counting.getPause(id), refused);
      await assert.rejects(counting.getAction(id), refused);
      await assert.rejects(drain((signal) => counting.follow(id, { signal, baseDelayMs: 10 })), refused);
      await assert.rejects(drain((signal) => counting.streamEvents(id, { signal })), refused);
      await assert.rejects(drain((signal) => counting.streamTranscript(id, { signal })), refused);
    }
    // An empty id fails follow() too, instead of reconnecting forever.
    await assert.rejects(drain((signal) => counting.follow('', { signal, baseDelayMs: 10 })), TypeError);
    assert.equal(fetched, 0);
    assert.equal((await writer.listEvents('events')).events.length, 1);
    // Dots that are not a whole segment are ordinary characters.
    for (const id of ['.a', 'a.', '...', '.%2E', '%2E']) {
      await writer.createSession({ id });
      assert.equal((await writer.getSession(id)).id, id);
      assert.deepEqual((await writer.listEvents(id)).events, []);
    }
  });

  test('a timestamp with a + offset in updatedAfter', async () => {
    const page = await writer.listSessions({ updatedAfter: '2000-01-01T02:00:00.000+02:00', limit: 1 });
    assert.equal(page.sessions.length, 1);
  });
});

describe('pauses', () => {
  test('pause, intervene, complete, resume, getPause', async () => {
    await writer.createSession({ id: 's-pause' });
    await writer.transitionSession('s-pause', 'run_started');
    const p = await writer.pauseSession('s-pause', { reason: 'look', requestedBy: 'alice', idempotencyKey: 'pk' });
    assert.equal(p.created, true);
    assert.equal(p.value.session.status, 'paused');
    const replay = await writer.pauseSession('s-pause', { reason: 'look', requestedBy: 'alice', idempotencyKey: 'pk' });
    assert.equal(replay.created, false);
    await rejectsWith(writer.pauseSession('s-pause', { reason: 'again', requestedBy: 'bob' }), 409, 'already_paused');
    const started = await writer.startIntervention('s-pause', { interventionBy: 'bob', interventionId: 'iv1' });
    assert.equal(started.pause.status, 'intervening');
    assert.equal(started.session.status, 'intervening');
    const completed = await writer.completeIntervention('s-pause', { interventionId: 'iv1', completedBy: 'bob', guidance: 'go' });
    assert.equal(completed.pause.status, 'paused');
    assert.equal(completed.pause.guidance, 'go');
    const resumed = await writer.resumeSession('s-pause', { resumedBy: 'alice', resumeId: 'r1', metadata: { m: 1 } });
    assert.equal(resumed.pause.status, 'resumed');
    assert.equal(resumed.session.status, 'running');
    assert.equal((await writer.getPause('s-pause')).status, 'resumed');
    await rejectsWith(writer.resumeSession('s-pause', { resumedBy: 'alice', resumeId: 'r2' }), 409, 'not_paused');
  });
});

describe('browser sign-in', () => {
  test('createBrowserSession returns a cookie and a CSRF token; deleteBrowserSession needs both', async () => {
    const b = await writer.createBrowserSession();
    assert.match(b.cookie, /^__Host-acpstore_session=[0-9a-f]{64}$/);
    assert.ok(b.csrfToken.length >= 32);
    assert.equal(b.key.role, 'writer');
    await rejectsWith(writer.deleteBrowserSession({ cookie: b.cookie, csrfToken: 'wrong' }), 403, 'csrf_rejected');
    await writer.deleteBrowserSession(b);
    // Signed out: the cookie no longer names a session.
    await rejectsWith(writer.deleteBrowserSession(b), 401, 'unauthenticated');
  });
});

describe('keys, stats and operations', () => {
  test('createKey, revokeKey, getStats, healthz, readyz, metrics', async () => {
    const admin = new AcpstoreClient({ baseUrl: server.baseUrl, token: server.keys.admin });
    const k = await admin.createKey({ role: 'writer', name: 'temp' });
    assert.equal(k.key.tenantId, 't1');
    const temp = new AcpstoreClient({ baseUrl: server.baseUrl, token: k.token });
    await temp.listSessions();
    await admin.revokeKey(k.key.id);
    // A running server honours a revoked key within 2 s (SPEC §6).
    const deadline = Date.now() + 5000;
    for (;;) {
      try {
        await temp.listSessions();
      } catch (e) {
        assert.ok(e instanceof AcpstoreError && e.status === 401);
        break;
      }
      assert.ok(Date.now() < deadline, 'revoked key still accepted');
      await new Promise((r) => setTimeout(r, 50));
    }
    await rejectsWith(writer.getStats(), 403, 'forbidden');
    const stats = await admin.getStats();
    assert.ok(stats.store !== undefined);
    assert.equal((await writer.healthz()).status, 'ok');
    const ready = await writer.readyz();
    assert.equal(ready.ready, true);
    assert.match(await writer.metrics(), /acpstore_http_requests_total/);
  });

  test('service keys act in the scope they name', async () => {
    const svc = new AcpstoreClient({ baseUrl: server.baseUrl, token: server.keys.service });
    const asW1 = svc.withScope({ tenantId: 't1', ownerKeyId: 'w1' });
    const s = await asW1.createSession({ id: 's-svc' });
    assert.equal(s.ownerKeyId, 'w1');
    assert.equal((await writer.getSession('s-svc')).id, 's-svc');
    await rejectsWith(svc.withScope({ tenantId: 't1', ownerKeyId: 'someone' }).getSession('s-svc'), 404, 'not_found');
    const e = await rejectsWith(svc.listSessions(), 400, 'invalid_argument');
    assert.equal(e.field, 'X-Acpstore-Scope');
    const limited = new AcpstoreClient({ baseUrl: server.baseUrl, token: server.keys.serviceT1 });
    await rejectsWith(limited.withScope({ tenantId: 't2', ownerKeyId: 'x' }).listSessions(), 404, 'not_found');
    const odd = svc.withScope({ tenantId: 't/2', ownerKeyId: 'o w:n' });
    assert.equal((await odd.createSession({ id: 'x' })).tenantId, 't/2');
  });

  test('sequential calls reuse one keep-alive connection', async () => {
    const connections = async (): Promise<number> => {
      const m = /^acpstore_http_connections_total (\d+)/m.exec(await writer.metrics());
      assert.ok(m?.[1] !== undefined, 'acpstore_http_connections_total is exported');
      return Number(m[1]);
    };
    const before = await connections();
    for (let i = 0; i < 50; ++i) await writer.listSessions({ limit: 1 });
    const after = await connections();
    assert.ok(after - before <= 2, `50 calls opened ${after - before} connections`);
  });

  test('transport failures are AcpstoreError with status 0', async () => {
    const dead = new AcpstoreClient({ baseUrl: 'http://127.0.0.1:1', token: 't', retry: { attempts: 2, baseDelayMs: 1 } });
    const e = await rejectsWith(dead.listSessions(), 0, 'network');
    assert.equal(e.isTransport, true);
  });

  test('every operation of docs/openapi.yaml is a method', () => {
    for (const op of Object.keys(operations)) {
      const m = (writer as unknown as Record<string, unknown>)[op === 'streamEvents' ? 'streamEvents' : op];
      assert.equal(typeof m, 'function', `no method for ${op}`);
    }
  });
});

describe('the token', () => {
  // docs/http_api.md: a token is never echoed or logged. fetch puts an
  // invalid header value into its error message, quotes and all.
  test('a token with a line break, NUL, space or non-ASCII character inside is refused at construction, not echoed', () => {
    const secret = 'acp_0123456789abcdef_feedface';
    for (const token of [`${secret.slice(0, 10)}\n${secret.slice(10)}`, `${secret}\u0000`, `${secret}\u2019`, `acp ${secret}`, `${secret}\r\nX-Injected: 1`]) {
      assert.throws(
        () => new AcpstoreClient({ baseUrl: 'http://127.0.0.1:1', token }),
        (e: unknown) => {
          assert.ok(e instanceof TypeError, String(e));
          assert.match(e.message, /token must be printable ASCII/);
          assert.ok(!inspect(e).includes(secret.slice(0, 10)), `the error shows the token: ${inspect(e)}`);
          return true;
        },
      );
    }
    for (const token of ['', ' \n']) assert.throws(() => new AcpstoreClient({ baseUrl: 'http://127.0.0.1:1', token }), /must not be empty/);
  });

  test('a token read from a file with its line break still works: blanks around it are not part of it', async () => {
    const c = new AcpstoreClient({ baseUrl: server.baseUrl, token: `  ${server.keys.writer}\n` });
    assert.ok(Array.isArray((await c.listSessions({ limit: 1 })).sessions));
  });

  test('no error built from a failed fetch holds the token, neither its message nor its causes', async () => {
    const token = server.keys.writer;
    // A fetch whose error quotes the request's header, as undici's does for
    // an invalid value, with the header again in its cause.
    const leaky: typeof fetch = (_input, init) => {
      const auth = (init?.headers as Record<string, string>)['authorization'] ?? '';
      return Promise.reject(
        new TypeError(`Headers.append: "${auth}" is an invalid header value.`, { cause: new Error(`while sending ${auth}`) }),
      );
    };
    const c = new AcpstoreClient({ baseUrl: server.baseUrl, token, fetch: leaky, retry: { attempts: 2, baseDelayMs: 1 } });
    const failures: unknown[] = [];
    for (const call of [
      () => c.getSession('s'),
      async () => {
        for await (const _ of c.streamEvents('s')) assert.fail('no item');
      },
    ]) {
      try {
        await call();
        assert.fail('expected a failure');
      } catch (e) {
        failures.push(e);
      }
    }
    for (const e of failures) {
      assert.ok(e instanceof AcpstoreError, String(e));
      assert.equal(e.code, 'network');
      const shown = inspect(e, { depth: 20, showHidden: true });
      assert.ok(!shown.includes(token), `the token is in the error: ${shown}`);
      assert.match(shown, /Headers\.append: "Bearer \[token\]" is an invalid header value/);
      assert.match(shown, /while sending Bearer \[token\]/);
    }
  });
});

describe('transcripts off', () => {
  // A server started with --transcript-max-bytes 0 answers both transcript
  // routes 501 not_implemented, reason "transcripts_off" (decision 0036).
  // It was a 503 unavailable, which the client retried with backoff until
  // it gave up with a misleading "unavailable": now one request, one
  // rejection. The backoff is made long (5 s a retry) so a retry would show
  // in the time taken as well as in the count.
  test('getTranscript and streamTranscript reject at once with not_implemented: one request each', async () => {
    const off = await AcpstoreServer.start(['--transcript-max-bytes', '0']);
    try {
      const requests: string[] = [];
      const counting: typeof fetch = (input, init) => {
        requests.push(String(input instanceof Request ? input.url : input));
        return fetch(input, init);
      };
      const c = new AcpstoreClient({
        baseUrl: off.baseUrl,
        token: off.keys.writer,
        fetch: counting,
        retry: { attempts: 4, baseDelayMs: 5000, maxDelayMs: 5000 },
      });
      await c.createSession({ id: 's-off' });
      await c.appendEvent('s-off', { eventType: 'message.delta', payload: { text: 'hi' } });

      requests.length = 0;
      const started = Date.now();
      const e = await rejectsWith(c.getTranscript('s-off'), 501, 'not_implemented');
      assert.equal(e.details['reason'], 'transcripts_off');
      assert.match(e.message, /transcripts are turned off on this server \(--transcript-max-bytes 0\)/);
      assert.equal(requests.length, 1, `getTranscript asked ${requests.length} times`);

      requests.length = 0;
      const s = await rejectsWith(
        (async () => {
          for await (const _ of c.streamTranscript('s-off')) assert.fail('no entry on a server without transcripts');
        })(),
        501,
        'not_implemented',
      );
      assert.equal(s.details['reason'], 'transcripts_off');
      assert.equal(requests.length, 1, `streamTranscript asked ${requests.length} times`);
      assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms: a retry waited out its backoff`);

      // An unknown session is still 404, and the events are served as ever.
      await rejectsWith(c.getTranscript('nope'), 404, 'not_found');
      assert.equal((await c.listEvents('s-off')).events.length, 1);
    } finally {
      await off.stop();
    }
  });
});
