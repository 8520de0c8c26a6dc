// createAcpstoreProfile(): Aegis's AcpLocalStorageProfile over acpstore's
// HTTP API. One `service` key; every call carries the scope Aegis passes, in
// X-Acpstore-Scope, so a read in another scope is null (or []) and a write
// there is refused, as with Aegis's own stores. The semantics chosen where
// Aegis's memory and Postgres stores differ are listed in the README.

import { AcpstoreClient, type Created, type Scope } from '../client.js';
import { AcpstoreError } from '../errors.js';
import type { Action, Event, Pause, PauseSessionBody, PauseSessionResponse, SessionPatch } from '../openapi.gen.js';
import { toAegisAction, toAegisEvent, toAegisPause, toAegisSession } from './convert.js';
import type {
  AcpActionQueue,
  AcpActionRecord,
  AcpEventRecord,
  AcpEventStore,
  AcpJson,
  AcpLocalStorageProfile,
  AcpPauseInterventionStore,
  AcpPauseRecord,
  AcpScope,
  AcpSessionRecord,
  AcpSessionStatus,
  AcpSessionStore,
  AegisErrorClasses,
  ServiceHealth,
} from './types.js';
import { fitWarnings, wellFormed, wellFormedJson, wellFormedMap, wellFormedOpt } from './text.js';
import { Checks } from './validate.js';

export interface AcpstoreProfileOptions {
  /** acpstore's base URL, e.g. http://127.0.0.1:7700 */
  baseUrl: string;
  /** A `service` key's token (acpstore keys create --role service). */
  token: string;
  /** Aegis's own error classes, so callers' `instanceof` checks hold. */
  errors: AegisErrorClasses;
  /** Per-request timeout; default 30000 ms. */
  timeoutMs?: number;
  /** The client's cap of one answer (and SSE frame); default 256 MiB. */
  maxResponseBytes?: number;
  /** Timeout of the health() probe; default 2000 ms. */
  healthTimeoutMs?: number;
  /**
   * Append with `Prefer: return=minimal` and rebuild the record from what
   * was sent (default true); false asks acpstore to echo every event.
   */
  minimalAppends?: boolean;
  /**
   * The owner key of session `sessionId` of tenant `tenantId`, or undefined
   * when unknown (e.g. from Aegis's session manager). The pause store needs
   * it when Aegis calls it in another scope than the session owner's (an
   * admin's: Aegis's routes allow it). Without it, the profile knows the
   * owners of the sessions it has read or written since it started.
   */
  sessionOwner?: (sessionId: string, tenantId: string) => string | null | undefined | Promise<string | null | undefined>;
  /** Accepted for a one-line switch from Aegis's file profile; ignored. */

  filePath?: string;
  persistDebounceMs?: number;
  maxEventsPerSession?: number;
  fetch?: typeof fetch;
}

/**
 * A pause the profile records for a scope that does not own the session (an
 * admin's) carries that scope's owner key in its metadata under this key:
 * acpstore keeps a session's pause records in its owner's scope, Aegis's
 * store in the requesting scope, where only that scope finds it again.
 */
const REQUESTER_KEY = 'aegisRequesterKeyId';

/** Bound of the profile's table of session owners (least recently seen dropped first). */
const MAX_KNOWN_OWNERS = 100_000;

/** Bound of the profile's table of the pauses it recorded for other scopes (same rule). */
const MAX_KNOWN_REQUESTED = 100_000;

/** Sets `k` in `m` as its most recent key, dropping the least recent past `max`. */
function setRecent<V>(m: Map<string, V>, k: string, v: V, max: number): void {
  m.delete(k);
  m.set(k, v);
  if (m.size > max) {
    const oldest = m.keys().next();
    if (oldest.done !== true) m.delete(oldest.value);
  }
}

/** acpstore's bounds of a lease (leaseAction's leaseMs). */
const MIN_LEASE_MS = 1000;
const MAX_LEASE_MS = 3_600_000;

const ACTION_TYPES = new Set(['prompt', 'approve', 'reject', 'pause', 'resume', 'cancel', 'driver_transfer', 'intervene', 'close']);

/**
 * False for the ids "." and "..": acpstore refuses to create such a session
 * or action (SPEC §2.5), and no request can name one in its URL path (dot
 * segments are removed, %2E too), so the client throws a TypeError for them.
 * To Aegis they are ids that cannot exist: reads find nothing, changes
 * return null, and writes that would create one are validation failures.
 */
function addressable(id: unknown): boolean {
  return id !== '.' && id !== '..';
}

function unaddressable(c: Checks, name: string, id: string): Error {
  return c.invalid(`ACP ${name} "${id}" cannot be stored: acpstore refuses the ids "." and ".." (a URL path cannot name them)`);
}

function isCode(e: unknown, ...codes: string[]): e is AcpstoreError {
  return e instanceof AcpstoreError && codes.includes(e.code);
}

export function createAcpstoreProfile(options: AcpstoreProfileOptions): AcpLocalStorageProfile {
  return new AcpstoreProfile(options);
}

class AcpstoreProfile implements AcpLocalStorageProfile {
  readonly sessionStore: AcpSessionStore;
  readonly eventStore: AcpEventStore;
  readonly actionQueue: AcpActionQueue;
  readonly pauseInterventionStore: AcpPauseInterventionStore;

