// Contract suite of the Aegis drop-in, written from Aegis's store interfaces
// (the facts in SPEC §11's AEGIS-STORES notes, §2): scope rules, seq order
// of un-awaited appends, list limits, null versus throw, action idempotency
// and lease order, the pause lifecycle, health before and after start. Runs
// against the real server through one service key.

import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { inspect } from 'node:util';

import { createAcpstoreProfile, type AcpLocalStorageProfile, type AcpSessionRecord } from '../src/aegis/index.js';
import { AcpstoreClient, AcpstoreError } from '../src/index.js';
import { AcpstoreServer, waitFor } from './harness.js';

// Stand-ins for Aegis's classes: the profile must throw these very classes.
class AcpValidationError extends Error {}
class AcpDurableIdentityError extends Error {}
const errors = { AcpValidationError, AcpDurableIdentityError };

const A = { tenantId: 'tenant-a', ownerKeyId: 'owner-1' };
const A2 = { tenantId: 'tenant-a', ownerKeyId: 'owner-2' };
const B = { tenantId: 'tenant-b', ownerKeyId: 'owner-1' };

let server: AcpstoreServer;
let profile: AcpLocalStorageProfile;

before(async () => {
  server = await AcpstoreServer.start();
  profile = createAcpstoreProfile({ baseUrl: server.baseUrl, token: server.keys.service, errors });
  await profile.start();
});
after(async () => {
  await profile?.stop();
  await server?.stop();
});

let n = 0;
function sessionRecord(scope: typeof A, over: Partial<AcpSessionRecord> = {}): AcpSessionRecord {
  const now = Date.now();
  ++n;
  return {
    id: `sess-${n}`,
    ...scope,
    conversationId: `conv-${n}`,
    transcriptId: `tr-${n}`,
    status: 'initializing',
    createdAt: now,
    updatedAt: now,
    ...over,
  };
}

async function throwsClass(p: Promise<unknown>, cls: new (...a: never[]) => Error, substring?: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    if (substring !== undefined) assert.ok((e).message.includes(substring), (e).message);
    return true;
  });
}

async function throwsPlain(p: Promise<unknown>, substring: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.ok(!(e instanceof AcpValidationError) && !(e instanceof AcpDurableIdentityError), `not a plain Error: ${String(e)}`);
    assert.ok(e.message.includes(substring), e.message);
    return true;
  });
}

describe('lifecycle', () => {
  test('health: unhealthy before start and after stop; start is idempotent; stop never throws', async () => {
    const p = createAcpstoreProfile({ baseUrl: server.baseUrl, token: server.keys.service, errors, filePath: '/ignored.json' });
    const before = await p.health();
    assert.equal(before.healthy, false);
    assert.match(before.details ?? '', /not been started/);
    await p.stop(); // a no-op before start
    await Promise.all([p.start(), p.start()]);
    await p.start();
    assert.deepEqual(await p.health(), { healthy: true });
    assert.equal(p.getPersistError(), null);
    const aborted = new AbortController();
    aborted.abort();
    await p.stop(aborted.signal);
    assert.equal((await p.health()).healthy, false);
    await p.stop();
  });

  test('stop() while start() is still running wins: the profile ends stopped; a later start() starts it', async () => {
    const q = createAcpstoreProfile({ baseUrl: server.baseUrl, token: server.keys.service, errors });
    const s = q.start();
    await q.stop();
    await s;
    const h = await q.health();
    assert.equal(h.healthy, false, 'stop() returned first, yet the profile is started');
    assert.match(h.details ?? '', /not been started/);
    // A start() after the stop() is a start of its own, even while the
    // stopped one is still running.
    const first = q.start();
    await q.stop();
    const second = q.start();
    await Promise.all([first, second]);
    assert.deepEqual(await q.health(), { healthy: true });
    await q.stop();
  });

  test('stop(signal) leaves no listener on the signal, with or without appends in flight', async () => {
    const q = createAcpstoreProfile({ baseUrl: server.baseUrl, token: server.keys.service, errors });
    // A long-lived signal, passed to every stop().
    const ctl = new AbortController();
    for (let i = 0; i < 3; ++i) {
      await q.start();
      const inFlight = q.eventStore.append({ ...A, sessionId: 'stop-listeners', eventType: 't', payload: i });
      await q.stop(ctl.signal);
      await inFlight;
      await q.start();
      await q.stop(ctl.signal);
    }
    assert.equal(getEventListeners(ctl.signal, 'abort').length, 0);

    // The signal still cuts the wait short for an append that hangs.
    let release = (): void => undefined;
    const released = new Promise<void>((r) => (release = r));
    const refusal = JSON.stringify({ error: { code: 'invalid_argument', message: 'late' } });
    const hanging: typeof fetch = async (input, init) => {
      if (init?.method !== 'POST') return fetch(input, init);
      await released;
      return new Response(refusal, { status: 400, headers: { 'content-type': 'application/json' } });
    };
    const h = createAcpstoreProfile({ baseUrl: server.baseUrl, token: server.keys.service, errors, fetch: hanging });
    await h.start();
    const stuck = h.eventStore.append({ ...A, sessionId: 'stop-hanging', eventType: 't', payload: 1 }).catch(() => undefined);
    const soon = new AbortController();
    setTimeout(() => soon.abort(), 50);
    const t = Date.now();
    await h.stop(soon.signal);
    assert.ok(Date.now() - t < 1500, `stop() waited ${Date.now() - t} ms`);
    assert.equal(getEventListeners(soon.signal, 'abort').length, 0);
    release();
    await stuck;
  });

  test('start fails for a token acpstore refuses', async () => {
    const p = createAcpstoreProfile({ baseUrl: server.baseUrl, token: 'acp_not_a_key', errors });
    await assert.rejects(p.start(), /refused the token/);
    assert.equal((await p.health()).healthy, false);
  });

  test('a malformed token is refused when the profile is made, and no start() error holds the token', async () => {
    const token = server.keys.service;
    assert.throws(
      () => createAcpstoreProfile({ baseUrl: server.baseUrl, token: `${token.slice(0, 12)}\n${token.slice(12)}`, errors }),
      (e: unknown) => e instanceof TypeError && /token must be printable ASCII/.test(e.message) && !inspect(e).includes(token.slice(0, 12)),
    );
    // A fetch whose error quotes the Authorization header (undici's does, for an invalid value).
    const leaky: typeof fetch = (_input, init) =>
      Promise.reject(new TypeError(`"${(init?.headers as Record<string, string>)['authorization'] ?? ''}" is an invalid header value.`));
    const p = createAcpstoreProfile({ baseUrl: server.baseUrl, token, errors, fetch: leaky });
    await assert.rejects(p.start(), (e: unknown) => {
      const shown = inspect(e, { depth: 20, showHidden: true });
      assert.match(shown, /did not answer/);
      assert.ok(!shown.includes(token), `the token is in the start() error: ${shown}`);
      return true;
    });
  });

  test('start fails for a key that is not a service key, and for a wrong base URL', async () => {
    for (const token of [server.keys.writer, server.keys.reader, server.keys.admin]) {
      const p = createAcpstoreProfile({ baseUrl: server.baseUrl, token, errors });
      await assert.rejects(p.start(), /not a service key/);
      assert.equal((await p.health()).healthy, false);
    }
    for (const baseUrl of [`${server.baseUrl}/nope`, `${server.baseUrl}/v1`]) {
      const p = createAcpstoreProfile({ baseUrl, token: server.keys.service, errors });
      await assert.rejects(p.start(), /is the base URL right/);
    }
    const dead = createAcpstoreProfile({ baseUrl: 'http://127.0.0.1:1', token: server.keys.service, errors, timeoutMs: 1000 });
    await assert.rejects(dead.start(), /did not answer/);
    // A service key limited to some tenants is a service key.
    const limited = createAcpstoreProfile({ baseUrl: server.baseUrl, token: server.keys.serviceT1, errors });
    await limited.start();
    assert.deepEqual(await limited.health(), { healthy: true });
    await limited.stop();
  });

  test('the profile has exactly the eight members of AcpLocalStorageProfile', () => {
    for (const k of ['sessionStore', 'eventStore', 'actionQueue', 'pauseInterventionStore']) {
      assert.equal(typeof (profile as unknown as Record<string, unknown>)[k], 'object', k);
    }
    for (const k of ['start', 'stop', 'health', 'getPersistError']) {
      assert.equal(typeof (profile as unknown as Record<string, unknown>)[k], 'function', k);
    }
  });
});

