// Answers that are not what acpstore sends: another media type, JSON that
// is not an object, malformed or oversized SSE frames, bodies past
// maxResponseBytes. Each is an AcpstoreError `bad_response`, asked once (not
// retried, not reconnected), never a value of the wrong type, a raw
// SyntaxError or a silent end. A fake server on 127.0.0.1 plays the server:
// the first path segment of the client's baseUrl picks its answer.

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';

import { AcpstoreClient, AcpstoreError, DEFAULT_MAX_RESPONSE_BYTES, type FollowItem } from '../src/index.js';

const MiB = 1024 * 1024;
const sse = { 'content-type': 'text/event-stream; charset=utf-8' };
const json = { 'content-type': 'application/json' };

const answers: Record<string, (res: ServerResponse) => void> = {
  'json-string': (res) => res.writeHead(200, json).end('"hello"'),
  'json-array': (res) => res.writeHead(200, json).end('[]'),
  'json-null': (res) => res.writeHead(200, json).end('null'),
  html: (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>'),
  untyped: (res) => res.writeHead(200).end('{"id":"a"}'),
  'json-ok': (res) => res.writeHead(200, json).end('{"id":"a"}'),
  'html-502': (res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<html>bad gateway</html>'),
  // 2 MiB of JSON: one object, streamed (chunked) or with its length.
  'big-chunked': (res) => {
    res.writeHead(200, json);
    res.write('{"pad":"');
    for (let i = 0; i < 2; ++i) res.write('x'.repeat(MiB));
    res.end('"}');
  },
  'big-length': (res) => {
    const body = `{"pad":"${'x'.repeat(2 * MiB)}"}`;
    res.writeHead(200, { ...json, 'content-length': String(Buffer.byteLength(body)) }).end(body);
  },
  'sse-bad-json': (res) => res.writeHead(200, sse).end('retry: 2000\n\nid: 1\ndata: {not json\n\n'),
  'sse-bad-seq': (res) => res.writeHead(200, sse).end('retry: 2000\n\nid: 1\ndata: {"eventSeq":"abc"}\n\n'),
  'sse-bad-truncated': (res) => res.writeHead(200, sse).end('event: truncated\ndata: {"firstSeq":null}\n\n'),
  'sse-bad-transcript-truncated': (res) => res.writeHead(200, sse).end('event: truncated\ndata: {"firstIndex":0}\n\n'),
  'sse-transcript-truncated': (res) =>
    res
      .writeHead(200, sse)
      .end(
        'retry: 2000\n\nevent: truncated\ndata: {"firstIndex":16}\n\n' +
          'id: 16\nevent: entry\ndata: {"index":16,"kind":"assistant","lastSeq":16}\n\n',
      ),
  'sse-bad-entry': (res) => res.writeHead(200, sse).end('id: 1\nevent: entry\ndata: [1]\n\n'),
  'sse-bad-error': (res) => res.writeHead(200, sse).end('event: error\ndata: oops\n\n'),
  // One frame of 2 MiB that never ends.
  'sse-huge-frame': (res) => {
    res.writeHead(200, sse);
    res.write('id: 1\ndata: {"eventSeq":1,"pad":"');
    for (let i = 0; i < 2; ++i) res.write('x'.repeat(MiB));
  },
  'sse-ok': (res) => res.writeHead(200, sse).end('retry: 2000\n\nid: 1\ndata: {"eventSeq":1}\n\n'),
  // readyz as acpstore answers it with a full disk (docs/http_api.md).
  'not-ready': (res) =>
    res
      .writeHead(503, { ...json, 'retry-after': '1' })
      .end('{"status":"not_ready","code":"insufficient_storage","reason":"the disk is full"}'),
  ready: (res) => res.writeHead(200, json).end('{"status":"ready","snapshots":{"failed":2,"reason":"EIO"}}'),
};

let fake: Server;
let port = 0;
const hits = new Map<string, number>();

before(async () => {
  fake = createServer((req: IncomingMessage, res: ServerResponse) => {
    const mode = (req.url ?? '').split('/')[1] ?? '';
    // follow reads the session after a stream's head, to tell one life of
    // it from the next: the stream modes answer that read as acpstore would.
    if (mode.startsWith('sse-') && /^\/[^/]+\/v1\/sessions\/[^/]+$/.test(req.url ?? '')) {
      const events = { firstSeq: 1, lastSeq: 0, retained: 0, bytes: 0 };
      res.writeHead(200, json).end(JSON.stringify({ id: 'a', createdAt: '2026-01-01T00:00:00.000Z', events }));
      return;
    }
    hits.set(mode, (hits.get(mode) ?? 0) + 1);
    const answer = answers[mode];
    if (answer === undefined) res.writeHead(500).end();
    else answer(res);
  });
  await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
  port = (fake.address() as AddressInfo).port;
});
after(async () => {
  fake.closeAllConnections();
  await new Promise((r) => fake.close(r));
});

function client(mode: string, maxResponseBytes?: number): AcpstoreClient {
  return new AcpstoreClient({
    baseUrl: `http://127.0.0.1:${port}/${mode}`,
    token: 't',
    retry: { attempts: 4, baseDelayMs: 1 },
    ...(maxResponseBytes === undefined ? {} : { maxResponseBytes }),
  });
}

async function badResponse(p: Promise<unknown>, status: number, pattern: RegExp): Promise<AcpstoreError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof AcpstoreError, `expected AcpstoreError, got ${String(e)}`);
    assert.equal(e.code, 'bad_response', e.message);
    assert.equal(e.status, status, e.message);
    assert.match(e.message, pattern);
    return e;
  }
  assert.fail('expected bad_response');
}