  readonly #root: AcpstoreClient;
  readonly #check: Checks;
  readonly #healthTimeoutMs: number;
  readonly #minimalAppends: boolean;
  #started = false;
  #starting: Promise<void> | undefined;
  /** Bumped by stop(): a start() begun before it must not start the profile. */
  #lifecycle = 0;
  #persistError: Error | null = null;
  /** Per session: the tail of its append chain (seq order = call order). */
  readonly #appendTails = new Map<string, Promise<unknown>>();
  /** Lease tokens of the actions this process leased. */
  readonly #leaseTokens = new Map<string, string>();
  /** tenant + session id -> owner key of the sessions this process has seen. */
  readonly #owners = new Map<string, string>();
  /**
   * tenant + requesting owner key + session id -> the newest pause record
   * (as acpstore returned it) that the profile made for that scope, which
   * does not own the session (REQUESTER_KEY). acpstore answers only a
   * session's active-else-latest pause, so once another scope paused the
   * session later, this is how getLatest finds the requester's own.
   */
  readonly #requested = new Map<string, Pause>();
  readonly #sessionOwner: AcpstoreProfileOptions['sessionOwner'];

  constructor(o: AcpstoreProfileOptions) {
    this.#root = new AcpstoreClient({
      baseUrl: o.baseUrl,
      token: o.token,
      ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
      ...(o.fetch === undefined ? {} : { fetch: o.fetch }),
      ...(o.maxResponseBytes === undefined ? {} : { maxResponseBytes: o.maxResponseBytes }),
    });
    this.#check = new Checks(o.errors);
    this.#healthTimeoutMs = o.healthTimeoutMs ?? 2000;
    this.#minimalAppends = o.minimalAppends ?? true;
    this.#sessionOwner = o.sessionOwner;
    this.sessionStore = this.#sessionStore();
    this.eventStore = this.#eventStore();
    this.actionQueue = this.#actionQueue();
    this.pauseInterventionStore = this.#pauseStore();
  }

  // ----------------------------------------------------------- lifecycle

  /**
   * Idempotent: checks that acpstore answers at baseUrl and that the token
   * is a service key it accepts.
   */
  async start(): Promise<void> {
    if (this.#started) return;
    if (this.#starting === undefined) {
      const lifecycle = this.#lifecycle;
      const starting: Promise<void> = (async () => {
        await this.#probeServiceKey();
        // A stop() while the probe ran wins: the caller asked for a stopped profile last.
        if (this.#lifecycle === lifecycle) this.#started = true;
      })().finally(() => {
        if (this.#starting === starting) this.#starting = undefined;
      });
      this.#starting = starting;
    }
    return this.#starting;
  }

  /**
   * One request without X-Acpstore-Scope: acpstore refuses it from a service
   * key, and only from one, with 400 and field "X-Acpstore-Scope"
   * (docs/http_api.md, "Service keys"); a reader, writer or admin key gets
   * its listing, a bad token 401, a wrong base URL some other answer. No
   * tenant is named, so a key limited to some tenants passes too.
   */
  async #probeServiceKey(): Promise<void> {
    const fail = (why: string, cause?: unknown): Error =>
      new Error(`acpstore profile: start failed: ${why}`, cause === undefined ? undefined : { cause });
    try {
      await this.#root.listSessions({ limit: 1 });
    } catch (e) {
      if (isCode(e, 'invalid_argument') && e.status === 400 && e.field === 'X-Acpstore-Scope') return;
      if (!(e instanceof AcpstoreError)) throw fail((e as Error).message, e);
      if (e.isTransport) throw fail(`acpstore at ${this.#root.baseUrl} did not answer: ${e.message}`, e);
      if (e.status === 401) throw fail(`acpstore refused the token (401 ${e.code}): ${e.message}`, e);
      throw fail(
        `${this.#root.baseUrl} did not answer as acpstore does to a service key (HTTP ${e.status} ${e.code}: ${e.message}); ` +
          'is the base URL right?',
        e,
      );
    }
    throw fail('the token is not a service key: acpstore accepted a request that names no scope ' +
      '(make one with `acpstore keys create --role service`)');
  }

  /** Waits for the appends in flight (or the signal); never throws. */
  async stop(signal?: AbortSignal): Promise<void> {
    if (!this.#started && this.#starting === undefined) return;
    ++this.#lifecycle;
    this.#starting = undefined;
    this.#started = false;
    try {
      const pending = Promise.allSettled([...this.#appendTails.values()]);
      if (signal === undefined) {
        await pending;
      } else if (!signal.aborted) {
        // The caller's signal may outlive many stop() calls: the listener
        // goes when stop() returns, whichever way.
        let onAbort = (): void => undefined;
        const aborted = new Promise<void>((resolve) => {
          onAbort = resolve;
          signal.addEventListener('abort', onAbort, { once: true });
        });
        try {
          await Promise.race([pending, aborted]);
        } finally {
          signal.removeEventListener('abort', onAbort);
        }
      }
    } catch {
      // stop() never throws.
    }
  }

  async health(): Promise<ServiceHealth> {
    if (!this.#started) return { healthy: false, details: 'acpstore profile has not been started' };
    if (this.#persistError !== null) {
      return { healthy: false, details: `persist error: ${this.#persistError.message}` };
    }
    try {
      const r = await this.#root.readyz({ signal: AbortSignal.timeout(this.#healthTimeoutMs) });
      if (!r.ready) return { healthy: false, details: `acpstore not ready: ${r.body.reason ?? r.body.code ?? 'no reason given'}` };
      return { healthy: true };
    } catch (e) {
      return { healthy: false, details: `acpstore unreachable: ${(e as Error).message}` };
    }
  }

  getPersistError(): Error | null {
    return this.#persistError;
  }

  // ------------------------------------------------------------- helpers

  #as(scope: Scope): AcpstoreClient {
    return this.#root.withScope(scope);
  }

  /**
   * Records for getPersistError the write failures that are not about the
   * data: transport, 5xx, the key refused (401: revoked; 403), and "not
   * now" still answered after the client's retries (429, 408): the write
   * was given up on. Aegis does not await its appends, so this is all it
   * learns of them.
   */
  async #write<T>(fn: () => Promise<T>): Promise<T> {
    try {
      const r = await fn();
      this.#persistError = null;
      return r;
    } catch (e) {
      if (e instanceof AcpstoreError && (e.status === 0 || [401, 403, 408, 429].includes(e.status) || e.status >= 500)) {
        this.#persistError = e;
      }
      throw e;
    }
  }

  /** 400/413 from acpstore become Aegis's validation error. */
  #mapInvalid(e: unknown): unknown {
    if (isCode(e, 'invalid_argument', 'payload_too_large')) return this.#check.invalid(`ACP ${e.message}`);
    return e;
  }

  /**
   * Aegis's event stream, actions and pauses need no session row; acpstore's
   * do. On 404 the session is created in `client`'s scope (the caller's, or
   * for a pause the session owner's); a 409 means the id is taken in another
   * scope of the tenant.
   */
  async #withSession<T>(client: AcpstoreClient, sessionId: string, what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (!isCode(e, 'not_found') || e.details['sessionId'] === undefined) throw e;
    }
    try {
      await client.createSession({ id: sessionId });
    } catch (e) {
      if (!isCode(e, 'conflict')) throw e;
      // Created meanwhile by a concurrent call in this scope, or taken in another.
      try {
        await client.getSession(sessionId);
      } catch {
        // Session ids are unique per tenant: another owner of the tenant
        // has it. For a pause that is an admin's call the profile could
        // make in the owner's scope, had it known the owner (#otherOwner);
        // acpstore does not tell a service key whose a session is.
        const hint = what === 'pause'
          ? ' (another owner of the tenant has it, and the profile does not know which: pass the sessionOwner option)'
          : '';
        throw new Error(`ACP ${what} session scope does not match existing event stream: ${sessionId}${hint}`);
      }
    }
    return fn();
  }

  /** Notes who owns a session, from a record acpstore returned or a call it accepted. */
  #learn(tenantId: string, ownerKeyId: string, sessionId: string): void {
    setRecent(this.#owners, `${tenantId}\u0000${sessionId}`, ownerKeyId, MAX_KNOWN_OWNERS);
  }

  /** Notes a pause record made for a scope that does not own the session, if newer than the one known. */
  #noteRequested(p: Pause): void {
    const requester = p.metadata?.[REQUESTER_KEY];
    if (typeof requester !== 'string') return;
    const k = `${p.tenantId}\u0000${requester}\u0000${p.sessionId}`;
    const known = this.#requested.get(k);
    if (known !== undefined && known.pauseId !== p.pauseId && Date.parse(known.requestedAt) > Date.parse(p.requestedAt)) return;
    setRecent(this.#requested, k, p, MAX_KNOWN_REQUESTED);
  }

  /**
   * getLatest for scope `s`, which does not own the session, when the
   * session's current pause (`current`, in the owner's scope `owner`) is
   * another scope's: `s`'s own newest record, as in Aegis's store, which
   * keeps each scope's records apart. Only one pause of a session is active
   * at a time, so `s`'s is then resumed, and a resumed record never changes;
   * null when the profile knows none (it made none since it started), when
   * the one it knows is not resumed (another process resumed it since: its
   * resume is unknown here) or when the session was made anew after it.
   */
  async #requestedLatest(s: AcpScope, owner: AcpScope, sessionId: string, current: Pause): Promise<AcpPauseRecord | null> {
    const k = `${s.tenantId}\u0000${s.ownerKeyId}\u0000${sessionId}`;
    const known = this.#requested.get(k);
    if (known === undefined || known.pauseId === current.pauseId || known.status !== 'resumed') return null;
    const session = await this.#as(owner).getSession(sessionId);
    if (Date.parse(session.createdAt) > Date.parse(known.requestedAt)) {
      this.#requested.delete(k);
      return null;
    }
    return this.#pauseFor(s, known);
  }

  /**
   * The scope of the session's owner when it is known and is not `s`'s
   * owner, in `s`'s tenant only. Session ids are unique per tenant, so the
   * session is then not in `s`.
   */
  async #otherOwner(s: AcpScope, sessionId: string): Promise<AcpScope | undefined> {
    let owner: string | null | undefined = this.#owners.get(`${s.tenantId}\u0000${sessionId}`);
    if (owner === undefined && this.#sessionOwner !== undefined) owner = await this.#sessionOwner(sessionId, s.tenantId);
    if (typeof owner !== 'string' || owner === '' || owner === s.ownerKeyId) return undefined;
    return { tenantId: s.tenantId, ownerKeyId: owner };
  }

  /** Whether the session is in `scope` (its owner's); a 404 says it is not. */
  async #sessionIn(scope: AcpScope, sessionId: string): Promise<boolean> {
    try {
      await this.#as(scope).getSession(sessionId);
      return true;
    } catch (e) {
      if (isCode(e, 'not_found')) return false;
      throw e;
    }
  }

  /**
   * Runs `fn` in the scope of the session's owner, `owner` (undefined: `s`
   * owns it, or the owner is unknown; see #otherOwner). An owner from the
   * profile's table may be stale: the session deleted, and its id made anew
   * by another owner (acpstore deletes a session with everything it holds,
   * and does not tell the profile). When `fn` then finds no session there
   * (404 naming it) and a read confirms it is not in that scope, the entry
   * is dropped and `fn` runs once more with the owner resolved again (the
   * sessionOwner option, else none). `mayCreate` is false for the run in a
   * scope taken from the table: it must not make the session row there.
   */
  async #inOwnerScope<T>(
    s: AcpScope,
    sessionId: string,
    fn: (owner: AcpScope | undefined, mayCreate: boolean) => Promise<T>,
  ): Promise<T> {
    const k = `${s.tenantId}\u0000${sessionId}`;
    const known = this.#owners.get(k);
    const owner = await this.#otherOwner(s, sessionId);
    if (known === undefined) return fn(owner, true);
    try {
      return await fn(owner, false);
    } catch (e) {
      if (!isCode(e, 'not_found') || e.details['sessionId'] === undefined) throw e;
      if (await this.#sessionIn(owner ?? s, sessionId)) throw e; // the owner is right
    }
    if (this.#owners.get(k) === known) this.#owners.delete(k);
    return fn(await this.#otherOwner(s, sessionId), true);
  }

  // ------------------------------------------------------------ sessions

  #sessionStore(): AcpSessionStore {
    return {
      create: async (record: AcpSessionRecord): Promise<void> => {
        const client = this.#as({ tenantId: record.tenantId, ownerKeyId: record.ownerKeyId });
        const body = {
          id: record.id,
          conversationId: record.conversationId,
          transcriptId: record.transcriptId,
          parentSessionId: record.parentSessionId,
          rootSessionId: record.rootSessionId,
          correlationId: record.correlationId,
          resumeFromSessionId: record.resumeFromSessionId,
          acpAgentSessionId: record.acpAgentSessionId,
          claudeSessionId: record.claudeSessionId,
          currentBackendRunId: record.currentBackendRunId,
          backendMetadata: wellFormedMap(record.backendMetadata),
          validationWarnings: fitWarnings(record.validationWarnings),
        };
        // Aegis's own creation time; acpstore refuses one more than 60 s
        // ahead of its clock, and then its clock is used instead.
        const createdAt = Number.isFinite(record.createdAt) ? new Date(record.createdAt).toISOString() : undefined;
        const send = (withTime: boolean) =>
          this.#write(() =>
            client.createSession(
              JSON.parse(JSON.stringify(withTime && createdAt !== undefined ? { ...body, createdAt } : body)) as typeof body,
            ),
          );
        let created;
        try {
          try {
            created = await send(true);
          } catch (e) {
            if (!(isCode(e, 'invalid_argument') && e.field === 'createdAt')) throw e;
            created = await send(false);
          }
        } catch (e) {
          if (isCode(e, 'conflict')) throw this.#check.identity(`ACP session already exists: ${record.id}`);
          throw this.#mapInvalid(e);
        }
        this.#learn(created.tenantId, created.ownerKeyId, created.id);
        if (record.status !== undefined && record.status !== created.status) {
          await this.#patch(client, record.id, { status: record.status }, created.status);
        }
      },

      get: async (id: string, scope: AcpScope): Promise<AcpSessionRecord | null> => {
        const s = this.#check.scope(scope);
        if (typeof id !== 'string' || id === '' || !addressable(id)) return null;
        try {
          const got = await this.#as(s).getSession(id);
          this.#learn(got.tenantId, got.ownerKeyId, got.id);
          return toAegisSession(got);
        } catch (e) {
          if (isCode(e, 'not_found', 'invalid_argument')) return null;
          throw e;
        }
      },

      update: async (record: AcpSessionRecord, scope: AcpScope): Promise<AcpSessionRecord | null> => {
        const s = this.#check.scope(scope);
        if (record.tenantId !== s.tenantId || record.ownerKeyId !== s.ownerKeyId) {
          throw new Error('ACP session update record scope does not match requested scope');
        }
        if (!addressable(record.id)) return null;
        const client = this.#as(s);
        // Aegis copies these fields (an undefined value clears one) and the
        // status; acpstore reaches the status by its one lifecycle event, in
        // the same mutation (PATCH status, SPEC §5.1).
        const patch = {
          acpAgentSessionId: record.acpAgentSessionId ?? null,
          claudeSessionId: record.claudeSessionId ?? null,
          currentBackendRunId: record.currentBackendRunId ?? null,
          backendMetadata: wellFormedMap(record.backendMetadata) ?? null,
          validationWarnings: fitWarnings(record.validationWarnings) ?? [],
          ...(record.status === undefined ? {} : { status: record.status }),
        };
        return this.#patch(client, record.id, patch);
      },

      list: async (input): Promise<AcpSessionRecord[]> => {
        const s = this.#check.scope(input);
        const limit = this.#check.limit(input.limit);
        if (input.statuses !== undefined && input.statuses.length === 0) return [];
        const after = input.updatedAfter;
        const page = await this.#as(s).listSessions({
          limit,
          ...(input.statuses === undefined ? {} : { status: input.statuses }),
          ...(after === undefined ? {} : { updatedAfter: new Date(after instanceof Date ? after.getTime() : after) }),
        });
        for (const x of page.sessions) this.#learn(x.tenantId, x.ownerKeyId, x.id);
        return page.sessions.map(toAegisSession);
      },
    };
  }

  /** PATCH; null when the session is not in scope. */
  async #patch(
    client: AcpstoreClient,
    id: string,
    patch: SessionPatch,
    from?: AcpSessionStatus,
  ): Promise<AcpSessionRecord | null> {
    try {
      const updated = await this.#write(() => client.updateSession(id, patch));
      this.#learn(updated.tenantId, updated.ownerKeyId, updated.id);
      return toAegisSession(updated);
    } catch (e) {
      if (isCode(e, 'not_found')) return null;
      if (isCode(e, 'invalid_transition')) {
        const current = typeof e.details['status'] === 'string' ? e.details['status'] : from;
        throw new Error(`ACP session status cannot change from ${String(current)} to ${String(patch.status)}: ${e.message}`);
      }
      throw this.#mapInvalid(e);
    }
  }

  // -------------------------------------------------------------- events

  #eventStore(): AcpEventStore {
    return {
      append: (input) => {
        // Validation runs synchronously, before the call is queued.
        let client: AcpstoreClient;
        let body: { eventType: string; payload: never; occurredAt: string; backendRunId?: string; payloadRef?: string };
        try {
          const c = this.#check;
          c.nonEmpty(input?.sessionId, 'sessionId');
          if (!addressable(input.sessionId)) throw unaddressable(c, 'sessionId', input.sessionId);
          const s = c.scope(input);
          c.optionalNonEmpty(input.backendRunId, 'backendRunId');
          c.nonEmpty(input.eventType, 'eventType');
          const occurredAt = c.optionalDate(input.occurredAt, 'occurredAt');
          if (input.payload === undefined) throw c.invalid('ACP payload must be plain JSON (got undefined)');
          c.plainJson(input.payload, 'payload');
          c.optionalNonEmpty(input.payloadRef, 'payloadRef');
          client = this.#as(s);
          body = {
            // Lone surrogates become U+FFFD (text.ts): acpstore refuses them,
            // and Aegis, which does not await append, would lose the event.
            eventType: wellFormed(input.eventType),
            payload: wellFormedJson(input.payload) as never,
            // Always sent (Aegis's default is its own clock, now), so the
            // record can be rebuilt from the minimal answer below.
            occurredAt: (occurredAt ?? new Date()).toISOString(),
            ...(input.backendRunId === undefined ? {} : { backendRunId: input.backendRunId }),
            ...(input.payloadRef === undefined ? {} : { payloadRef: input.payloadRef }),
          };
        } catch (e) {
          return Promise.reject(e instanceof Error ? e : new Error(String(e)));
        }
        const sessionId = input.sessionId;
        const prev = this.#appendTails.get(sessionId) ?? Promise.resolve();
        // The payload as the store keeps it: canonical JSON, key order kept.
        // body.payload is already a fresh copy, used by nothing else once sent.
        const stored = body.payload as AcpJson;
        const scope = { tenantId: input.tenantId, ownerKeyId: input.ownerKeyId };
        const run = async (): Promise<AcpEventRecord> => {
          try {
            // return=minimal: the event is not echoed; everything else of the
            // record is what was sent (a server without it echoes in full).
            const r = await this.#write(() =>
              this.#withSession(client, sessionId, 'event append', () =>
                this.#minimalAppends
                  ? client.appendEvent(sessionId, body, { minimal: true })
                  : client.appendEvent(sessionId, body),
              ),
            );
            this.#learn(scope.tenantId, scope.ownerKeyId, sessionId);
            if ('payload' in r.value) return toAegisEvent(r.value as Event);
            const rec: AcpEventRecord = {
              eventId: r.value.eventId,
              sessionId,
              ...scope,
              eventSeq: r.value.eventSeq,
              eventType: body.eventType,
              occurredAt: new Date(Date.parse(body.occurredAt)),
              ingestedAt: new Date(Date.parse(r.value.ingestedAt)),
              payload: stored,
            };
            if (body.backendRunId !== undefined) rec.backendRunId = body.backendRunId;
            if (body.payloadRef !== undefined) rec.payloadRef = body.payloadRef;
            return rec;
          } catch (e) {
            throw this.#mapInvalid(e);
          }
        };
        const next = prev.then(run, run);
        const tail = next.catch(() => undefined);
        this.#appendTails.set(sessionId, tail);
        void tail.then(() => {
          if (this.#appendTails.get(sessionId) === tail) this.#appendTails.delete(sessionId);
        });
        return next;
      },

      list: async (input) => {
        const c = this.#check;
        const s = c.scope(input);
        const sessionId = c.nonEmpty(input.sessionId, 'sessionId');
        const after = input.afterEventSeq ?? 0;
        if (!Number.isSafeInteger(after) || after < 0) {
          throw c.invalid('ACP afterEventSeq must be a non-negative integer');
        }
        const limit = c.limit(input.limit);
        if (!addressable(sessionId)) return [];
        try {
          // A page stops at the server's --max-page-bytes, short of
          // `limit` before the end; Aegis's list returns `limit` events
          // unless the stream ends, so page on until it does.
          const client = this.#as(s);
          const events: Event[] = [];
          let from = after;
          for (;;) {
            const page = await client.listEvents(sessionId, { after: from, limit: limit - events.length });
            this.#learn(s.tenantId, s.ownerKeyId, sessionId);
            events.push(...page.events);
            const last = page.events.at(-1)?.eventSeq;
            if (last === undefined || events.length >= limit || last >= page.lastSeq) break;
            from = last;
          }
          return events.map(toAegisEvent);
        } catch (e) {
          if (isCode(e, 'not_found')) return [];
          throw e;
        }
      },
    };
  }

  // ------------------------------------------------------------- actions

  #actionQueue(): AcpActionQueue {
    const c = this.#check;
    const finish = async (
      kind: 'complete' | 'fail',
      actionId: string,
      scope: AcpScope,
      options: { now?: Date; resultMetadata?: unknown; errorMetadata?: unknown } = {},
    ): Promise<AcpActionRecord | null> => {
      const meta = c.metadata(kind === 'complete' ? options.resultMetadata : options.errorMetadata, kind === 'complete' ? 'resultMetadata' : 'errorMetadata');
      c.nonEmpty(actionId, 'actionId');
      const s = c.scope(scope);
      c.optionalDate(options.now, 'now');
      if (!addressable(actionId)) return null;
      const client = this.#as(s);
      const send = (claim: { leaseToken: string } | { attemptCount: number }): Promise<Action> =>
        this.#write(() =>
          kind === 'complete'
            ? client.completeAction(actionId, { ...claim, ...(meta === undefined ? {} : { resultMetadata: meta }) })
            : client.failAction(actionId, { ...claim, ...(meta === undefined ? {} : { errorMetadata: meta }) }),
        );
      // Aegis has no lease ownership: any process may end any leased action.
      // The token of a lease this process took is the normal proof; without
      // one (leased elsewhere, or before a restart), or when it went stale,
      // the lease is named by its current attempt number (service keys).
      const byAttempt = async (): Promise<AcpActionRecord | null> => {
        let current: Action;
        try {
          current = await client.getAction(actionId);
        } catch (e) {
          if (isCode(e, 'not_found')) return null;
          throw e;
        }
        if (current.status !== 'leased') return null;
        try {
          return toAegisAction(await send({ attemptCount: current.attemptCount }));
        } catch (e) {
          if (isCode(e, 'stale_lease', 'not_found')) return null;
          throw this.#mapInvalid(e);
        }
      };
      const token = this.#leaseTokens.get(actionId);
      this.#leaseTokens.delete(actionId);
      if (token === undefined) return byAttempt();
      try {
        return toAegisAction(await send({ leaseToken: token }));
      } catch (e) {
        if (isCode(e, 'stale_lease')) return byAttempt();
        if (isCode(e, 'not_found')) return null;
        throw this.#mapInvalid(e);
      }
    };
    return {
      enqueue: async (input, options = {}) => {
        if (Object.prototype.hasOwnProperty.call(input, 'jsonRpcRequestId')) {
          throw c.identity('ACP control action must not carry a jsonRpcRequestId');
        }
        const s = c.scope(input);
        c.nonEmpty(input.sessionId, 'sessionId');
        c.nonEmpty(input.actionId, 'actionId');
        if (!ACTION_TYPES.has(input.type)) throw c.invalid(`ACP action type is not supported: ${String(input.type)}`);
        c.optionalNonEmpty(input.idempotencyKey, 'idempotencyKey');
        c.optionalNonEmpty(input.approvalId, 'approvalId');
        c.optionalNonEmpty(input.controlRequestId, 'controlRequestId');
        const metadata = c.metadata(input.metadata, 'metadata') ?? {};
        const ids = [s.tenantId, s.ownerKeyId, input.sessionId, input.actionId, input.approvalId, input.controlRequestId].filter(
          (x): x is string => x !== undefined,
        );
        if (new Set(ids).size !== ids.length) throw c.identity('ACP control action identity values must be distinct');
        const availableAt = c.optionalDate(options.availableAt, 'availableAt');
        const client = this.#as(s);
        const body = {
          actionId: input.actionId,
          sessionId: input.sessionId,
          type: input.type,
          metadata,
          ...(input.idempotencyKey === undefined ? {} : { idempotencyKey: input.idempotencyKey }),
          ...(input.approvalId === undefined ? {} : { approvalId: input.approvalId }),
          ...(input.controlRequestId === undefined ? {} : { controlRequestId: input.controlRequestId }),
          ...(availableAt === undefined ? {} : { availableAt: availableAt.toISOString() }),
        };
        try {
          const r = await this.#write(() =>
            this.#withSession(client, input.sessionId, 'action enqueue', () => client.enqueueAction(body)),
          );
          this.#learn(r.value.tenantId, r.value.ownerKeyId, r.value.sessionId);
          return toAegisAction(r.value);
        } catch (e) {
          if (isCode(e, 'idempotency_conflict') && input.idempotencyKey !== undefined) {
            // Aegis returns the existing row unchanged, whatever the new content.
            const existing = await this.#findByKey(client, input.sessionId, input.idempotencyKey);
            if (existing !== null) return toAegisAction(existing);
          }
          if (isCode(e, 'conflict')) throw c.identity(`ACP action already exists: ${input.actionId}`);
          throw this.#mapInvalid(e);
        }
      },

      leaseNext: async (scope, options) => {
        const s = c.scope(scope);
        const now = c.optionalDate(options?.now, 'now') ?? new Date();
        const until = c.optionalDate(options?.leaseUntil, 'leaseUntil');
        if (until === undefined) throw c.invalid('ACP leaseUntil must be a valid Date');
        if (until.getTime() <= now.getTime()) throw c.invalid('ACP leaseUntil must be after now');
        // acpstore leases for 1 s to 1 h (docs/http_api.md, leaseAction).
        // A shorter lease would end while the worker still works, and another
        // worker could lease the action: refused. A longer one is safe, so a
        // lease under 1 s lasts 1 s.
        const asked = until.getTime() - now.getTime();
        if (asked > MAX_LEASE_MS) {
          throw c.invalid(
            `ACP leaseUntil must be at most ${MAX_LEASE_MS} ms (1 h) after now: acpstore does not lease for longer ` +
              `(asked ${asked} ms)`,
          );
        }
        const leaseMs = Math.max(MIN_LEASE_MS, asked);
        const a = await this.#write(() => this.#as(s).leaseAction({ leaseMs }));
        if (a === null) return null;
        if (a.leaseToken !== undefined) this.#leaseTokens.set(a.actionId, a.leaseToken);
        return toAegisAction(a);
      },

      complete: (id, scope, options) => finish('complete', id, scope, options),
      fail: (id, scope, options) => finish('fail', id, scope, options),

      cancel: async (actionId, scope, options = {}) => {
        const meta = c.metadata(options.errorMetadata, 'errorMetadata');
        c.nonEmpty(actionId, 'actionId');
        const s = c.scope(scope);
        c.optionalDate(options.now, 'now');
        if (!addressable(actionId)) return null;
        try {
          const a = await this.#write(() =>
            this.#as(s).cancelAction(actionId, meta === undefined ? {} : { errorMetadata: meta }),
          );
          this.#leaseTokens.delete(actionId);
          return toAegisAction(a);
        } catch (e) {
          if (isCode(e, 'invalid_transition', 'not_found')) return null;
          throw this.#mapInvalid(e);
        }
      },

      // acpstore sweeps expired leases itself (SPEC §2.3): requeued with
      // backoff, failed with reason lease_expired after the last attempt.
      // A global sweep across scopes is not something a service key may do.
      sweepOrphanedActions: (now?: Date) => {
        try {
          c.optionalDate(now, 'now');
        } catch (e) {
          return Promise.reject(e instanceof Error ? e : new Error(String(e)));
        }
        return Promise.resolve([]);
      },
    };
  }

  async #findByKey(client: AcpstoreClient, sessionId: string, key: string): Promise<Action | null> {
    let cursor: string | undefined;
    do {
      const page = await client.listActions({ sessionId, limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
      const hit = page.actions.find((a) => a.idempotencyKey === key);
      if (hit !== undefined) return hit;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    return null;
  }

  // -------------------------------------------------------------- pauses

  /**
   * acpstore pauses only a running session; Aegis's store pauses any. A
   * session still `initializing` (the row the profile made for a session
   * Aegis has no record of, a legacy one, including one a failed pause left
   * behind) is started first (`run_started`), so the pause, and any retry of
   * it, succeeds.
   */
  async #pauseRunning(client: AcpstoreClient, sessionId: string, body: PauseSessionBody): Promise<Created<PauseSessionResponse>> {
    try {
      return await client.pauseSession(sessionId, body);
    } catch (e) {
      if (!(isCode(e, 'invalid_transition') && e.details['status'] === 'initializing')) throw e;
    }
    try {
      await client.transitionSession(sessionId, 'run_started');
    } catch (e) {
      // Started (or moved on) meanwhile by another call: the pause says which.
      if (!isCode(e, 'invalid_transition')) throw e;
    }
    return client.pauseSession(sessionId, body);
  }

  /**
   * A pause record as Aegis's store returns it: in the scope of the call
   * (the record's own, unless that scope does not own the session), without
   * the profile's REQUESTER_KEY.
   */
  #pauseFor(s: AcpScope, p: Pause): AcpPauseRecord {
    this.#learn(p.tenantId, p.ownerKeyId, p.sessionId);
    this.#noteRequested(p);
    const r = toAegisPause(p);
    r.tenantId = s.tenantId;
    r.ownerKeyId = s.ownerKeyId;
    if (r.metadata !== undefined && REQUESTER_KEY in r.metadata) {
      const { [REQUESTER_KEY]: _requester, ...rest } = r.metadata;
      if (Object.keys(rest).length === 0) delete r.metadata;
      else r.metadata = rest;
    }
    return r;
  }

  #pauseStore(): AcpPauseInterventionStore {
    const c = this.#check;
    // Aegis's routes call the pause store with the requesting key's scope,
    // also when an admin acts on another owner's session (AEGIS-V1), and
    // Aegis's store keeps the record in that scope. acpstore keeps it in the
    // session owner's scope, so for a scope that does not own the session
    // the profile acts in the owner's (same tenant only; the owner comes
    // from #otherOwner) and marks the pause with REQUESTER_KEY: that scope
    // then finds, intervenes on and resumes only the pauses it asked for,
    // and any other scope finds nothing, as with Aegis's store. Which keys
    // may act on whose sessions is Aegis's routes' check, made before the
    // store is called, as with Aegis's own store.
    const asked = (s: AcpScope, p: Pause): boolean => p.metadata?.[REQUESTER_KEY] === s.ownerKeyId;
    // getActive (latest: false) and getLatest (true).
    const read = async (sessionId: string, scope: AcpScope, latest: boolean): Promise<AcpPauseRecord | null> => {
      const s = c.scope(scope);
      if (typeof sessionId !== 'string' || sessionId === '' || !addressable(sessionId)) return null;
      try {
        return await this.#inOwnerScope(s, sessionId, async (owner) => {
          const p = await this.#as(owner ?? s).getPause(sessionId);
          if (owner === undefined || asked(s, p)) return this.#pauseFor(s, p);
          this.#noteRequested(p);
          return latest ? await this.#requestedLatest(s, owner, sessionId, p) : null;
        });
      } catch (e) {
        if (isCode(e, 'not_found', 'invalid_argument')) return null;
        throw e;
      }
    };
    // startIntervention, completeIntervention, resume: null when acpstore
    // finds no pause to change, as Aegis's store returns null.
    const change = async (
      s: AcpScope,
      sessionId: string,
      fn: (client: AcpstoreClient) => Promise<PauseSessionResponse>,
    ): Promise<AcpPauseRecord | null> => {
      if (!addressable(sessionId)) return null;
      try {
        return await this.#inOwnerScope(s, sessionId, async (owner) => {
          if (owner !== undefined) {
            const active = await this.#as(owner).getPause(sessionId);
            this.#noteRequested(active);
            if (active.status === 'resumed' || !asked(s, active)) return null;
          }
          return this.#pauseFor(s, (await this.#write(() => fn(this.#as(owner ?? s)))).pause);
        });
      } catch (e) {
        if (isCode(e, 'not_paused', 'not_found', 'invalid_transition')) return null;
        throw this.#mapInvalid(e);
      }
    };
    return {
      pause: async (input) => {
        const s = c.scope(input);
        const metadata = c.metadata(input.metadata, 'metadata');
        const sessionId = input.sessionId;
        if (!addressable(sessionId)) throw unaddressable(c, 'sessionId', sessionId);
        try {
          return await this.#inOwnerScope(s, sessionId, async (owner, mayCreate) => {
            const meta = owner === undefined ? metadata : { ...metadata, [REQUESTER_KEY]: s.ownerKeyId };
            const body: PauseSessionBody = {
              ...(input.pauseId === undefined ? {} : { pauseId: input.pauseId }),
              reason: wellFormedOpt(input.reason),
              requestedBy: wellFormedOpt(input.requestedBy),
              ...(input.idempotencyKey === undefined ? {} : { idempotencyKey: input.idempotencyKey }),
              ...(meta === undefined ? {} : { metadata: meta }),
            };
            const client = this.#as(owner ?? s);
            const run = (): Promise<Created<PauseSessionResponse>> => this.#pauseRunning(client, sessionId, body);
            const r = await this.#write(() => (mayCreate ? this.#withSession(client, sessionId, 'pause', run) : run()));
            return this.#pauseFor(s, r.value.pause);
          });
        } catch (e) {
          if (isCode(e, 'already_paused')) {
            throw c.identity(`ACP pause already active for session: ${input.sessionId}`);
          }
          if (isCode(e, 'conflict') && e.field === 'pauseId') {
            throw c.identity(`ACP pause already exists: ${String(input.pauseId)}`);
          }
          if (isCode(e, 'invalid_transition')) {
            throw new Error(`ACP pause refused for session ${input.sessionId}: ${e.message}`);
          }
          throw this.#mapInvalid(e);
        }
      },
      getActive: async (sessionId, scope) => {
        const p = await read(sessionId, scope, false);
        return p !== null && p.status !== 'resumed' ? p : null;
      },
      getLatest: (sessionId, scope) => read(sessionId, scope, true),
      startIntervention: async (input) => {
        const s = c.scope(input);
        c.optionalDate(input.startedAt, 'startedAt');
        return change(s, input.sessionId, (client) =>
          client.startIntervention(input.sessionId, {
            interventionBy: wellFormedOpt(input.interventionBy),
            interventionId: input.interventionId,
          }),
        );
      },
      completeIntervention: async (input) => {
        const s = c.scope(input);
        c.optionalDate(input.completedAt, 'completedAt');
        return change(s, input.sessionId, (client) =>
          client.completeIntervention(input.sessionId, {
            interventionId: input.interventionId,
            completedBy: wellFormedOpt(input.completedBy),
            ...(input.guidance === undefined ? {} : { guidance: wellFormedOpt(input.guidance) }),
          }),
        );
      },
      resume: async (input) => {
        const s = c.scope(input);
        c.optionalDate(input.resumedAt, 'resumedAt');
        const metadata = c.metadata(input.resumeMetadata, 'resumeMetadata');
        return change(s, input.sessionId, (client) =>
          client.resumeSession(input.sessionId, {
            resumedBy: wellFormedOpt(input.resumedBy),
            resumeId: input.resumeId,
            ...(metadata === undefined ? {} : { metadata }),
          }),
        );
      },
    };
  }
}
