// follow(): an async iterator over a session's SSE stream
// (GET /v1/sessions/{id}/events/stream) that survives dropped connections
// and server restarts.
//
// Exactly-once delivery rests on two facts: the server replays every
// retained event after the Last-Event-ID it is sent, and event sequence
// numbers are dense and never reused. So the iterator remembers the seq of
// the last event it yielded, reconnects with that as Last-Event-ID, and
// drops anything at or below it. A `truncated` frame (retention dropped
// events the reader never saw) is yielded as an item, never hidden.

import { AcpstoreError, errorFromBody, errorFromFrame } from './errors.js';
import type { Event } from './openapi.gen.js';
import { backoffMs } from './client.js';

export type FollowItem =
  | { type: 'event'; event: Event }
  /** Events after the resume point and before firstSeq were dropped by retention. */
  | { type: 'truncated'; firstSeq: number };

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
   * Reconnect when nothing (not even a `: ping`) arrived for this long.
   * Default 45000 ms (three server heartbeats).
   */
  idleTimeoutMs?: number;
  /** Called before each reconnect, for logs and tests. */
  onReconnect?: (info: { attempt: number; lastSeq: number; error: unknown }) => void;
}

export interface InternalOptions extends FollowOptions {
  reconnect?: boolean;
}

type Opener = (lastSeq: number, signal: AbortSignal) => Promise<Response>;

export interface Frame {
  event: string;
  id: string | undefined;
  data: string;
}

/** Splits an SSE byte stream into frames (WHATWG EventSource parsing). */
export async function* frames(body: ReadableStream<Uint8Array>, onBytes: () => void): AsyncGenerator<Frame> {
  const decoder = new TextDecoder();
  let buf = '';
  let event = '';
  let id: string | undefined;
  let data: string[] = [];
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      onBytes();
      buf += decoder.decode(value, { stream: true });
      for (;;) {
        const nl = buf.search(/\r\n|\r|\n/);
        if (nl < 0) break;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + (buf.startsWith('\r\n', nl) ? 2 : 1));
        if (line === '') {
          if (data.length > 0 || event !== '') yield { event, id, data: data.join('\n') };
          event = '';
          id = undefined;
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value2 = colon < 0 ? '' : line.slice(colon + 1);
        if (value2.startsWith(' ')) value2 = value2.slice(1);
        if (field === 'data') data.push(value2);
        else if (field === 'event') event = value2;
        else if (field === 'id') id = value2;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

function permanent(status: number): boolean {
  // 408/429/5xx are worth retrying; other refusals will not change.
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
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
    const { firstSeq } = JSON.parse(f.data) as { firstSeq: number };
    // Resume after the gap: a reconnect must not report it again.
    return { item: { type: 'truncated', firstSeq }, lastSeq: Math.max(lastSeq, firstSeq - 1) };
  }
  if (f.event === '' && f.id !== undefined) {
    const ev = JSON.parse(f.data) as Event;
    if (ev.eventSeq <= lastSeq) return undefined; // replayed after a reconnect
    return { item: { type: 'event', event: ev }, lastSeq: ev.eventSeq };
  }
  return undefined;
};

export function followEvents(open: Opener, opts: InternalOptions = {}): AsyncGenerator<FollowItem> {
  return sseStream(open, eventFrames, opts);
}

/**
 * The SSE streams' one set of rules (streamEvents, follow, streamTranscript):
 * aborting `signal` ends the iteration quietly; a transport failure is an
 * AcpstoreError `network` (the opener's), no data for idleTimeoutMs one
 * `timeout`; a refusal is an AcpstoreError with the HTTP status; an
 * `event: error` frame one with its code and the status an HTTP answer with
 * that code has (errorFromFrame). With `reconnect` (follow), transport
 * failures, a stream that ends, 408/429/5xx answers and frames other than
 * data_loss reconnect with backoff, resuming after the last seq yielded;
 * without it the first failure is thrown and the end of the stream ends the
 * iteration.
 */
export async function* sseStream<T>(open: Opener, decode: FrameDecoder<T>, opts: InternalOptions = {}): AsyncGenerator<T> {
  const reconnect = opts.reconnect ?? true;
  const base = opts.baseDelayMs ?? 100;
  const max = opts.maxDelayMs ?? 5000;
  const idleMs = opts.idleTimeoutMs ?? 45_000;
  let lastSeq = opts.after ?? 0;
  let attempt = 0;
  const outer = opts.signal;
  const stopped = (): boolean => outer?.aborted === true;
  while (!stopped()) {
    const ctl = new AbortController();
    const onOuterAbort = (): void => ctl.abort(outer?.reason);
    outer?.addEventListener('abort', onOuterAbort, { once: true });
    let idle: ReturnType<typeof setTimeout> | undefined;
    let idled = false;
    const arm = (): void => {
      if (idle !== undefined) clearTimeout(idle);
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
      if (res.status !== 200 || res.body === null) {
        const text = await res.text();
        const err = errorFromBody(res.status, text);
        if (permanent(res.status)) throw err;
        failure = err;
      } else {
        for await (const f of frames(res.body, arm)) {
          // The server ends the stream for good: session deleted, key
          // revoked, data loss.
          if (f.event === 'error') throw errorFromFrame(f.data);
          const d = decode(f, lastSeq);
          if (d === undefined) continue;
          lastSeq = d.lastSeq;
          attempt = 0;
          yield d.item;
        }
        ended = true;
        failure = new AcpstoreError(0, 'network', 'the event stream ended');
      }
    } catch (e) {
      if (stopped()) return;
      if (e instanceof AcpstoreError && !e.isTransport && permanent(e.status)) throw e;
      if (e instanceof AcpstoreError && e.code === 'data_loss') throw e;
      failure = idled ? new AcpstoreError(0, 'timeout', `no data for ${idleMs} ms`, { cause: e }) : e;
    } finally {
      if (idle !== undefined) clearTimeout(idle);
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