describe('sessionStore', () => {
  test('create, get with epoch-ms times, duplicate create, scope rules', async () => {
    const rec = sessionRecord(A, { correlationId: 'corr', backendMetadata: { model: 'opus' } });
    assert.equal(await profile.sessionStore.create(rec), undefined);
    const got = await profile.sessionStore.get(rec.id, A);
    assert.ok(got);
    assert.equal(got.conversationId, rec.conversationId);
    assert.equal(got.transcriptId, rec.transcriptId);
    assert.equal(got.status, 'initializing');
    assert.equal(typeof got.createdAt, 'number');
    assert.equal(got.correlationId, 'corr');
    assert.deepEqual(got.backendMetadata, { model: 'opus' });
    assert.notEqual(await profile.sessionStore.get(rec.id, A), got, 'fresh objects');
    await throwsClass(profile.sessionStore.create(rec), AcpDurableIdentityError, 'already exists');
    assert.equal(await profile.sessionStore.get(rec.id, A2), null);
    assert.equal(await profile.sessionStore.get(rec.id, B), null);
    assert.equal(await profile.sessionStore.get('missing', A), null);
    await throwsClass(profile.sessionStore.get(rec.id, { tenantId: ' ', ownerKeyId: 'x' }), AcpValidationError);
  });

  test("create keeps Aegis's ids and creation time", async () => {
    const t = Date.now() - 5000;
    const rec = sessionRecord(A, { createdAt: t, updatedAt: t });
    await profile.sessionStore.create(rec);
    const got = await profile.sessionStore.get(rec.id, A);
    assert.equal(got?.createdAt, t);
    assert.equal(got?.updatedAt, t);
    assert.equal(got?.conversationId, rec.conversationId);
    // A clock far ahead of acpstore's is not trusted: acpstore's is used.
    const ahead = sessionRecord(A, { createdAt: Date.now() + 3_600_000 });
    await profile.sessionStore.create(ahead);
    const got2 = await profile.sessionStore.get(ahead.id, A);
    assert.ok(got2 !== null && got2.createdAt <= Date.now());
  });

  test('update: scope mismatch throws, missing is null, fields copied, status via the lifecycle', async () => {
    const rec = sessionRecord(A, { claudeSessionId: 'c-1' });
    await profile.sessionStore.create(rec);
    await throwsPlain(profile.sessionStore.update({ ...rec, ownerKeyId: 'other' }, A), 'record scope');
    assert.equal(await profile.sessionStore.update({ ...rec, id: 'missing' }, A), null);
    await throwsClass(profile.sessionStore.update(rec, { tenantId: '', ownerKeyId: 'x' }), AcpValidationError);

    const { claudeSessionId: _dropped, ...withoutClaude } = rec;
    const u = await profile.sessionStore.update(
      { ...withoutClaude, acpAgentSessionId: 'agent-1', status: 'idle', validationWarnings: [{ code: 'w', message: 'm' }] },
      A,
    );
    assert.ok(u);
    assert.equal(u.acpAgentSessionId, 'agent-1');
    assert.equal(u.claudeSessionId, undefined, 'an undefined field clears it');
    assert.equal(u.status, 'idle');
    assert.deepEqual(u.validationWarnings, [{ code: 'w', message: 'm' }]);
    for (const status of ['running', 'paused', 'intervening', 'paused', 'running', 'closing', 'closed'] as const) {
      const next = await profile.sessionStore.update({ ...u, status }, A);
      assert.equal(next?.status, status);
    }
    const closed = await profile.sessionStore.get(rec.id, A);
    assert.equal(typeof closed?.closedAt, 'number');
    await assert.rejects(profile.sessionStore.update({ ...u, status: 'running' }, A), /cannot change from closed to running/);
  });

  test("validationWarnings over acpstore's limits: the last 50 kept, long texts cut (as import-aegis does)", async () => {
    // Aegis sets no limit; acpstore keeps at most 50 of at most 1,024 bytes each.
    const many = Array.from({ length: 60 }, (_, i) => ({ code: `w${i}`, message: `m${i}` }));
    const rec = sessionRecord(A, { validationWarnings: many });
    await profile.sessionStore.create(rec);
    const got = await profile.sessionStore.get(rec.id, A);
    assert.deepEqual(got?.validationWarnings, many.slice(10));
    // Cut at a character boundary: 'x' and 600 two-byte characters keep 'x' and 511 of them.
    const long = [{ code: 'c'.repeat(1030), message: `x${'\u00e9'.repeat(600)}` }];
    const u = await profile.sessionStore.update({ ...rec, validationWarnings: long }, A);
    assert.deepEqual(u?.validationWarnings, [{ code: 'c'.repeat(1024), message: `x${'\u00e9'.repeat(511)}` }]);
    const u2 = await profile.sessionStore.update({ ...rec, status: 'running', validationWarnings: many }, A);
    assert.equal(u2?.status, 'running');
    assert.equal(u2?.validationWarnings?.length, 50);
    assert.equal(u2?.validationWarnings?.[0]?.code, 'w10');
  });

  test('list: limits, statuses [], updatedAfter strict, newest first, scope', async () => {
    const scope = { tenantId: 'tenant-list', ownerKeyId: 'o' };
    const ids: string[] = [];
    for (let i = 0; i < 3; ++i) {
      const r = sessionRecord(scope);
      ids.push(r.id);
      await profile.sessionStore.create(r);
    }
    const all = await profile.sessionStore.list({ ...scope });
    assert.deepEqual(
      all.map((s) => s.id),
      [...ids].reverse(),
    );
    for (let i = 1; i < all.length; ++i) assert.ok((all[i - 1]?.updatedAt ?? 0) >= (all[i]?.updatedAt ?? 0));
    assert.equal((await profile.sessionStore.list({ ...scope, limit: 2 })).length, 2);
    assert.deepEqual(await profile.sessionStore.list({ ...scope, statuses: [] }), []);
    assert.equal((await profile.sessionStore.list({ ...scope, statuses: ['idle'] })).length, 0);
    for (const limit of [0, 1001, 1.5, -1]) {
      await throwsClass(profile.sessionStore.list({ ...scope, limit }), AcpValidationError);
    }
    const newest = all[0];
    assert.ok(newest);
    assert.deepEqual(await profile.sessionStore.list({ ...scope, updatedAfter: newest.updatedAt }), []);
    assert.equal((await profile.sessionStore.list({ ...scope, updatedAfter: newest.updatedAt - 1 })).length >= 1, true);
    assert.deepEqual(await profile.sessionStore.list({ tenantId: 'tenant-list', ownerKeyId: 'other' }), []);
    await throwsClass(profile.sessionStore.list({ tenantId: '', ownerKeyId: 'o' }), AcpValidationError);
  });
});