/** Every item, or the error; aborted (and then failing) after 2 s. */
async function drain(make: (signal: AbortSignal) => AsyncGenerator<unknown>): Promise<unknown[]> {
  const ctl = new AbortController();
  const t = setTimeout(() => ctl.abort(), 2000);
  const items: unknown[] = [];
  try {
    for await (const x of make(ctl.signal)) items.push(x);
  } finally {
    clearTimeout(t);
  }
  assert.ok(!ctl.signal.aborted, `still running after 2 s (${items.length} items)`);
  return items;
}

describe('JSON answers', () => {
  test('an answer that is not a JSON object is bad_response, asked once', async () => {
    for (const mode of ['json-string', 'json-array', 'json-null']) {
      await badResponse(client(mode).getSession('a'), 200, /not a JSON object/);
      assert.equal(hits.get(mode), 1, mode);
    }
  });

  test('an answer of another media type is bad_response, asked once', async () => {
    await badResponse(client('html').getSession('a'), 200, /text\/html, not application\/json/);
    await badResponse(client('untyped').listSessions(), 200, /untyped, not application\/json/);
    assert.equal(hits.get('html'), 1);
    assert.deepEqual(await client('json-ok').getSession('a'), { id: 'a' });
  });

  test('an error answer that is not acpstore\'s keeps its status', async () => {
    const e = await badResponse(client('html-502').getSession('a'), 502, /without an acpstore error body/);
    assert.equal(e.isTransport, false);
  });

  test('an answer past maxResponseBytes is refused unread, asked once; the default is 256 MiB', async () => {
    assert.equal(DEFAULT_MAX_RESPONSE_BYTES, 256 * MiB);
    for (const mode of ['big-chunked', 'big-length']) {
      const e = await badResponse(client(mode, MiB).getSession('a'), 200, /larger than maxResponseBytes \(1048576 bytes\)/);
      assert.equal(e.details['limit'], MiB);
      assert.equal(hits.get(mode), 1, mode);
      const whole = (await client(mode, 3 * MiB).getSession('a')) as unknown as { pad: string };
      assert.equal(whole.pad.length, 2 * MiB);
    }
    assert.throws(() => client('json-ok', 0), TypeError);
  });
});

describe('readyz', () => {
  // The 503 body has its own schema in docs/openapi.yaml; code that reads
  // it must compile (this test does not, when body is typed as the 200's).
  test('the 503 body is typed as acpstore sends it: status not_ready, code and reason', async () => {
    const r = await client('not-ready').readyz();
    assert.equal(r.ready, false);
    if (!r.ready) {
      const status: 'not_ready' | undefined = r.body.status;
      const code: string | undefined = r.body.code;
      const reason: string | undefined = r.body.reason;
      assert.deepEqual({ status, code, reason }, { status: 'not_ready', code: 'insufficient_storage', reason: 'the disk is full' });
    }
    assert.equal(hits.get('not-ready'), 1, 'readyz is asked once');
    const ok = await client('ready').readyz();
    assert.equal(ok.ready, true);
    if (ok.ready) {
      const status: 'ready' | undefined = ok.body.status;
      assert.equal(status, 'ready');
      assert.equal(ok.body.snapshots?.failed, 2);
    }
  });
});

