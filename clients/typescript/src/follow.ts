// follow(): an async iterator over a session's SSE stream
// (GET /v1/sessions/{id}/events/stream) that survives dropped connections
// and server restarts.
//
// Exactly-once delivery rests on two facts: the server replays every
// retained event after the Last-Event-ID it is sent, and event sequence
// numbers are dense and never reused within one life of a session. So the
// iterator remembers the seq of the last event it yielded, reconnects with
// that as Last-Event-ID, and drops anything at or below it. A `truncated`
// frame (retention dropped events the reader never saw) is yielded as an
// item, never hidden; so is a new life of the session (deleted and created
// again, its seqs restarted at 1: Lives below), after which it starts over.

import { intField, isProtocolError, mediaType, parseObject, protocolError, readText } from './answer.js';
import { AcpstoreError, errorFromBody, errorFromFrame } from './errors.js';
import type { Event } from './openapi.gen.js';
import { backoffMs } from './client.js';

export type FollowItem =
  | { type: 'event'; event: Event }
  /** Events after the resume point and before firstSeq were dropped by retention. */
  | { type: 'truncated'; firstSeq: number }
  /**
   * follow only: the session was deleted and created anew with the same id
   * while follow reconnected (`createdAt`: the new session's). The events
   * yielded before are gone; the items after it are the new session's, from
   * its first retained event (seq 1 unless retention dropped some).
   */
  | { type: 'recreated'; createdAt: string };

export interface FollowOptions {
  /** Start after this seq (default 0: from the oldest retained event). */
  after?: number;
  /** Aborting ends the iteration (the for-await loop just finishes). */
  signal?: AbortSignal;
  /** First reconnect delay; doubles up to maxDelayMs. Default 100 ms. */
  baseDelayMs?: number;
  /** Default 5000 ms. */
  maxDelayMs?: number;
  /**
   * Reconnect when nothing (not even a `: ping`) arrived for this long
   * while the iterator was reading: the time the consumer holds an item
   * does not count. Default 45000 ms (three server heartbeats).
   */
  idleTimeoutMs?: number;
  /** Called before each reconnect, for logs and tests. */
  onReconnect?: (info: { attempt: number; lastSeq: number; error: unknown }) => void;
}

export interface InternalOptions extends FollowOptions {
  reconnect?: boolean;
  /**
   * With `lives`: the createdAt of the life `after` was read in (the
   * caller's), checked on the first connection as a later one's is.
   */
  createdAt?: string;
  /**
   * With `lives`: on the first connection too, a session whose last seq is
   * below `after` is another life (streamTranscript; follow takes the
   * caller's `after` as given).
   */
  checkFirstLife?: boolean;
  /** Cap of an error answer's body and of one frame (the client's maxResponseBytes). */
  maxBytes?: number;
}

type Opener = (lastSeq: number, signal: AbortSignal) => Promise<Response>;

/**
 * How follow tells one life of a session from the next: acpstore restarts a
 * session's seqs at 1 when it is deleted and its id created again
 * (docs/http_api.md, deleteSession), so a resume point of the old one would
 * skip the new one's first events. Neither the stream nor its events say
 * which life they belong to; the session's `createdAt` does, and its
 * `events.lastSeq` never goes below a seq already seen in the same life.
 */
export interface Lives<T> {
  /** The session as it is now: its creation time and last seq. */
  read(signal: AbortSignal): Promise<{ createdAt: string; lastSeq: number }>;
  /** The item that says the session is another one now. */
  item(createdAt: string): T;
}

export interface Frame {
  event: string;
  id: string | undefined;
  data: string;
}

/**
 * Splits an SSE byte stream into frames (WHATWG EventSource parsing: CR,
 * LF and CRLF end a line, also a CRLF cut between two chunks). A
 * frame (its data and the line being read) longer than `max` characters is
 * a protocol error: nothing is buffered without bound.
 */