describe('eventStore', () => {
  test('un-awaited appends keep call order per session', async () => {
    const rec = sessionRecord(A);
    await profile.sessionStore.create(rec);
    const calls = Array.from({ length: 200 }, (_, i) =>
      profile.eventStore.append({ ...A, sessionId: rec.id, eventType: 'message.delta', payload: { i } }),
    );
    const results = await Promise.all(calls);
    results.forEach((r, i) => {
      assert.equal(r.eventSeq, i + 1);
      assert.deepEqual(r.payload, { i });
      assert.equal(r.eventId, `tenant-a:owner-1:${rec.id}:${i + 1}`);
      assert.ok(r.occurredAt instanceof Date && r.ingestedAt instanceof Date);
    });
    const listed = await profile.eventStore.list({ ...A, sessionId: rec.id, limit: 1000 });
    assert.deepEqual(
      listed.map((e) => (e.payload as { i: number }).i),
      Array.from({ length: 200 }, (_, i) => i),
    );
  });

  test('list pages on past the server\'s --max-page-bytes to the limit asked', async () => {
    // A page stops at --max-page-bytes (at least one event), short of
    // `limit` before the end; Aegis's list gives `limit` unless the stream ends.
    const small = await AcpstoreServer.start(['--max-page-bytes', '4KiB']);
    const p = createAcpstoreProfile({ baseUrl: small.baseUrl, token: small.keys.service, errors });
    try {
      await p.start();
      const rec = sessionRecord(A);
      await p.sessionStore.create(rec);
      const text = 'x'.repeat(1000);
      for (let i = 0; i < 10; ++i) {
        await p.eventStore.append({ ...A, sessionId: rec.id, eventType: 'note', payload: { i, text } });
      }
      const raw = new AcpstoreClient({ baseUrl: small.baseUrl, token: small.keys.service, scope: { tenantId: A.tenantId, ownerKeyId: A.ownerKeyId } });
      const page = await raw.listEvents(rec.id, { limit: 1000 });
      assert.ok(page.events.length < 10 && page.events.length > 0, `a short page: ${page.events.length}`);
      const all = await p.eventStore.list({ ...A, sessionId: rec.id, limit: 1000 });
      assert.deepEqual(all.map((e) => e.eventSeq), Array.from({ length: 10 }, (_, i) => i + 1));
      const some = await p.eventStore.list({ ...A, sessionId: rec.id, afterEventSeq: 2, limit: 5 });
      assert.deepEqual(some.map((e) => e.eventSeq), [3, 4, 5, 6, 7]);
    } finally {
      await p.stop();
      await small.stop();
    }
  });

  test('the record an append returns equals what list reads back, minimal answers or full', async () => {
    const full = createAcpstoreProfile({ baseUrl: server.baseUrl, token: server.keys.service, errors, minimalAppends: false });
    await full.start();
    const input = {
      ...A,
      sessionId: 'ev-same',
      eventType: 'tool.completed',
      payload: { z: 1, a: [1.5, 'x', null, { b: true }], big: 1e21 },
      backendRunId: 'run-1',
      payloadRef: 'ref-1',
      occurredAt: new Date(1_700_000_000_123),
    };
    const viaMinimal = await profile.eventStore.append(input);
    const viaFull = await full.eventStore.append(input);
    const [m, f] = await profile.eventStore.list({ ...A, sessionId: 'ev-same' });
    assert.deepEqual(viaMinimal, m);
    assert.deepEqual(viaFull, f);
    assert.deepEqual(Object.keys(viaMinimal.payload as object), ['z', 'a', 'big']);
    await full.stop();
  });

  test('a lone UTF-16 surrogate becomes U+FFFD (as import-aegis does), in payload strings and keys', async () => {
    // Agent output cut in the middle of an emoji; acpstore (UTF-8) refuses it.
    // Aegis does not await append, so a refusal would lose the event.
    const input = {
      ...A,
      sessionId: 'ev-surrogate',
      eventType: 'message.delta',
      payload: { text: 'cut \ud83d', 'k\udc00': ['whole \ud83d\ude00', '\udc00x\ud83d', '\\ud83d'] },
    };
    const scrubbed = { text: 'cut \ufffd', 'k\ufffd': ['whole \ud83d\ude00', '\ufffdx\ufffd', '\\ud83d'] };
    const r = await profile.eventStore.append(input);
    assert.deepEqual(r.payload, scrubbed);
    const unawaited = profile.eventStore.append({ ...input, eventType: 'thinking.\ud83d', payload: '\ud83d' });
    const r2 = await unawaited;
    assert.equal(r2.eventSeq, 2);
    assert.equal(r2.eventType, 'thinking.\ufffd');
    const listed = await profile.eventStore.list({ ...A, sessionId: 'ev-surrogate' });
    assert.deepEqual(listed, [r, r2]);
    assert.equal(listed[1]?.payload, '\ufffd');
  });

  test('a lone surrogate in the other free text (warnings, metadata, pause texts) becomes U+FFFD', async () => {
    const rec = sessionRecord(A, {
      validationWarnings: [{ code: 'w\ud83d', message: 'm\udc00' }],
      backendMetadata: { 'model\ud83d': 'opus\ud83d' },
    });
    await profile.sessionStore.create(rec);
    const got = await profile.sessionStore.get(rec.id, A);
    assert.deepEqual(got?.validationWarnings, [{ code: 'w\ufffd', message: 'm\ufffd' }]);
    assert.deepEqual(got?.backendMetadata, { 'model\ufffd': 'opus\ufffd' });
    assert.ok(got);
    await profile.sessionStore.update({ ...got, status: 'running' }, A);
    const ps = profile.pauseInterventionStore;
    const p = await ps.pause({ ...A, sessionId: rec.id, reason: 'r\ud83d', requestedBy: 'b\ud83d', metadata: { n: 'v\ud83d' } });
    assert.equal(p.reason, 'r\ufffd');
    assert.equal(p.requestedBy, 'b\ufffd');
    assert.deepEqual(p.metadata, { n: 'v\ufffd' });
    const iv = await ps.startIntervention({ ...A, sessionId: rec.id, interventionId: 'iv-s', interventionBy: 'i\ud83d' });
    assert.equal(iv?.interventionBy, 'i\ufffd');
    const done = await ps.completeIntervention({ ...A, sessionId: rec.id, interventionId: 'iv-s', completedBy: 'c\ud83d', guidance: 'g\ud83d' });
    assert.equal(done?.interventionCompletedBy, 'c\ufffd');
    assert.equal(done?.guidance, 'g\ufffd');
    const resumed = await ps.resume({ ...A, sessionId: rec.id, resumeId: 'r-s', resumedBy: 'r\ud83d', resumeMetadata: { k: '\ud83d' } });
    assert.equal(resumed?.resumedBy, 'r\ufffd');
    assert.deepEqual(resumed?.resumeMetadata, { k: '\ufffd' });
    const a = await profile.actionQueue.enqueue({ ...A, sessionId: rec.id, actionId: 'act-surrogate', type: 'prompt', metadata: { m: '\udc00' } });
    assert.deepEqual(a.metadata, { m: '\ufffd' });
  });

  test('validation order and classes', async () => {
    const ok = { ...A, sessionId: 'ev-val', eventType: 't', payload: 1 };
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...ok, sessionId: ' ', tenantId: '' }, /sessionId/],
      [{ ...ok, tenantId: '' }, /tenantId/],
      [{ ...ok, ownerKeyId: '' }, /ownerKeyId/],
      [{ ...ok, backendRunId: '', eventType: '' }, /backendRunId/],
      [{ ...ok, eventType: '' }, /eventType/],
      [{ ...ok, occurredAt: new Date('nope') }, /occurredAt/],
      [{ ...ok, payload: { f: () => 1 } }, /plain JSON/],
      [{ ...ok, payload: new Map() }, /plain JSON/],
      [{ ...ok, payload: Number.NaN }, /plain JSON/],
      [{ ...ok, payloadRef: '' }, /payloadRef/],
    ];
    for (const [input, re] of cases) {
      await assert.rejects(profile.eventStore.append(input as never), (e: unknown) => {
        assert.ok(e instanceof AcpValidationError, String(e));
        assert.match((e).message, re);
        return true;
      });
    }
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    await throwsClass(profile.eventStore.append({ ...ok, payload: cyclic }), AcpValidationError);
  });

  test('a stream belongs to one scope; list is [] elsewhere; limits', async () => {
    const first = await profile.eventStore.append({ ...A, sessionId: 'ev-scope', eventType: 't', payload: 'x', occurredAt: new Date(1_700_000_000_000) });
    assert.equal(first.eventSeq, 1);
    assert.equal(first.occurredAt.getTime(), 1_700_000_000_000);
    await throwsPlain(profile.eventStore.append({ ...A2, sessionId: 'ev-scope', eventType: 't', payload: 'y' }), 'session scope');
    assert.deepEqual(await profile.eventStore.list({ ...A2, sessionId: 'ev-scope' }), []);
    assert.deepEqual(await profile.eventStore.list({ ...B, sessionId: 'ev-scope' }), []);
    await profile.eventStore.append({ ...A, sessionId: 'ev-scope', eventType: 't', payload: 'z' });
    const after1 = await profile.eventStore.list({ ...A, sessionId: 'ev-scope', afterEventSeq: 1 });
    assert.deepEqual(
      after1.map((e) => e.eventSeq),
      [2],
    );
    for (const limit of [0, 1001]) {
      await throwsClass(profile.eventStore.list({ ...A, sessionId: 'ev-scope', limit }), AcpValidationError);
    }
    await throwsClass(profile.eventStore.list({ ...A, sessionId: 'ev-scope', afterEventSeq: -1 }), AcpValidationError);
    await throwsClass(profile.eventStore.list({ ...A, sessionId: '' }), AcpValidationError);
  });
});

