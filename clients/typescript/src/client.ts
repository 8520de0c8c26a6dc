// AcpstoreClient: every route of the acpstore HTTP API (docs/http_api.md)
// as a typed method. Paths and types come from src/openapi.gen.ts, which is
// generated from docs/openapi.yaml, so the client and the spec cannot drift.
//
// Connections are kept alive by the platform's fetch (undici pools them per
// origin). Retries: the requests that are safe to repeat (GETs; appends,
// under their clientEventId, generated when absent; and the writes the API
// makes idempotent by a key: see #send and the README) are retried on
// transport errors and on 429/503, never on another HTTP answer.
// Thread-safety: one client may be used by any number of concurrent calls.

import { randomUUID } from 'node:crypto';

import { DEFAULT_MAX_RESPONSE_BYTES, intField, mediaType, parseObject, protocolError, readText } from './answer.js';
import { AcpstoreError, errorFromBody } from './errors.js';
import {
  followEvents,
  sseStream,
  type FollowItem,
  type FollowOptions,
  type FrameDecoder,
  type InternalOptions,
  type Lives,
} from './follow.js';
import {
  operations,
  type Action,
  type AssignedEvent,
  type CancelActionBody,
  type CompleteActionBody,
  type CompleteInterventionBody,
  type CreateBrowserSessionResponse,
  type CreateKeyBody,
  type CreateKeyResponse,
  type Event,
  type EventPage,
  type FailActionBody,
  type GetStatsResponse,
  type LeaseActionBody,
  type ListActionsResponse,
  type ListSessionsResponse,
  type NewAction,
  type NewEvent,
  type NewSession,
  type OperationId,
  type Pause,
  type PauseSessionBody,
  type PauseSessionResponse,
  type ReadyzResponse,
  type ReadyzResponse503,
  type ResumeSessionBody,
  type Session,
  type SessionEvent,
  type SessionPatch,
  type SessionStatus,
  type ActionStatus,
  type StartInterventionBody,
  type TranscriptEntry,
  type TranscriptEntryKind,
  type TranscriptPage,
} from './openapi.gen.js';

/** The scope a `service` key acts in (SPEC §6: X-Acpstore-Scope). */
export interface Scope {
  tenantId: string;
  ownerKeyId: string;
}

export interface RetryOptions {
  /** Attempts in all, including the first. Default 4. */
  attempts?: number;
  /** First backoff; doubles per attempt, with jitter. Default 100 ms. */
  baseDelayMs?: number;
  /** Cap of one backoff. Default 2000 ms. */
  maxDelayMs?: number;
}

export interface ClientOptions {
  /** e.g. http://127.0.0.1:7700 */
  baseUrl: string;
  /** An API token; sent as a bearer token, never in a URL. */
  token: string;
  /** For a `service` key: the scope to act in (see also withScope). */
  scope?: Scope;
  /** Per-request timeout. Default 30000 ms. */
  timeoutMs?: number;
  retry?: RetryOptions;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  /**
   * Largest answer body read, and largest SSE frame; a larger one is
   * refused with AcpstoreError `bad_response` (never retried). Default
   * 256 MiB (DEFAULT_MAX_RESPONSE_BYTES).
   */
  maxResponseBytes?: number;
}

export interface CallOptions {
  signal?: AbortSignal;
}

/** A record plus whether this call created it (201) or found it (200). */
export interface Created<T> {
  value: T;
  created: boolean;
}

export interface ListSessionsQuery {
  status?: SessionStatus[];
  updatedAfter?: string | Date;
  limit?: number;
  cursor?: string;
}

export interface ListActionsQuery {
  sessionId?: string;
  status?: ActionStatus[];
  limit?: number;
  cursor?: string;
}

export interface ListEventsQuery {
  after?: number;
  limit?: number;
}

export interface GetTranscriptQuery {
  /** Entries with a greater index (default 0: from the start). */
  after?: number;
  /** 1..1000, default 100. */
  limit?: number;
  /** Only these kinds (default: all). */
  kinds?: TranscriptEntryKind[];
}

export interface AppendOptions extends CallOptions {
  /** Reject with seq_conflict unless the stream's last seq is this. */
  expectedLastSeq?: number;
  /**
   * Send `Prefer: return=minimal`: the answer holds only what the store
   * assigned (eventSeq, eventId, ingestedAt), not the event echoed back.
   */
  minimal?: boolean;
}

/** An event as appendEvent takes it; clientEventId is generated when absent. */
export type EventInput = NewEvent;