export async function* frames(body: ReadableStream<Uint8Array>, onBytes: () => void, max = Infinity): AsyncGenerator<Frame> {
  const decoder = new TextDecoder();
  let buf = '';
  let event = '';
  let id: string | undefined;
  let data: string[] = [];
  let dataChars = 0;
  // A CR that ended the text read so far: a LF at the start of the next
  // chunk belongs to it (one CRLF line end cut by the network), not a line
  // end of its own, which would end the frame early as a blank line.
  let lastWasCR = false;
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      onBytes();
      const text = decoder.decode(value, { stream: true });
      if (text === '') continue;
      buf += lastWasCR && text.startsWith('\n') ? text.slice(1) : text;
      lastWasCR = false;
      for (;;) {
        const nl = buf.search(/\r\n|\r|\n/);
        if (nl < 0) break;
        const line = buf.slice(0, nl);
        lastWasCR = nl === buf.length - 1 && buf[nl] === '\r';
        buf = buf.slice(nl + (buf.startsWith('\r\n', nl) ? 2 : 1));
        if (line === '') {
          if (data.length > 0 || event !== '') yield { event, id, data: data.join('\n') };
          event = '';
          id = undefined;
          data = [];
          dataChars = 0;
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value2 = colon < 0 ? '' : line.slice(colon + 1);
        if (value2.startsWith(' ')) value2 = value2.slice(1);
        if (field === 'data') {
          data.push(value2);
          dataChars += value2.length + 1;
        }
        else if (field === 'event') event = value2;
        else if (field === 'id') id = value2;
      }
      if (buf.length + dataChars > max) {
        throw protocolError(200, `an SSE frame is larger than maxResponseBytes (${max} bytes)`);
      }
    }
  } finally {
    reader.releaseLock();
  }
}

function permanent(status: number): boolean {
  // 408/429/5xx are worth retrying; other refusals will not change, nor
  // will a 501: the server does not do this (transcripts off, decision 0036).
  return (status >= 400 && status < 500 && status !== 408 && status !== 429) || status === 501;
}

/**
 * What one frame means to a kind of stream: an item to yield and the seq to
 * resume after, or undefined to skip it. `event: error` frames never get
 * here (they end the stream).
 */
export type FrameDecoder<T> = (f: Frame, lastSeq: number) => { item: T; lastSeq: number } | undefined;

/** The frames of an event stream: events (without replays) and truncated markers. */
const eventFrames: FrameDecoder<FollowItem> = (f, lastSeq) => {
  if (f.event === 'truncated') {
    const what = 'streamEvents: a truncated frame';
    const firstSeq = intField(parseObject(f.data, 200, what), 'firstSeq', 1, 200, what);
    // Resume after the gap: a reconnect must not report it again.
    return { item: { type: 'truncated', firstSeq }, lastSeq: Math.max(lastSeq, firstSeq - 1) };
  }
  if (f.event === '' && f.id !== undefined) {
    const what = 'streamEvents: an event frame';
    const o = parseObject(f.data, 200, what);
    const seq = intField(o, 'eventSeq', 1, 200, what);
    if (seq <= lastSeq) return undefined; // replayed after a reconnect
    return { item: { type: 'event', event: o as unknown as Event }, lastSeq: seq };
  }
  return undefined;
};

export function followEvents(
  open: Opener,
  opts: InternalOptions = {},
  lives?: Lives<FollowItem>,
): AsyncGenerator<FollowItem> {
  return sseStream(open, eventFrames, opts, lives);
}

/**
 * The SSE streams' one set of rules (streamEvents, follow, streamTranscript):
 * aborting `signal` ends the iteration quietly; a transport failure is an
 * AcpstoreError `network` (the opener's), no data for idleTimeoutMs one
 * `timeout`; a refusal is an AcpstoreError with the HTTP status; an
 * `event: error` frame one with its code and the status an HTTP answer with
 * that code has (errorFromFrame). With `reconnect` (follow), transport
 * failures, a stream that ends, 408/429/5xx answers other than 501 and frames
 * other than data_loss reconnect with backoff, resuming after the last seq yielded;
 * without it the first failure is thrown and the end of the stream ends the
 * iteration. A 200 answer that is not an event stream, or a malformed
 * frame, is a protocol error (AcpstoreError bad_response, status 200):
 * thrown at once, never reconnected. With `lives` (follow), the session is
 * read after each connection's head, before its frames: a session created
 * at another time than on the first connection, or whose last seq is below
 * the resume point, is a new one, said by `lives.item` and followed from
 * seq 0 on a new connection. Read after the head, not before: a session
 * deleted after the stream opened ends that stream with an error frame, so
 * the session read is the one the stream follows.
 */