describe('the same session id in another tenant', () => {
  // Aegis's stores key an event stream by sessionId alone and refuse it in
  // another scope. acpstore keeps tenants apart (SPEC §6): a call in one
  // tenant cannot tell whether another tenant uses the id, so the profile
  // makes it another session there (README, "the choices").
  test('is another session and another stream, from seq 1; each tenant sees only its own', async () => {
    const a = await profile.eventStore.append({ ...A, sessionId: 'x-tenant', eventType: 't', payload: 'a' });
    const b = await profile.eventStore.append({ ...B, sessionId: 'x-tenant', eventType: 't', payload: 'b' });
    assert.deepEqual([a.eventSeq, b.eventSeq], [1, 1]);
    assert.deepEqual((await profile.eventStore.list({ ...A, sessionId: 'x-tenant' })).map((e) => e.payload), ['a']);
    assert.deepEqual((await profile.eventStore.list({ ...B, sessionId: 'x-tenant' })).map((e) => e.payload), ['b']);
    assert.equal((await profile.sessionStore.get('x-tenant', B))?.tenantId, B.tenantId);
    // Within one tenant the id stays one owner's: the other owner is refused.
    await throwsPlain(profile.eventStore.append({ ...A2, sessionId: 'x-tenant', eventType: 't', payload: 'c' }), 'session scope does not match');
  });
});