/**
 * What streamTranscript yields besides entries: the transcript's cap
 * (--transcript-max-bytes) dropped the entries before `firstIndex`, and
 * events after the resume point had made or changed some of them (they are
 * gone). Told apart from an entry by its `kind`. It comes before the first
 * entry when those changes predate the connection, or between entries when
 * the cap drops entries the stream had not sent yet while it runs.
 */
export interface TranscriptTruncated {
  kind: 'truncated';
  firstIndex: number;
}

/**
 * What streamTranscript yields, only when resumed (`after` > 0), when the
 * session is not the one `after` was read from: deleted and its id created
 * again, its seqs restarted at 1 (its `events.lastSeq` is below `after`, or
 * its `createdAt` is not the `createdAt` option). The entries after it are
 * the new session's, from the first: the stream starts over from 0.
 */
export interface TranscriptRecreated {
  kind: 'recreated';
  /** The new session's createdAt. */
  createdAt: string;
}

export interface StreamTranscriptOptions {
  /** Resume after this event seq: the lastSeq of the last item seen (default 0: all). */
  after?: number;
  /**
   * With `after`: the createdAt of the session `after` was read from, so a
   * session created again since (even one that already has more events
   * than `after`) is told apart. Without it only `events.lastSeq` < `after`
   * tells.
   */
  createdAt?: string;
  signal?: AbortSignal;
}

type PathParams = Record<string, string>;

interface Request {
  op: OperationId;
  params?: PathParams;
  query?: Record<string, string | undefined>;
  body?: unknown;
  signal?: AbortSignal | undefined;
  retry: boolean;
  headers?: Record<string, string>;
}

interface Answer {
  op: OperationId;
  status: number;
  text: string;
  headers: Headers;
}

/** The Retry-After of a 429 or 503 answer, for #send's next attempt. */
const retryAfterMs = new WeakMap<AcpstoreError, number>();

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const reason = (): Error => (signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal?.aborted) {
      reject(reason());
      return;
    }
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(reason());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** Backoff of attempt n (0-based): base * 2^n, capped, with +-25% jitter. */
export function backoffMs(n: number, base: number, max: number): number {
  const d = Math.min(max, base * 2 ** Math.min(n, 20));
  return Math.round(d * (0.75 + Math.random() * 0.5));
}

/**
 * The token without the blanks around it (fetch and acpstore drop them too,
 * so a token read from a file with its line break keeps working). Anything
 * else that is not printable ASCII is refused here: fetch would quote the
 * whole header, token included, in its error message, and no acpstore token
 * has such a character (acp_, hex, _). The error names the position, never
 * the token.
 */