export async function* sseStream<T>(
  open: Opener,
  decode: FrameDecoder<T>,
  opts: InternalOptions = {},
  lives?: Lives<T>,
): AsyncGenerator<T> {
  const reconnect = opts.reconnect ?? true;
  const base = opts.baseDelayMs ?? 100;
  const max = opts.maxDelayMs ?? 5000;
  const idleMs = opts.idleTimeoutMs ?? 45_000;
  const maxBytes = opts.maxBytes ?? Infinity;
  let lastSeq = opts.after ?? 0;
  let attempt = 0;
  /** The followed session's createdAt (ms), from the first connection that read it. */
  let born: number | undefined = opts.createdAt !== undefined ? Date.parse(opts.createdAt) : undefined;
  const outer = opts.signal;
  const stopped = (): boolean => outer?.aborted === true;
  while (!stopped()) {
    const ctl = new AbortController();
    const onOuterAbort = (): void => ctl.abort(outer?.reason);
    outer?.addEventListener('abort', onOuterAbort, { once: true });
    let idle: ReturnType<typeof setTimeout> | undefined;
    let idled = false;
    const disarm = (): void => {
      if (idle !== undefined) clearTimeout(idle);
      idle = undefined;
    };
    const arm = (): void => {
      disarm();
      idle = setTimeout(() => {
        idled = true;
        ctl.abort(new Error(`no data for ${idleMs} ms`));
      }, idleMs);
    };
    let failure: unknown;
    let ended = false;
    try {
      arm();
      const res = await open(lastSeq, ctl.signal);
      if (res.status !== 200) {
        const err = errorFromBody(res.status, await readText(res, maxBytes, 'the stream'));
        if (permanent(res.status)) throw err;
        failure = err;
      } else {
        const type = mediaType(res.headers);
        if (type !== 'text/event-stream' || res.body === null) {
          await res.body?.cancel().catch(() => undefined);
          throw protocolError(200, `the answer is ${type === '' ? 'untyped' : type}, not text/event-stream`);
        }
        if (lives !== undefined) {
          const now = await lives.read(ctl.signal);
          const at = Date.parse(now.createdAt);
          const checked = born !== undefined || opts.checkFirstLife === true;
          if (checked && ((born !== undefined && at !== born) || now.lastSeq < lastSeq)) {
            born = at;
            lastSeq = 0;
            attempt = 0;
            disarm();
            yield lives.item(now.createdAt);
            continue; // this connection resumes from the old life's seq
          }
          born = at;
        }
        for await (const f of frames(res.body, arm, maxBytes)) {
          // The server ends the stream for good: session deleted, key
          // revoked, data loss.
          if (f.event === 'error') throw errorFromFrame(f.data);
          const d = decode(f, lastSeq);
          if (d === undefined) continue;
          lastSeq = d.lastSeq;
          attempt = 0;
          // The timeout is the server's silence: while the consumer holds
          // an item nothing is read, however much the server sent.
          disarm();
          yield d.item;
          arm();
        }
        ended = true;
        failure = new AcpstoreError(0, 'network', 'the event stream ended');
      }
    } catch (e) {
      if (stopped()) return;
      if (isProtocolError(e)) throw e;
      if (e instanceof AcpstoreError && !e.isTransport && permanent(e.status)) throw e;
      if (e instanceof AcpstoreError && e.code === 'data_loss') throw e;
      failure = idled ? new AcpstoreError(0, 'timeout', `no data for ${idleMs} ms`, { cause: e }) : e;
    } finally {
      disarm();
      outer?.removeEventListener('abort', onOuterAbort);
      ctl.abort();
    }
    if (!reconnect) {
      if (ended) return;
      throw failure;
    }
    opts.onReconnect?.({ attempt, lastSeq, error: failure });
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => {
          outer?.removeEventListener('abort', stop);
          resolve();
        }, backoffMs(attempt, base, max));
        const stop = (): void => {
          clearTimeout(t);
          reject(new Error('aborted'));
        };
        outer?.addEventListener('abort', stop, { once: true });
      });
    } catch {
      return;
    }
    ++attempt;
  }
}