describe('actionQueue', () => {
  test('enqueue validation, idempotency, duplicate ids', async () => {
    const base = { ...A, sessionId: 'act-1', actionId: 'act-1-a', type: 'prompt' as const };
    await throwsClass(profile.actionQueue.enqueue({ ...base, jsonRpcRequestId: 1 } as never), AcpDurableIdentityError);
    await throwsClass(profile.actionQueue.enqueue({ ...base, type: 'launch' as never }), AcpValidationError);
    await throwsClass(profile.actionQueue.enqueue({ ...base, actionId: ' ' }), AcpValidationError);
    await throwsClass(profile.actionQueue.enqueue({ ...base, actionId: 'act-1' }), AcpDurableIdentityError);
    await throwsClass(profile.actionQueue.enqueue({ ...base, metadata: { apiKey: 'x' } }), AcpValidationError, 'key is sensitive');
    await throwsClass(profile.actionQueue.enqueue({ ...base, metadata: { toolArgs: 'x' } }), AcpValidationError, 'key is sensitive');

    const a = await profile.actionQueue.enqueue({ ...base, idempotencyKey: 'k', metadata: { n: 1 } });
    assert.equal(a.status, 'queued');
    assert.equal(a.actionType, 'prompt');
    assert.ok(a.createdAt instanceof Date);
    const replay = await profile.actionQueue.enqueue({ ...base, actionId: 'act-1-b', type: 'approve', idempotencyKey: 'k', metadata: { n: 2 } });
    assert.equal(replay.actionId, 'act-1-a', 'the existing row, unchanged');
    assert.equal(replay.actionType, 'prompt');
    assert.deepEqual(replay.metadata, { n: 1 });
    await throwsClass(profile.actionQueue.enqueue({ ...base }), AcpDurableIdentityError, 'already exists');
    const noMeta = await profile.actionQueue.enqueue({ ...base, actionId: 'act-1-c' });
    assert.deepEqual(noMeta.metadata, {});
  });

  test('the idempotency replay returns the stored row for a session id with a space, +, & or unicode', async () => {
    for (const [i, sessionId] of ['act session 2', 'act+2', 'act&2=x', 'act ü 😀'].entries()) {
      const base = { ...A, sessionId, type: 'prompt' as const, idempotencyKey: 'k' };
      const first = await profile.actionQueue.enqueue({ ...base, actionId: `act-2-${i}-a`, metadata: { n: 1 } });
      // Other content under the same key: acpstore answers 409
      // idempotency_conflict, and the profile finds the stored row by listing
      // the session's actions (?sessionId=...).
      const replay = await profile.actionQueue.enqueue({ ...base, actionId: `act-2-${i}-b`, metadata: { n: 2 } });
      assert.equal(replay.actionId, first.actionId, sessionId);
      assert.deepEqual(replay.metadata, { n: 1 });
    }
  });

  test('lease order, complete/fail/cancel null-vs-row, sweep', async () => {
    const scope = { tenantId: 'tenant-q', ownerKeyId: 'o' };
    const now = Date.now();
    await profile.actionQueue.enqueue({ ...scope, sessionId: 'q1', actionId: 'late', type: 'prompt' }, { availableAt: new Date(now - 1000) });
    await profile.actionQueue.enqueue({ ...scope, sessionId: 'q1', actionId: 'early', type: 'prompt' }, { availableAt: new Date(now - 5000) });
    await profile.actionQueue.enqueue({ ...scope, sessionId: 'q2', actionId: 'future', type: 'prompt' }, { availableAt: new Date(now + 3_600_000) });
    await throwsClass(profile.actionQueue.leaseNext(scope, { now: new Date(now), leaseUntil: new Date(now) }), AcpValidationError);
    const leaseUntil = new Date(Date.now() + 30_000);
    const first = await profile.actionQueue.leaseNext(scope, { leaseUntil });
    assert.equal(first?.actionId, 'early');
    assert.equal(first?.status, 'leased');
    assert.equal(first?.attemptCount, 1);
    assert.ok(first?.leasedUntil instanceof Date);
    const second = await profile.actionQueue.leaseNext(scope, { leaseUntil });
    assert.equal(second?.actionId, 'late');
    assert.equal(await profile.actionQueue.leaseNext(scope, { leaseUntil }), null, 'future is not yet available');
    assert.equal(await profile.actionQueue.leaseNext({ tenantId: 'tenant-q', ownerKeyId: 'other' }, { leaseUntil }), null);

    const done = await profile.actionQueue.complete('early', scope, { resultMetadata: { ok: true } });
    assert.equal(done?.status, 'completed');
    assert.equal(done?.leasedUntil, undefined);
    assert.deepEqual(done?.resultMetadata, { ok: true });
    assert.equal(await profile.actionQueue.complete('early', scope), null, 'not leased any more');
    assert.equal(await profile.actionQueue.complete('missing', scope), null);
    const failed = await profile.actionQueue.fail('late', scope, { errorMetadata: { why: 'x' } });
    assert.equal(failed?.status, 'failed');
    const cancelled = await profile.actionQueue.cancel('future', scope);
    assert.equal(cancelled?.status, 'cancelled');
    assert.ok(cancelled?.cancelledAt instanceof Date);
    assert.equal(await profile.actionQueue.cancel('future', scope), null);
    await throwsClass(profile.actionQueue.complete('early', { tenantId: '', ownerKeyId: 'o' }), AcpValidationError);
    assert.deepEqual(await profile.actionQueue.sweepOrphanedActions(), []);
  });

  test("a lease past acpstore's 1 h maximum is refused, not shortened; one under 1 s lasts 1 s", async () => {
    const scope = { tenantId: 'tenant-lease', ownerKeyId: 'o' };
    await profile.actionQueue.enqueue({ ...scope, sessionId: 'ql', actionId: 'long', type: 'prompt' });
    const now = new Date();
    // Shortened to 1 h, it would end while the worker still works, and
    // another worker could lease the action.
    await throwsClass(
      profile.actionQueue.leaseNext(scope, { now, leaseUntil: new Date(now.getTime() + 2 * 3_600_000) }),
      AcpValidationError,
      'at most 3600000 ms',
    );
    assert.equal((await new AcpstoreClient({ baseUrl: server.baseUrl, token: server.keys.service }).withScope(scope).getAction('long')).status,
      'queued', 'nothing was leased');
    const hour = await profile.actionQueue.leaseNext(scope, { now, leaseUntil: new Date(now.getTime() + 3_600_000) });
    assert.equal(hour?.actionId, 'long');
    assert.ok(Math.abs((hour?.leasedUntil?.getTime() ?? 0) - (Date.now() + 3_600_000)) < 60_000, String(hour?.leasedUntil));
    await profile.actionQueue.enqueue({ ...scope, sessionId: 'ql', actionId: 'short', type: 'prompt' });
    const t = Date.now();
    const short = await profile.actionQueue.leaseNext(scope, { now: new Date(t), leaseUntil: new Date(t + 300) });
    assert.equal(short?.actionId, 'short');
    const ms = (short?.leasedUntil?.getTime() ?? 0) - t;
    assert.ok(ms >= 900 && ms < 5000, `leased for ${ms} ms`);
  });

  test('complete and fail an action leased by another process (no lease ownership, as in Aegis)', async () => {
    const scope = { tenantId: 'tenant-q2', ownerKeyId: 'o' };
    const leaseUntil = (): Date => new Date(Date.now() + 30_000);
    await profile.actionQueue.enqueue({ ...scope, sessionId: 'q3', actionId: 'x1', type: 'prompt' });
    await profile.actionQueue.enqueue({ ...scope, sessionId: 'q3', actionId: 'x2', type: 'prompt' });
    // Another Aegis process (or this one before a restart) leased them.
    const other = createAcpstoreProfile({ baseUrl: server.baseUrl, token: server.keys.service, errors });
    await other.start();
    assert.equal((await other.actionQueue.leaseNext(scope, { leaseUntil: leaseUntil() }))?.actionId, 'x1');
    assert.equal((await other.actionQueue.leaseNext(scope, { leaseUntil: leaseUntil() }))?.actionId, 'x2');
    const done = await profile.actionQueue.complete('x1', scope, { resultMetadata: { by: 'this' } });
    assert.equal(done?.status, 'completed');
    const failed = await profile.actionQueue.fail('x2', scope);
    assert.equal(failed?.status, 'failed');
    // The process that leased them now finds them ended: null, as in Aegis.
    assert.equal(await other.actionQueue.complete('x1', scope), null);
    await other.stop();
  });
});