function checkedToken(token: string): string {
  const lead = /^[ \t\r\n]*/.exec(token)?.[0].length ?? 0;
  const t = token.slice(lead).replace(/[ \t\r\n]+$/, '');
  if (t === '') throw new TypeError('token must not be empty');
  const bad = /[^\x21-\x7e]/.exec(t);
  if (bad !== null) {
    const cp = (bad[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
    throw new TypeError(`token must be printable ASCII without spaces: the character at index ${lead + bad.index} is U+${cp}`);
  }
  return t;
}

/**
 * `e` with every occurrence of `secret` replaced, in its message, stack and
 * causes: the error a custom (or future) fetch throws may quote the request's
 * headers, and it becomes the message and cause of an AcpstoreError. The
 * original is returned when it holds no secret.
 */
function redacted(e: unknown, secret: string, depth = 0): unknown {
  const hide = (s: string): string => s.split(secret).join('[token]');
  if (typeof e === 'string') return hide(e);
  if (!(e instanceof Error) || depth > 16) return e;
  const cause = redacted(e.cause, secret, depth + 1);
  const message = hide(e.message);
  const stack = e.stack === undefined ? undefined : hide(e.stack);
  if (message === e.message && stack === e.stack && cause === e.cause) return e;
  const copy = new Error(message, cause === undefined ? undefined : { cause });
  copy.name = e.name;
  if (stack !== undefined) copy.stack = stack;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') Object.assign(copy, { code });
  return copy;
}

function encodeScope(scope: Scope): string {
  return `${encodeURIComponent(scope.tenantId)}/${encodeURIComponent(scope.ownerKeyId)}`;
}

function iso(t: string | Date): string {
  return typeof t === 'string' ? t : t.toISOString();
}

export class AcpstoreClient {
  readonly baseUrl: string;
  readonly scope: Scope | undefined;
  readonly #token: string;
  readonly #timeoutMs: number;
  readonly #retry: Required<RetryOptions>;
  readonly #fetch: typeof fetch;
  readonly #maxBytes: number;

  constructor(options: ClientOptions) {
    if (!/^https?:\/\//.test(options.baseUrl)) {
      throw new TypeError('baseUrl must be an http(s) URL');
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.scope = options.scope;
    this.#token = checkedToken(options.token);
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#retry = {
      attempts: options.retry?.attempts ?? 4,
      baseDelayMs: options.retry?.baseDelayMs ?? 100,
      maxDelayMs: options.retry?.maxDelayMs ?? 2000,
    };
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    if (!Number.isSafeInteger(this.#maxBytes) || this.#maxBytes < 1) {
      throw new TypeError('maxResponseBytes must be a positive integer');
    }
  }

  /** The same client acting in another scope (service keys). */
  withScope(scope: Scope): AcpstoreClient {
    return new AcpstoreClient({
      baseUrl: this.baseUrl,
      token: this.#token,
      scope,
      timeoutMs: this.#timeoutMs,
      retry: this.#retry,
      fetch: this.#fetch,
      maxResponseBytes: this.#maxBytes,
    });
  }

  // ------------------------------------------------------------ sessions

  /** createSession: 201; 409 conflict when the id exists in the tenant. */
  async createSession(body: NewSession = {}, opts: CallOptions = {}): Promise<Session> {
    return this.#json<Session>({ op: 'createSession', body, signal: opts.signal, retry: false });
  }

  async listSessions(q: ListSessionsQuery = {}, opts: CallOptions = {}): Promise<ListSessionsResponse> {
    return this.#json<ListSessionsResponse>({
      op: 'listSessions',
      query: {
        status: q.status?.join(','),
        updatedAfter: q.updatedAfter === undefined ? undefined : iso(q.updatedAfter),
        limit: q.limit?.toString(),
        cursor: q.cursor,
      },
      signal: opts.signal,
      retry: true,
    });
  }

  async getSession(id: string, opts: CallOptions = {}): Promise<Session> {
    return this.#json<Session>({ op: 'getSession', params: { id }, signal: opts.signal, retry: true });
  }

  /** updateSession: retried (a repeat sets the same values; a status already reached is kept). */
  async updateSession(id: string, patch: SessionPatch, opts: CallOptions = {}): Promise<Session> {
    return this.#json<Session>({
      op: 'updateSession',
      params: { id },
      body: patch,
      signal: opts.signal,
      retry: true,
    });
  }

  async transitionSession(id: string, event: SessionEvent, opts: CallOptions = {}): Promise<Session> {
    return this.#json<Session>({
      op: 'transitionSession',
      params: { id },
      body: { event },
      signal: opts.signal,
      retry: false,
    });
  }

  /** deleteSession: the session must be closed or failed. */
  async deleteSession(id: string, opts: CallOptions = {}): Promise<void> {
    await this.#send({ op: 'deleteSession', params: { id }, signal: opts.signal, retry: false });
  }

  // -------------------------------------------------------------- events

  /**
   * Appends one event (appendEvents with a single body). Retried on
   * transport errors under its clientEventId (generated when absent), so it
   * is stored at most once. `created` is false when the clientEventId was
   * already stored and the original event came back.
   */
  async appendEvent(sessionId: string, event: EventInput, opts?: AppendOptions & { minimal?: false }): Promise<Created<Event>>;
  async appendEvent(sessionId: string, event: EventInput, opts: AppendOptions & { minimal: true }): Promise<Created<AssignedEvent>>;
  async appendEvent(sessionId: string, event: EventInput, opts: AppendOptions = {}): Promise<Created<Event | AssignedEvent>> {
    const body = { ...event, clientEventId: event.clientEventId ?? randomUUID() };
    if (opts.expectedLastSeq !== undefined) Object.assign(body, { expectedLastSeq: opts.expectedLastSeq });
    const a = await this.#send({
      op: 'appendEvents',
      params: { id: sessionId },
      body,
      signal: opts.signal,
      retry: true,
      ...(opts.minimal === true ? { headers: { prefer: 'return=minimal' } } : {}),
    });
    return { value: parse<Event | AssignedEvent>(a), created: a.status === 201 };
  }

  /** appendEvents with a batch (1..1000 events, all or none). */
  async appendEvents(sessionId: string, events: EventInput[], opts?: AppendOptions & { minimal?: false }): Promise<Created<Event[]>>;
  async appendEvents(
    sessionId: string,
    events: EventInput[],
    opts: AppendOptions & { minimal: true },
  ): Promise<Created<AssignedEvent[]>>;
  async appendEvents(
    sessionId: string,
    events: EventInput[],
    opts: AppendOptions = {},
  ): Promise<Created<Event[] | AssignedEvent[]>> {
    const body: { events: EventInput[]; expectedLastSeq?: number } = {
      events: events.map((e) => ({ ...e, clientEventId: e.clientEventId ?? randomUUID() })),
    };
    if (opts.expectedLastSeq !== undefined) body.expectedLastSeq = opts.expectedLastSeq;
    const a = await this.#send({
      op: 'appendEvents',
      params: { id: sessionId },
      body,
      signal: opts.signal,
      retry: true,
      ...(opts.minimal === true ? { headers: { prefer: 'return=minimal' } } : {}),
    });
    return { value: parse<{ events: Event[] | AssignedEvent[] }>(a).events, created: a.status === 201 };
  }

  /**
   * listEvents: one page of retained events after `after`, ascending. A
   * page holds at most `limit` events and stops before its payloads pass
   * the server's --max-page-bytes (8 MiB; at least one event), so it may be
   * short before the end: page on with `after` = the last `eventSeq` until
   * it is `page.lastSeq` (or a page is empty).
   */
  async listEvents(sessionId: string, q: ListEventsQuery = {}, opts: CallOptions = {}): Promise<EventPage> {
    return this.#json<EventPage>({
      op: 'listEvents',
      params: { id: sessionId },
      query: { after: q.after?.toString(), limit: q.limit?.toString() },
      signal: opts.signal,
      retry: true,
    });
  }

  /**
   * getTranscript: a page of the session's transcript (SPEC §13), the
   * conversation folded from its events, kept after retention drops them.
   * Page with `after: page.next` until `page.next + 1 >= page.endIndex`.
   * A server with transcripts off rejects it at once (501 not_implemented,
   * details.reason 'transcripts_off'; not retried).
   */
  async getTranscript(sessionId: string, q: GetTranscriptQuery = {}, opts: CallOptions = {}): Promise<TranscriptPage> {
    return this.#json<TranscriptPage>({
      op: 'getTranscript',
      params: { id: sessionId },
      query: {
        after: q.after?.toString(),
        limit: q.limit?.toString(),
        kind: q.kinds !== undefined && q.kinds.length > 0 ? q.kinds.join(',') : undefined,
      },
      signal: opts.signal,
      retry: true,
    });
  }

  /**
   * streamTranscript: one SSE connection following the session's
   * transcript; yields every entry whose lastSeq is above `after` (default
   * 0: all), then each entry again, whole and with the same index, as it
   * grows. The connection asks for the server's text appends
   * (`?textAppends=true`: a growing assistant or thought entry is sent as
   * only the text it gained) and puts the entry back together, so every
   * item is a whole entry, as getTranscript returns it; an append for an
   * entry the stream does not hold is a protocol error (AcpstoreError
   * bad_response), never dropped text.
   * Resume after a drop with `after` = the lastSeq of the last entry seen
   * (and `createdAt`, the session's, to tell a re-created session apart):
   * a resumed stream reads the session once, and when it is another life
   * of the id (`events.lastSeq` below `after`, or another `createdAt`)
   * yields `{kind: 'recreated', createdAt}` and starts over from 0 rather
   * than skip the new session's entries.
   * A `{kind: 'truncated', firstIndex}` item says the cap dropped entries
   * before `firstIndex` that the stream had not sent: before the first
   * entry when they changed after `after`, or later, between entries, when
   * the cap drops entries while the stream follows (as follow() yields
   * `truncated` for events retention dropped).
   * Ends when the server ends the stream or `signal` aborts; fails as
   * streamEvents does (the same code): on a server with transcripts off,
   * at once with 501 not_implemented.
   */
  async *streamTranscript(
    sessionId: string,
    opts: StreamTranscriptOptions = {},
  ): AsyncGenerator<TranscriptEntry | TranscriptTruncated | TranscriptRecreated> {
    const open = this.#sseOpener(
      'streamTranscript',
      this.#url('streamTranscript', { id: sessionId }, { textAppends: 'true' }),
    );
    // Only a resumed stream can have been given a seq of another life.
    const lives: Lives<TranscriptEntry | TranscriptTruncated | TranscriptRecreated> | undefined =
      (opts.after ?? 0) > 0
        ? {
            read: async (signal) => this.#life(sessionId, signal, 'streamTranscript'),
            item: (createdAt) => ({ kind: 'recreated', createdAt }),
          }
        : undefined;
    const { createdAt, ...rest } = opts;
    yield* sseStream(
      open,
      transcriptFrames(),
      {
        ...rest,
        reconnect: false,
        maxBytes: this.#maxBytes,
        ...(createdAt !== undefined ? { createdAt } : {}),
        checkFirstLife: true,
      },
      lives,
    );
  }

  /** The session's createdAt and events.lastSeq: which life of its id it is. */
  async #life(sessionId: string, signal: AbortSignal, what: string): Promise<{ createdAt: string; lastSeq: number }> {
    const s = await this.getSession(sessionId, { signal });
    const lastSeq: unknown = (s as Partial<Session>).events?.lastSeq;
    if (typeof s.createdAt !== 'string' || Number.isNaN(Date.parse(s.createdAt)) ||
      typeof lastSeq !== 'number' || !Number.isSafeInteger(lastSeq) || lastSeq < 0) {
      throw protocolError(200, `${what}: the session read has no createdAt or events.lastSeq`);
    }
    return { createdAt: s.createdAt, lastSeq };
  }

  /**
   * streamEvents: one SSE connection, no reconnection. Yields events and
   * truncated markers until the server ends the stream. Prefer follow().
   */
  streamEvents(sessionId: string, opts: { after?: number; signal?: AbortSignal } = {}): AsyncGenerator<FollowItem> {
    return this.#events(sessionId, { ...opts, reconnect: false });
  }

  /**
   * follow: an async iterator over a session's events that reconnects with
   * backoff and resumes after the last event it yielded: no duplicate, no
   * gap, across dropped connections and server restarts. A `truncated` item
   * says retention dropped events before `firstSeq` that were never seen; a
   * `recreated` item that the session was deleted and its id created again
   * while follow reconnected (the new session's events follow, from seq 1).
   * Ends when `signal` aborts; throws AcpstoreError for a permanent failure
   * (401, 403, 404: the session does not exist or was deleted).
   */
  follow(sessionId: string, opts: FollowOptions = {}): AsyncGenerator<FollowItem> {
    return this.#events(sessionId, opts);
  }

  /** The URL is built (and a bad id refused) once, before any connection. */
  async *#events(sessionId: string, opts: InternalOptions): AsyncGenerator<FollowItem> {
    const open = this.#sseOpener('streamEvents', this.#url('streamEvents', { id: sessionId }));
    // One connection (streamEvents) follows one life of the session; follow
    // reconnects, and must notice when the id names a new session.
    const lives: Lives<FollowItem> | undefined =
      opts.reconnect === false
        ? undefined
        : {
            read: async (signal) => this.#life(sessionId, signal, 'follow'),
            item: (createdAt) => ({ type: 'recreated', createdAt }),
          };
    yield* followEvents(open, { ...opts, maxBytes: this.#maxBytes }, lives);
  }

  // ------------------------------------------------------------- actions

  /** enqueueAction: created=false for an idempotent replay (200). */
  async enqueueAction(body: NewAction, opts: CallOptions = {}): Promise<Created<Action>> {
    const a = await this.#send({
      op: 'enqueueAction',
      body,
      signal: opts.signal,
      // Safe to retry only when a replay is recognised.
      retry: body.idempotencyKey !== undefined,
    });
    return { value: parse<Action>(a), created: a.status === 201 };
  }

  async getAction(actionId: string, opts: CallOptions = {}): Promise<Action> {
    return this.#json<Action>({ op: 'getAction', params: { actionId }, signal: opts.signal, retry: true });
  }

  async listActions(q: ListActionsQuery = {}, opts: CallOptions = {}): Promise<ListActionsResponse> {
    return this.#json<ListActionsResponse>({
      op: 'listActions',
      query: {
        sessionId: q.sessionId,
        status: q.status?.join(','),
        limit: q.limit?.toString(),
        cursor: q.cursor,
      },
      signal: opts.signal,
      retry: true,
    });
  }

  /** leaseAction: the leased action with its leaseToken, or null (204). */
  async leaseAction(body: LeaseActionBody = {}, opts: CallOptions = {}): Promise<Action | null> {
    const a = await this.#send({ op: 'leaseAction', body, signal: opts.signal, retry: false });
    return a.status === 204 ? null : parse<Action>(a);
  }

  /** heartbeatAction: retried (a repeat extends the lease again from now). */
  async heartbeatAction(actionId: string, leaseToken: string, leaseMs: number, opts: CallOptions = {}): Promise<Action> {
    return this.#json<Action>({
      op: 'heartbeatAction',
      params: { actionId },
      body: { leaseToken, leaseMs },
      signal: opts.signal,
      retry: true,
    });
  }

  async completeAction(actionId: string, body: CompleteActionBody, opts: CallOptions = {}): Promise<Action> {
    return this.#json<Action>({ op: 'completeAction', params: { actionId }, body, signal: opts.signal, retry: false });
  }

  async failAction(actionId: string, body: FailActionBody, opts: CallOptions = {}): Promise<Action> {
    return this.#json<Action>({ op: 'failAction', params: { actionId }, body, signal: opts.signal, retry: false });
  }

  async cancelAction(actionId: string, body: CancelActionBody = {}, opts: CallOptions = {}): Promise<Action> {
    return this.#json<Action>({ op: 'cancelAction', params: { actionId }, body, signal: opts.signal, retry: false });
  }

  // -------------------------------------------------------------- pauses

  // The pause routes are idempotent by their keys (SPEC §2.4): a repeat
  // answers with the record as it is now. Each is retried only with its key.

  /** pauseSession: created=false for a replay of the idempotencyKey; retried only with one. */
  async pauseSession(id: string, body: PauseSessionBody, opts: CallOptions = {}): Promise<Created<PauseSessionResponse>> {
    const a = await this.#send({
      op: 'pauseSession',
      params: { id },
      body,
      signal: opts.signal,
      retry: body.idempotencyKey !== undefined,
    });
    return { value: parse<PauseSessionResponse>(a), created: a.status === 201 };
  }

  /** startIntervention: retried only with an interventionId. */
  async startIntervention(id: string, body: StartInterventionBody, opts: CallOptions = {}): Promise<PauseSessionResponse> {
    return this.#json({
      op: 'startIntervention',
      params: { id },
      body,
      signal: opts.signal,
      retry: body.interventionId !== undefined,
    });
  }

  /** completeIntervention: retried (its interventionId is required). */
  async completeIntervention(
    id: string,
    body: CompleteInterventionBody,
    opts: CallOptions = {},
  ): Promise<PauseSessionResponse> {
    return this.#json({ op: 'completeIntervention', params: { id }, body, signal: opts.signal, retry: true });
  }

  /** resumeSession: retried only with a resumeId. */
  async resumeSession(id: string, body: ResumeSessionBody, opts: CallOptions = {}): Promise<PauseSessionResponse> {
    return this.#json({
      op: 'resumeSession',
      params: { id },
      body,
      signal: opts.signal,
      retry: body.resumeId !== undefined,
    });
  }

  /** getPause: the active pause, else the latest; 404 when none. */
  async getPause(id: string, opts: CallOptions = {}): Promise<Pause> {
    return this.#json<Pause>({ op: 'getPause', params: { id }, signal: opts.signal, retry: true });
  }

  // ---------------------------------------------------------------- keys

  async createKey(body: CreateKeyBody, opts: CallOptions = {}): Promise<CreateKeyResponse> {
    return this.#json<CreateKeyResponse>({ op: 'createKey', body, signal: opts.signal, retry: false });
  }

  /** revokeKey: retried (revoking twice answers 204 twice). */
  async revokeKey(id: string, opts: CallOptions = {}): Promise<void> {
    await this.#send({ op: 'revokeKey', params: { id }, signal: opts.signal, retry: true });
  }

  // ----------------------------------------------------- browser sign-in

  /**
   * createBrowserSession: trades this client's token for a browser session
   * (SPEC §12). Resolves with the CSRF token and `cookie`, the "name=value"
   * of the session cookie the server set, for a caller that relays it (a
   * browser keeps the cookie itself and cannot read it). Service keys are
   * refused (403).
   */
  async createBrowserSession(opts: CallOptions = {}): Promise<CreateBrowserSessionResponse & { cookie: string }> {
    const a = await this.#send({ op: 'createBrowserSession', signal: opts.signal, retry: false });
    const set = a.headers.get('set-cookie');
    if (set === null) throw new AcpstoreError(a.status, 'bad_response', 'createBrowserSession: no Set-Cookie in the answer');
    return { ...parse<CreateBrowserSessionResponse>(a), cookie: set.split(';')[0] ?? '' };
  }

  /**
   * deleteBrowserSession: signs a browser session out. The session is named
   * by its cookie and CSRF token (from createBrowserSession), not by this
   * client's token, which is not sent.
   */
  async deleteBrowserSession(session: { cookie: string; csrfToken: string }, opts: CallOptions = {}): Promise<void> {
    const init: RequestInit = {
      method: operations.deleteBrowserSession.method,
      headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken },
    };
    await this.#once('deleteBrowserSession', this.#url('deleteBrowserSession'), init, opts.signal, []);
  }

  // ---------------------------------------------------------- operations

  async getStats(opts: CallOptions = {}): Promise<GetStatsResponse> {
    return this.#json<GetStatsResponse>({ op: 'getStats', signal: opts.signal, retry: true });
  }

  /** healthz: resolves while the process serves. */
  async healthz(opts: CallOptions = {}): Promise<{ status: string }> {
    return this.#json({ op: 'healthz', signal: opts.signal, retry: false });
  }

  /**
   * readyz: 200 and 503 both resolve; `ready` tells them apart, and the
   * body's type with them (the 503's: status not_ready, code, reason).
   */
  async readyz(
    opts: CallOptions = {},
  ): Promise<{ ready: true; body: ReadyzResponse } | { ready: false; body: ReadyzResponse503 }> {
    const a = await this.#send({ op: 'readyz', signal: opts.signal, retry: false }, [503]);
    return a.status === 200 ? { ready: true, body: parse<ReadyzResponse>(a) } : { ready: false, body: parse<ReadyzResponse503>(a) };
  }

  /** metrics: the Prometheus text. */
  async metrics(opts: CallOptions = {}): Promise<string> {
    return (await this.#send({ op: 'metrics', signal: opts.signal, retry: false })).text;
  }

  // ------------------------------------------------------------ plumbing

  #url(op: OperationId, params: PathParams = {}, query: Record<string, string | undefined> = {}): string {
    const path = operations[op].path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const v = params[name];
      if (v === undefined || v === '') throw new TypeError(`${op}: ${name} must be a non-empty string`);
      // fetch (the WHATWG URL parser) removes "." and ".." path segments,
      // percent-encoded ones (%2E) too: the request would reach another
      // route or another record. No URL can name such an id.
      if (v === '.' || v === '..') {
        throw new TypeError(`${op}: ${name} "${v}" cannot be sent in a URL path (fetch removes "." and ".." segments, also as %2E)`);
      }
      return encodeURIComponent(v);
    });
    // Not URLSearchParams: it sends a space as `+`, which acpstore reads as
    // a literal plus (docs/http_api.md, Conventions). Every other byte that
    // is not unreserved is percent-encoded, a space as %20.
    const s = Object.entries(query)
      .filter((kv): kv is [string, string] => kv[1] !== undefined)
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
      .join('&');
    return `${this.baseUrl}${path}${s === '' ? '' : `?${s}`}`;
  }

  #headers(extra: Record<string, string> = {}): Record<string, string> {
    const h: Record<string, string> = { authorization: `Bearer ${this.#token}`, ...extra };
    if (this.scope !== undefined) h['x-acpstore-scope'] = encodeScope(this.scope);
    return h;
  }

  #sseOpener(op: OperationId, url: string): (lastSeq: number, signal: AbortSignal) => Promise<Response> {
    return async (lastSeq, signal) => {
      try {
        return await this.#fetch(url, {
          headers: this.#headers({ accept: 'text/event-stream', 'last-event-id': String(lastSeq) }),
          signal,
        });
      } catch (e) {
        if (signal.aborted) throw e;
        throw this.#networkError(op, e);
      }
    };
  }

  /** A transport failure, without the token its error may quote (docs/http_api.md: never echoed). */
  #networkError(op: OperationId, e: unknown): AcpstoreError {
    const cause = redacted(e, this.#token);
    const why = cause instanceof Error ? cause.message : String(cause);
    return new AcpstoreError(0, 'network', `${op}: ${why}`, { cause });
  }

  async #json<T>(req: Request): Promise<T> {
    return parse<T>(await this.#send(req));
  }

  /** One call with its retries; resolves with a 2xx (or `alsoOk`) answer. */
  async #send(req: Request, alsoOk: number[] = []): Promise<Answer> {
    const { method } = operations[req.op];
    const url = this.#url(req.op, req.params, req.query);
    const hasBody = req.body !== undefined;
    const init: RequestInit = {
      method,
      headers: this.#headers(hasBody ? { 'content-type': 'application/json', ...req.headers } : req.headers),
      ...(hasBody ? { body: JSON.stringify(req.body) } : {}),
    };
    const attempts = req.retry ? Math.max(1, this.#retry.attempts) : 1;
    for (let n = 0; ; ++n) {
      try {
        return await this.#once(req.op, url, init, req.signal, alsoOk);
      } catch (e) {
        // A transport failure, or "not now" (429, 503: docs/http_api.md,
        // "What to retry"); a request safe to repeat is asked again. Not a
        // 507 (insufficient_storage): a full disk stays full for longer than
        // this backoff lasts, so it rejects at once with its own code; nor
        // a 501 (not_implemented, e.g. transcripts off: decision 0036).
        const transport = e instanceof AcpstoreError && e.isTransport;
        const notNow = e instanceof AcpstoreError && (e.status === 429 || e.status === 503);
        if (!(transport || notNow) || n + 1 >= attempts || req.signal?.aborted === true) throw e;
        const backoff = backoffMs(n, this.#retry.baseDelayMs, this.#retry.maxDelayMs);
        await sleep(Math.max(backoff, (notNow && retryAfterMs.get(e)) || 0), req.signal);
      }
    }
  }

  async #once(op: OperationId, url: string, init: RequestInit, signal: AbortSignal | undefined, alsoOk: number[]): Promise<Answer> {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const combined = signal === undefined ? { signal: timeout, dispose: () => {} } : anySignal([signal, timeout]);
    let res: Response;
    let text: string;
    try {
      res = await this.#fetch(url, { ...init, signal: combined.signal });
      text = await readText(res, this.#maxBytes, op);
    } catch (e) {
      if (e instanceof AcpstoreError) throw e; // the answer is too large
      if (signal?.aborted === true) throw signal.reason;
      if (timeout.aborted) {
        throw new AcpstoreError(0, 'timeout', `${op}: no answer within ${this.#timeoutMs} ms`, {
          cause: redacted(e, this.#token),
        });
      }
      throw this.#networkError(op, e);
    } finally {
      combined.dispose();
    }
    if ((res.status >= 200 && res.status < 300) || alsoOk.includes(res.status)) {
      return { op, status: res.status, text, headers: res.headers };
    }
    const err = errorFromBody(res.status, text);
    // Retry-After in seconds (acpstore sends 1); a date or more than a
    // minute is not waited for beyond the backoff.
    const after = Number(res.headers.get('retry-after') ?? '');
    if (Number.isInteger(after) && after > 0 && after <= 60) retryAfterMs.set(err, after * 1000);
    throw err;
  }
}

/**
 * The frames of a transcript stream, one decoder per connection: `event:
 * entry`, id = the entry's lastSeq; `event: append` (?textAppends=true),
 * the text an assistant or thought entry gained, added to the entry the
 * decoder holds and yielded whole; and the cap's `event: truncated` marker
 * (it moves no resume point: the server tells each gap once per
 * connection). The server appends only to the assistant or thought entry
 * it sent last on the connection, so that one entry is all that is kept.
 */
function transcriptFrames(): FrameDecoder<TranscriptEntry | TranscriptTruncated> {
  let held: TranscriptEntry | undefined;
  return (f, lastSeq) => {
    if (f.event === 'truncated') {
      const what = 'streamTranscript: a truncated frame';
      const firstIndex = intField(parseObject(f.data, 200, what), 'firstIndex', 1, 200, what);
      return { item: { kind: 'truncated', firstIndex }, lastSeq };
    }
    if (f.event === 'append') {
      const what = 'streamTranscript: an append frame';
      const o = parseObject(f.data, 200, what);
      const index = intField(o, 'index', 0, 200, what);
      const seq = intField(o, 'lastSeq', 1, 200, what);
      if (typeof o.text !== 'string' || typeof o.lastAt !== 'string') {
        throw protocolError(200, `${what}: text or lastAt is not a string`);
      }
      if (held?.index !== index) {
        throw protocolError(
          200,
          `${what} for entry ${index}, which this stream has not sent whole ` +
            `(it holds ${held === undefined ? 'no entry' : `entry ${held.index}`})`,
        );
      }
      // A new object each time: the consumer may keep (or change) the one
      // it was given.
      held = { ...held, text: (held.text ?? '') + o.text, lastSeq: seq, lastAt: o.lastAt };
      return { item: { ...held }, lastSeq: Math.max(lastSeq, seq) };
    }
    if (f.event !== 'entry') return undefined;
    const what = 'streamTranscript: an entry frame';
    const o = parseObject(f.data, 200, what);
    intField(o, 'index', 0, 200, what);
    const seq = intField(o, 'lastSeq', 1, 200, what);
    const entry = o as unknown as TranscriptEntry;
    if (entry.kind === 'assistant' || entry.kind === 'thought') held = { ...entry };
    return { item: entry, lastSeq: Math.max(lastSeq, seq) };
  };
}

/** A JSON answer: application/json, one object (every acpstore answer is). */
function parse<T>(a: Answer): T {
  const type = mediaType(a.headers);
  if (type !== 'application/json') {
    throw protocolError(a.status, `${a.op}: the answer is ${type === '' ? 'untyped' : type}, not application/json`);
  }
  return parseObject(a.text, a.status, `${a.op}: the answer`) as T;
}

/**
 * AbortSignal.any for Node 18, which lacks it. `dispose` removes the
 * listeners from the inputs, so a long-lived caller signal used for many
 * calls does not collect one listener per call.
 */
export function anySignal(signals: AbortSignal[]): { signal: AbortSignal; dispose: () => void } {
  const ctl = new AbortController();
  const dispose = (): void => {
    for (const s of signals) s.removeEventListener('abort', onAbort);
  };
  function onAbort(this: AbortSignal): void {
    ctl.abort(this.reason);
    dispose();
  }
  for (const s of signals) {
    if (s.aborted) {
      ctl.abort(s.reason);
      dispose();
      return { signal: ctl.signal, dispose };
    }
    s.addEventListener('abort', onAbort, { once: true });
  }
  return { signal: ctl.signal, dispose };
}