describe('event and transcript streams', () => {
  test('a 200 that is not text/event-stream fails follow, streamEvents and streamTranscript at once', async () => {
    hits.set('html', 0);
    for (const make of [
      (c: AcpstoreClient, signal: AbortSignal) => c.follow('a', { signal, baseDelayMs: 1, maxDelayMs: 5 }),
      (c: AcpstoreClient, signal: AbortSignal) => c.streamEvents('a', { signal }),
      (c: AcpstoreClient, signal: AbortSignal) => c.streamTranscript('a', { signal }),
    ]) {
      await badResponse(drain((signal) => make(client('html'), signal)), 200, /text\/html, not text\/event-stream/);
    }
    assert.equal(hits.get('html'), 3, 'one request each: no reconnect');
  });

  test('a malformed frame fails the stream (follow does not reconnect), with AcpstoreError, not SyntaxError', async () => {
    const cases: Array<[string, RegExp]> = [
      ['sse-bad-json', /event frame: not JSON/],
      ['sse-bad-seq', /eventSeq is not an integer/],
      ['sse-bad-truncated', /firstSeq is not an integer/],
      ['sse-bad-error', /without an acpstore error body/],
    ];
    for (const [mode, pattern] of cases) {
      let reconnects = 0;
      await badResponse(
        drain((signal) => client(mode).follow('a', { signal, baseDelayMs: 1, maxDelayMs: 5, onReconnect: () => ++reconnects })),
        200,
        pattern,
      );
      assert.equal(reconnects, 0, mode);
      await badResponse(drain((signal) => client(mode).streamEvents('a', { signal })), 200, pattern);
    }
    await badResponse(drain((signal) => client('sse-bad-entry').streamTranscript('a', { signal })), 200, /entry frame: not a JSON object/);
    await badResponse(
      drain((signal) => client('sse-bad-transcript-truncated').streamTranscript('a', { signal })),
      200,
      /truncated frame: firstIndex is not an integer >= 1/,
    );
    const ok = (await drain((signal) => client('sse-ok').streamEvents('a', { signal }))) as FollowItem[];
    assert.deepEqual(ok, [{ type: 'event', event: { eventSeq: 1 } }]);
  });

  // Found by a probe: the cap's gap was never said on the transcript stream.
  test('streamTranscript yields the cap\'s truncated marker before the entries', async () => {
    const items = await drain((signal) => client('sse-transcript-truncated').streamTranscript('a', { signal }));
    assert.deepEqual(items, [
      { kind: 'truncated', firstIndex: 16 },
      { index: 16, kind: 'assistant', lastSeq: 16 },
    ]);
  });

  test('a frame past maxResponseBytes fails the stream', async () => {
    let reconnects = 0;
    await badResponse(
      drain((signal) => client('sse-huge-frame', MiB).follow('a', { signal, baseDelayMs: 1, onReconnect: () => ++reconnects })),
      200,
      /SSE frame is larger than maxResponseBytes/,
    );
    assert.equal(reconnects, 0);
  });

  test('follow still reconnects after a 502 from a proxy', async () => {
    let reconnects = 0;
    const ctl = new AbortController();
    for await (const _ of client('html-502').follow('a', {
      signal: ctl.signal,
      baseDelayMs: 1,
      maxDelayMs: 5,
      onReconnect: ({ error }) => {
        assert.equal((error as AcpstoreError).status, 502);
        if (++reconnects === 3) ctl.abort();
      },
    })) {
      assert.fail('no item');
    }
    assert.equal(reconnects, 3);
  });
});

describe('SSE line ends (WHATWG: CR, LF and CRLF)', () => {
  const ev = (n: number): string => JSON.stringify({ eventSeq: n, eventType: 'x', payload: n });
  /** A client whose fetch answers the stream with these chunks, as the network cut them. */
  const chunked = (chunks: string[]): AcpstoreClient =>
    new AcpstoreClient({
      baseUrl: `http://127.0.0.1:${port}`,
      token: 't',
      fetch: () =>
        Promise.resolve(
          new Response(
            new ReadableStream<Uint8Array>({
              start(c) {
                for (const s of chunks) c.enqueue(new TextEncoder().encode(s));
                c.close();
              },
            }),
            { status: 200, headers: sse },
          ),
        ),
    });
  const seqs = async (chunks: string[]): Promise<number[]> => {
    const got: number[] = [];
    for await (const item of chunked(chunks).streamEvents('s')) got.push(item.type === 'event' ? item.event.eventSeq : -1);
    return got;
  };

  test('a CRLF split between two chunks is one line end, not a blank line that drops the frame', async () => {
    // As a proxy may rewrite them, cut by the network between "\r" and "\n".
    assert.deepEqual(
      await seqs(['retry: 2000\r\n\r\n', `id: 1\r\ndata: ${ev(1)}\r\n\r\n`, 'id: 2\r', `\ndata: ${ev(2)}\r\n\r\n`, `id: 3\r\ndata: ${ev(3)}\r\n\r\n`]),
      [1, 2, 3],
    );
  });

  test('the same frames with CRLF, CR or LF line ends, cut at every position, give the same events', async () => {
    const frames = `retry: 2000\n\n: ping\n\nid: 1\ndata: ${ev(1)}\n\nevent: truncated\ndata: {"firstSeq":3}\n\nid: 3\ndata: ${ev(3)}\n\n`;
    for (const eol of ['\n', '\r', '\r\n']) {
      const text = frames.replaceAll('\n', eol);
      for (let cut = 0; cut <= text.length; ++cut) {
        assert.deepEqual(await seqs([text.slice(0, cut), text.slice(cut)]), [1, -1, 3], `${JSON.stringify(eol)} cut at ${cut}`);
      }
      // One character per chunk.
      assert.deepEqual(await seqs([...text]), [1, -1, 3], `${JSON.stringify(eol)} a character per chunk`);
    }
  });
});