describe('pauseInterventionStore', () => {
  test('pause -> intervene -> complete -> resume (the Postgres semantics)', async () => {
    const rec = sessionRecord(A);
    await profile.sessionStore.create(rec);
    const s = await profile.sessionStore.get(rec.id, A);
    assert.ok(s);
    await profile.sessionStore.update({ ...s, status: 'running' }, A);
    const ps = profile.pauseInterventionStore;
    assert.equal(await ps.getActive(rec.id, A), null);
    assert.equal(await ps.getLatest(rec.id, A), null);
    assert.equal(await ps.startIntervention({ ...A, sessionId: rec.id, interventionId: 'i0', interventionBy: 'x' }), null);

    const p = await ps.pause({ ...A, sessionId: rec.id, pauseId: 'pause-1', reason: 'check', requestedBy: 'alice', metadata: { m: 1 } });
    assert.equal(p.status, 'paused');
    assert.equal(p.pauseId, 'pause-1', "Aegis's pause id is kept");
    assert.ok(p.requestedAt instanceof Date);
    await throwsClass(ps.pause({ ...A, sessionId: rec.id, reason: 'again', requestedBy: 'bob' }), AcpDurableIdentityError, 'already active');
    assert.equal((await ps.getActive(rec.id, A))?.pauseId, p.pauseId);
    assert.equal(await ps.getActive(rec.id, A2), null);
    assert.equal((await profile.sessionStore.get(rec.id, A))?.status, 'paused');

    const iv = await ps.startIntervention({ ...A, sessionId: rec.id, interventionId: 'iv1', interventionBy: 'bob' });
    assert.equal(iv?.status, 'intervening');
    assert.equal((await profile.sessionStore.get(rec.id, A))?.status, 'intervening');
    const wrong = await ps.completeIntervention({ ...A, sessionId: rec.id, interventionId: 'other', completedBy: 'bob' });
    assert.equal(wrong, null);
    const done = await ps.completeIntervention({ ...A, sessionId: rec.id, interventionId: 'iv1', completedBy: 'bob', guidance: 'go on' });
    assert.equal(done?.status, 'paused');
    assert.equal(done?.guidance, 'go on');
    assert.ok(done?.interventionCompletedAt instanceof Date);
    assert.equal((await profile.sessionStore.get(rec.id, A))?.status, 'paused');

    const resumed = await ps.resume({ ...A, sessionId: rec.id, resumeId: 'r1', resumedBy: 'alice', resumeMetadata: { k: 'v' } });
    assert.equal(resumed?.status, 'resumed');
    assert.deepEqual(resumed?.resumeMetadata, { k: 'v' });
    assert.equal(await ps.getActive(rec.id, A), null);
    assert.equal((await ps.getLatest(rec.id, A))?.status, 'resumed');
    assert.equal((await profile.sessionStore.get(rec.id, A))?.status, 'running');
    assert.equal(await ps.resume({ ...A, sessionId: rec.id, resumeId: 'r2', resumedBy: 'alice' }), null);
    // Aegis's pause id names one record (Postgres: a duplicate is an identity error).
    await profile.sessionStore.update({ ...(await profile.sessionStore.get(rec.id, A))!, status: 'running' }, A);
    await throwsClass(
      ps.pause({ ...A, sessionId: rec.id, pauseId: 'pause-1', reason: 'again', requestedBy: 'alice' }),
      AcpDurableIdentityError,
      'already exists',
    );
    await throwsClass(ps.getActive(rec.id, { tenantId: '', ownerKeyId: 'o' }), AcpValidationError);
  });
  test('pause a session Aegis has no record of (a legacy one), and retry after a partial failure', async () => {
    // Aegis's store pauses any session id; acpstore pauses only a running
    // session, so the row the profile creates for it is started first.
    const ps = profile.pauseInterventionStore;
    const p = await ps.pause({ ...A, sessionId: 'legacy-1', pauseId: 'lp-1', reason: 'hold', requestedBy: 'ops' });
    assert.equal(p.status, 'paused');
    assert.equal(p.pauseId, 'lp-1');
    assert.equal((await ps.getActive('legacy-1', A))?.pauseId, 'lp-1');
    assert.equal((await profile.sessionStore.get('legacy-1', A))?.status, 'paused');
    assert.equal((await ps.resume({ ...A, sessionId: 'legacy-1', resumeId: 'lr-1', resumedBy: 'ops' }))?.status, 'resumed');
    await throwsClass(ps.pause({ ...A, sessionId: 'legacy-1', pauseId: 'lp-1', reason: 'hold', requestedBy: 'ops' }), AcpDurableIdentityError, 'already exists');
    assert.equal((await ps.pause({ ...A, sessionId: 'legacy-1', pauseId: 'lp-2', reason: 'again', requestedBy: 'ops' })).status, 'paused');

    // A legacy session whose events came first: its row is already there, initializing.
    await profile.eventStore.append({ ...A, sessionId: 'legacy-2', eventType: 'message.delta', payload: 'x' });
    assert.equal((await ps.pause({ ...A, sessionId: 'legacy-2', reason: 'hold', requestedBy: 'ops' })).status, 'paused');

    // A pause that fails after making the row: its start is lost on the way,
    // or the pause itself once the session runs (a missing session's pause
    // is POST /pause (404), create, /pause (initializing), /transitions,
    // /pause). A retry pauses.
    for (const [step, nth] of [['/transitions', 1], ['/pause', 3]] as const) {
      let seen = 0;
      let failed = false;
      const flaky: typeof fetch = (url, init) => {
        const u = typeof url === 'string' ? url : url instanceof URL ? url.href : url.url;
        if (u.endsWith(step) && init?.method === 'POST' && ++seen === nth) {
          failed = true;
          return Promise.reject(new TypeError('fetch failed'));
        }
        return fetch(url, init);
      };
      const p2 = createAcpstoreProfile({ baseUrl: server.baseUrl, token: server.keys.service, errors, fetch: flaky });
      await p2.start();
      const id = `legacy-flaky${step.replace('/', '-')}`;
      const input = { ...A, sessionId: id, pauseId: `fp${step.replace('/', '-')}`, reason: 'hold', requestedBy: 'ops' };
      await assert.rejects(p2.pauseInterventionStore.pause(input), /fetch failed/);
      assert.ok(failed, step);
      assert.equal((await p2.sessionStore.get(id, A))?.status, step === '/pause' ? 'running' : 'initializing', step);
      const again = await p2.pauseInterventionStore.pause(input);
      assert.equal(again.status, 'paused', step);
      assert.equal((await p2.sessionStore.get(id, A))?.status, 'paused', step);
      await p2.stop();
    }
  });

  test("an admin's scope pauses another owner's session of its tenant (the scope is the requesting key's)", async () => {
    const rec = sessionRecord(A);
    await profile.sessionStore.create(rec);
    await profile.sessionStore.update({ ...rec, status: 'running' }, A);
    const ADMIN = { tenantId: 'tenant-a', ownerKeyId: 'admin-1' };
    const ps = profile.pauseInterventionStore;
    const p = await ps.pause({ ...ADMIN, sessionId: rec.id, pauseId: 'adm-1', reason: 'audit', requestedBy: 'admin' });
    assert.equal(p.status, 'paused');
    assert.deepEqual([p.tenantId, p.ownerKeyId], ['tenant-a', 'admin-1'], "the record as Aegis's store returns it");
    assert.equal(p.metadata, undefined);
    assert.equal((await profile.sessionStore.get(rec.id, A))?.status, 'paused', "the owner's session is paused");
    assert.equal((await ps.getActive(rec.id, ADMIN))?.pauseId, 'adm-1');
    assert.equal((await ps.getActive(rec.id, A))?.pauseId, 'adm-1', 'the owner sees the pause of its session');
    // Another owner of the tenant that did not ask, or another tenant: nothing.
    assert.equal(await ps.getActive(rec.id, A2), null);
    assert.equal(await ps.getLatest(rec.id, A2), null);
    assert.equal(await ps.startIntervention({ ...A2, sessionId: rec.id, interventionId: 'x', interventionBy: 'x' }), null);
    assert.equal(await ps.resume({ ...A2, sessionId: rec.id, resumeId: 'x', resumedBy: 'x' }), null);
    assert.equal(await ps.getActive(rec.id, { tenantId: 'tenant-b', ownerKeyId: 'admin-1' }), null);
    await throwsClass(ps.pause({ ...ADMIN, sessionId: rec.id, reason: 'again', requestedBy: 'admin' }), AcpDurableIdentityError, 'already active');

    const iv = await ps.startIntervention({ ...ADMIN, sessionId: rec.id, interventionId: 'adm-iv', interventionBy: 'admin' });
    assert.equal(iv?.status, 'intervening');
    assert.equal(iv?.ownerKeyId, 'admin-1');
    const done = await ps.completeIntervention({ ...ADMIN, sessionId: rec.id, interventionId: 'adm-iv', completedBy: 'admin' });
    assert.equal(done?.status, 'paused');
    const resumed = await ps.resume({ ...ADMIN, sessionId: rec.id, resumeId: 'adm-r', resumedBy: 'admin' });
    assert.equal(resumed?.status, 'resumed');
    assert.equal((await ps.getLatest(rec.id, ADMIN))?.status, 'resumed');
    assert.equal((await profile.sessionStore.get(rec.id, A))?.status, 'running');
  });

  test("getLatest in an admin's scope: its own newest pause, also when the owner paused the session after it", async () => {
    // Aegis's store keeps each scope's pause records apart: getLatest(scope)
    // is that scope's newest record, whatever other scopes did since.
    const rec = sessionRecord(A);
    await profile.sessionStore.create(rec);
    await profile.sessionStore.update({ ...rec, status: 'running' }, A);
    const ADMIN = { tenantId: 'tenant-a', ownerKeyId: 'admin-3' };
    const ps = profile.pauseInterventionStore;
    await ps.pause({ ...ADMIN, sessionId: rec.id, pauseId: 'adm3-1', reason: 'audit', requestedBy: 'admin' });
    await ps.resume({ ...ADMIN, sessionId: rec.id, resumeId: 'adm3-r', resumedBy: 'admin' });
    // The owner pauses its session itself: the session's latest pause is now the owner's.
    const own = await ps.pause({ ...A, sessionId: rec.id, pauseId: 'own-1', reason: 'mine', requestedBy: 'owner' });
    assert.equal((await ps.getLatest(rec.id, A))?.pauseId, own.pauseId);
    const latest = await ps.getLatest(rec.id, ADMIN);
    assert.equal(latest?.pauseId, 'adm3-1', "the admin's own latest record, not null");
    assert.equal(latest?.status, 'resumed');
    assert.equal(latest?.resumeId, 'adm3-r');
    assert.deepEqual([latest?.tenantId, latest?.ownerKeyId], ['tenant-a', 'admin-3']);
    assert.equal(latest?.metadata, undefined);
    assert.equal(await ps.getActive(rec.id, ADMIN), null, 'the active pause is the owner\'s');
    assert.equal(await ps.resume({ ...ADMIN, sessionId: rec.id, resumeId: 'adm3-r2', resumedBy: 'admin' }), null);
    // Still so once the owner's pause is resumed; a scope that never asked finds nothing.
    await ps.resume({ ...A, sessionId: rec.id, resumeId: 'own-r', resumedBy: 'owner' });
    assert.equal((await ps.getLatest(rec.id, ADMIN))?.pauseId, 'adm3-1');
    assert.equal(await ps.getLatest(rec.id, { tenantId: 'tenant-a', ownerKeyId: 'admin-4' }), null);
    // A later pause of the admin's is its latest again.
    const again = await ps.pause({ ...ADMIN, sessionId: rec.id, pauseId: 'adm3-2', reason: 'again', requestedBy: 'admin' });
    assert.equal((await ps.getLatest(rec.id, ADMIN))?.pauseId, again.pauseId);
  });

  test("a session id deleted and made anew by another owner: the admin's pause calls follow the new owner", async () => {
    // Aegis's session manager knows each session's owner; the profile's own
    // table learnt owner-1 and goes stale when the id is reused.
    const owners = new Map<string, string>();
    let asked = 0;
    const p = createAcpstoreProfile({
      baseUrl: server.baseUrl,
      token: server.keys.service,
      errors,
      sessionOwner: (id) => {
        ++asked;
        return owners.get(id);
      },
    });
    await p.start();
    const rec = sessionRecord(A);
    owners.set(rec.id, A.ownerKeyId);
    await p.sessionStore.create(rec);
    await p.sessionStore.update({ ...rec, status: 'running' }, A);
    const ADMIN = { tenantId: 'tenant-a', ownerKeyId: 'admin-5' };
    const ps = p.pauseInterventionStore;
    await ps.pause({ ...ADMIN, sessionId: rec.id, pauseId: 'old-1', reason: 'audit', requestedBy: 'admin' });
    await ps.resume({ ...ADMIN, sessionId: rec.id, resumeId: 'old-r', resumedBy: 'admin' });
    assert.equal(asked, 0, 'the owner came from the profile\'s table');

    // Elsewhere (another process, an operator): the session is closed and
    // deleted, and owner-2 makes a session with the same id.
    const raw = new AcpstoreClient({ baseUrl: server.baseUrl, token: server.keys.service });
    await raw.withScope(A).transitionSession(rec.id, 'close_requested');
    await raw.withScope(A).transitionSession(rec.id, 'close_completed');
    await raw.withScope(A).deleteSession(rec.id);
    await raw.withScope(A2).createSession({ id: rec.id });
    await raw.withScope(A2).transitionSession(rec.id, 'run_started');
    owners.set(rec.id, A2.ownerKeyId);
    // The admin's old pause went with the old session; the stale entry is
    // found out (404 in owner-1's scope) and the owner asked again.
    assert.equal(await ps.getLatest(rec.id, ADMIN), null);
    assert.equal(asked, 1);

    const np = await ps.pause({ ...ADMIN, sessionId: rec.id, pauseId: 'new-1', reason: 'audit', requestedBy: 'admin' });
    assert.equal(np.status, 'paused');
    assert.deepEqual([np.tenantId, np.ownerKeyId], ['tenant-a', 'admin-5']);
    const stored = await raw.withScope(A2).getPause(rec.id);
    assert.equal(stored.pauseId, 'new-1', "paused in the new owner's scope");
    assert.equal(stored.metadata?.['aegisRequesterKeyId'], 'admin-5');
    assert.equal((await raw.withScope(A2).getSession(rec.id)).status, 'paused');
    await assert.rejects(raw.withScope(A).getSession(rec.id), (e: unknown) => e instanceof AcpstoreError && e.code === 'not_found');
    assert.equal(asked, 2, 'asked again: the read found no pause to learn the owner from');
    assert.equal((await ps.getActive(rec.id, ADMIN))?.pauseId, 'new-1');
    assert.equal((await ps.resume({ ...ADMIN, sessionId: rec.id, resumeId: 'new-r', resumedBy: 'admin' }))?.status, 'resumed');
    assert.equal((await raw.withScope(A2).getSession(rec.id)).status, 'running');
    assert.equal(asked, 2, 'then known');
    await p.stop();
  });

  test("an admin's pause in a process that has not seen the session: sessionOwner names its owner", async () => {
    const rec = sessionRecord(A);
    await profile.sessionStore.create(rec);
    await profile.sessionStore.update({ ...rec, status: 'running' }, A);
    const ADMIN = { tenantId: 'tenant-a', ownerKeyId: 'admin-2' };
    const input = { ...ADMIN, sessionId: rec.id, reason: 'audit', requestedBy: 'admin' };
    // After a restart, say: the profile knows no owner yet.
    const blind = createAcpstoreProfile({ baseUrl: server.baseUrl, token: server.keys.service, errors });
    await blind.start();
    await throwsPlain(blind.pauseInterventionStore.pause(input), 'session scope does not match');
    await throwsPlain(blind.pauseInterventionStore.pause(input), 'pass the sessionOwner option');
    // acpstore cannot tell a service key whose a session is (SPEC §6: it
    // sees only the scope it names), so the profile refuses rather than
    // pause in the wrong scope: nothing was made or changed, and the other
    // pause calls find nothing, as for a session the scope cannot see.
    assert.equal(await blind.sessionStore.get(rec.id, ADMIN), null);
    assert.equal(await blind.pauseInterventionStore.getLatest(rec.id, ADMIN), null);
    assert.equal(await blind.pauseInterventionStore.resume({ ...ADMIN, sessionId: rec.id, resumeId: 'r0', resumedBy: 'admin' }), null);
    assert.equal((await blind.sessionStore.get(rec.id, A))?.status, 'running');
    await blind.stop();
    const asked: string[] = [];
    const p2 = createAcpstoreProfile({
      baseUrl: server.baseUrl,
      token: server.keys.service,
      errors,
      sessionOwner: (id, tenantId) => {
        asked.push(`${tenantId}/${id}`);
        return Promise.resolve(tenantId === 'tenant-a' && id === rec.id ? 'owner-1' : undefined);
      },
    });
    await p2.start();
    const p = await p2.pauseInterventionStore.pause(input);
    assert.equal(p.status, 'paused');
    assert.equal(p.ownerKeyId, 'admin-2');
    assert.deepEqual(asked, [`tenant-a/${rec.id}`]);
    assert.equal((await p2.pauseInterventionStore.getActive(rec.id, ADMIN))?.pauseId, p.pauseId);
    assert.equal((await p2.pauseInterventionStore.resume({ ...ADMIN, sessionId: rec.id, resumeId: 'r', resumedBy: 'admin' }))?.status, 'resumed');
    assert.equal(asked.length, 1, 'the owner is asked once, then known');
    assert.equal((await p2.sessionStore.get(rec.id, A))?.status, 'running');
    await p2.stop();
  });

});

describe("session and action ids '.' and '..'", () => {
  // acpstore refuses to create them (SPEC 2.5) and no HTTP request can name
  // them in a path; the client refuses with a TypeError, which must not
  // reach Aegis: reads find nothing, writes are validation errors.
  test('each store method answers as for an id that cannot exist', async () => {
    const ps = profile.pauseInterventionStore;
    const q = profile.actionQueue;
    for (const id of ['.', '..']) {
      await throwsClass(profile.sessionStore.create(sessionRecord(A, { id })), AcpValidationError, id);
      assert.equal(await profile.sessionStore.get(id, A), null, id);
      assert.equal(await profile.sessionStore.update(sessionRecord(A, { id }), A), null, id);
      await throwsClass(profile.eventStore.append({ ...A, sessionId: id, eventType: 't', payload: 1 }), AcpValidationError, id);
      assert.deepEqual(await profile.eventStore.list({ ...A, sessionId: id }), [], id);
      await throwsClass(q.enqueue({ ...A, sessionId: id, actionId: `act-dot-${id.length}`, type: 'prompt' }), AcpValidationError, id);
      await throwsClass(q.enqueue({ ...A, sessionId: 'dots-session', actionId: id, type: 'prompt' }), AcpValidationError, id);
      assert.equal(await q.complete(id, A), null, id);
      assert.equal(await q.fail(id, A), null, id);
      assert.equal(await q.cancel(id, A), null, id);
      await throwsClass(ps.pause({ ...A, sessionId: id, reason: 'r', requestedBy: 'x' }), AcpValidationError, id);
      assert.equal(await ps.getActive(id, A), null, id);
      assert.equal(await ps.getLatest(id, A), null, id);
      assert.equal(await ps.startIntervention({ ...A, sessionId: id, interventionId: 'i', interventionBy: 'x' }), null, id);
      assert.equal(await ps.completeIntervention({ ...A, sessionId: id, interventionId: 'i', completedBy: 'x' }), null, id);
      assert.equal(await ps.resume({ ...A, sessionId: id, resumeId: 'r', resumedBy: 'x' }), null, id);
    }
    // Validation failures, not write failures: the profile stays healthy.
    assert.equal(profile.getPersistError(), null);
  });
});

describe('when the key is revoked', () => {
  test('un-awaited appends that fail 401 set getPersistError and make health unhealthy', async () => {
    const p = createAcpstoreProfile({ baseUrl: server.baseUrl, token: server.keys.serviceSpare, errors });
    await p.start();
    const first = await p.eventStore.append({ ...A, sessionId: 'revoked-1', eventType: 't', payload: 1 });
    assert.equal(first.eventSeq, 1);
    server.revokeKey('svc-spare');
    // As Aegis does: append without awaiting; only the profile sees the failure.
    await waitFor(
      async () => {
        void p.eventStore.append({ ...A, sessionId: 'revoked-1', eventType: 't', payload: 2 }).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 50));
        return p.getPersistError() !== null;
      },
      10_000,
      'the revocation to show in getPersistError',
    );
    assert.equal((p.getPersistError() as { status?: number }).status, 401);
    const h = await p.health();
    assert.equal(h.healthy, false);
    assert.match(h.details ?? '', /^persist error: /);
    await p.stop();
  });
});

describe('when acpstore keeps answering "not now"', () => {
  test('an un-awaited append given up on after 429 or 408 sets getPersistError and makes health unhealthy', async () => {
    for (const [status, code] of [
      [429, 'too_many_requests'],
      [408, 'request_timeout'],
    ] as const) {
      // acpstore answers 429 over its caps (connections, SSE, bodies in
      // memory) and 408 to a request that is sent too slowly; the client
      // retries the 429 and then gives up.
      let busy = true;
      const refusing: typeof fetch = (input, init) => {
        const url = input instanceof Request ? input.url : input instanceof URL ? input.href : input;
        if (busy && init?.method === 'POST' && url.endsWith('/events')) {
          return Promise.resolve(
            new Response(JSON.stringify({ error: { code, message: 'not now' } }), {
              status,
              headers: { 'content-type': 'application/json' },
            }),
          );
        }
        return fetch(input, init);
      };
      const p = createAcpstoreProfile({ baseUrl: server.baseUrl, token: server.keys.service, errors, fetch: refusing });
      await p.start();
      const sessionId = `not-now-${status}`;
      // As Aegis does: the append is not awaited, its rejection only logged.
      await p.eventStore.append({ ...A, sessionId, eventType: 't', payload: 1 }).catch(() => undefined);
      assert.equal((p.getPersistError() as AcpstoreError | null)?.status, status, `a ${status} write was given up on`);
      const h = await p.health();
      assert.equal(h.healthy, false);
      assert.match(h.details ?? '', /^persist error: /);
      busy = false;
      await p.eventStore.append({ ...A, sessionId, eventType: 't', payload: 2 });
      assert.equal(p.getPersistError(), null);
      assert.deepEqual(await p.health(), { healthy: true });
      await p.stop();
    }
  });
});

describe('while acpstore is down', () => {
  test('health turns unhealthy, writes fail with getPersistError set, and recover after restart', async () => {
    const local = await AcpstoreServer.start();
    try {
      const p = createAcpstoreProfile({ baseUrl: local.baseUrl, token: local.keys.service, errors, timeoutMs: 2000 });
      await p.start();
      assert.deepEqual(await p.health(), { healthy: true });
      await local.kill();
      const h = await p.health();
      assert.equal(h.healthy, false);
      assert.match(h.details ?? '', /unreachable/);
      await assert.rejects(p.eventStore.append({ ...A, sessionId: 'down', eventType: 't', payload: 1 }));
      assert.ok(p.getPersistError() instanceof Error);
      assert.equal((await p.health()).healthy, false);
      await local.restart();
      const r = await p.eventStore.append({ ...A, sessionId: 'down', eventType: 't', payload: 1 });
      assert.equal(r.eventSeq, 1);
      assert.equal(p.getPersistError(), null);
      await waitFor(async () => (await p.health()).healthy, 10_000, 'healthy again');
      await p.stop();
    } finally {
      await local.stop();
    }
  });
});
