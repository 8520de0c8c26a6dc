// Browser tests of the web console (SPEC §12, issue 15): Debian's chromium,
// headless, driven by puppeteer-core over the DevTools protocol, against
// the real `acpstore serve` ($ACPSTORE_BIN, default the release build) on
// 127.0.0.1. No browser is downloaded: a missing chromium ($CHROMIUM, default
// /usr/bin/chromium) or binary FAILS the suite. Screenshots of every screen
// go to build/console-screenshots/ (a CI artefact).
//
// The tests run in order on one server and one page, as a person would use
// the console: sign in, see a session appear, watch its events, survive a
// kill -9 of the server, pause and resume, look at health.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import puppeteer from 'puppeteer-core';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const binary = process.env.ACPSTORE_BIN ?? join(repo, 'build/release/src/cli/acpstore');
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
const shots = join(repo, 'build/console-screenshots');
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Polls `check` until it returns a truthy value or `ms` pass. */
async function waitFor(what, check, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** `acpstore serve` on a data directory; port 0 picks one (read from its log). */
class Server {
  /** @param {string[]} args more `serve` options */
  constructor(args = ['--max-events-per-session', '5']) {
    this.dataDir = mkdtempSync(join(tmpdir(), 'acpstore-console-'));
    this.port = 0;
    this.child = null;
    this.args = args;
  }

  get base() { return `http://127.0.0.1:${this.port}`; }
  get token() { return readFileSync(join(this.dataDir, 'bootstrap-admin.token'), 'utf8').trim(); }

  async start() {
    let log = '';
    const child = spawn(binary, ['serve', '--data-dir', this.dataDir,
      '--listen', `127.0.0.1:${this.port}`, ...this.args],
    { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr.setEncoding('utf8');
    this.port = await new Promise((resolvePort, reject) => {
      const timer = setTimeout(() => reject(new Error(`acpstore did not start:\n${log}`)), 20_000);
      child.stderr.on('data', (chunk) => {
        log += chunk;
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(log);
        if (m) { clearTimeout(timer); resolvePort(Number(m[1])); }
      });
      child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`acpstore exited (${code}):\n${log}`)); });
    });
  }

  /** SIGKILL, and wait for the process to be gone. */
  async kill9() {
    const child = this.child;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  }

  async stop() {
    if (this.child && this.child.exitCode === null) {
      const gone = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await gone;
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** A bearer-token API call, as an agent would make it. */
  async api(method, path, body) {
    const res = await fetch(this.base + path, {
      method,
      headers: { Authorization: `Bearer ${this.token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }
}

describe('web console in chromium', () => {
  const server = new Server();
  let browser;
  let page;
  const offOrigin = [];     // requests that left the server's origin
  const urls = [];          // every URL the page requested
  const cspErrors = [];     // CSP violations the page reported
  const sessionId = `console-${Date.now()}`;

  async function shot(name) {
    await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  }

  async function axe(screen) {
    await page.evaluate(axeSource);
    const result = await page.evaluate(() =>
      // eslint-disable-next-line no-undef
      axe.run(document, { resultTypes: ['violations'] }));
    const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target).join(' ')})`), [],
      `axe on the ${screen} screen`);
  }

  /** Signs `tab` (the main page unless given) in with `token` at its sign-in form. */
  async function signInWith(token, tab = page) {
    await tab.waitForSelector('#token', { visible: true });
    await tab.type('#token', token);
    await tab.keyboard.press('Enter');
  }

  /** The sequence numbers in the timeline, in page order. */
  function timelineSeqs() {
    return page.$$eval('#timeline li[data-seq]', (lis) => lis.map((li) => Number(li.dataset.seq)));
  }

  // Setup failures are kept and reported by the first test, and every
  // other test fails without a page: node's summary counts them as
  // failures (a failing `before` hook alone shows "fail 0").
  let setupError = null;
  before(async () => {
    try {
      await setUp();
    } catch (e) {
      setupError = e;
    }
  });

  async function setUp() {
    assert.ok(existsSync(chromium), `chromium not found at ${chromium} (apt-get install chromium)`);
    assert.ok(existsSync(binary), `acpstore not found at ${binary}: build it or set ACPSTORE_BIN`);
    mkdirSync(shots, { recursive: true });
    await server.start();
    browser = await puppeteer.launch({
      executablePath: chromium,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
    });
    page = await browser.newPage();
    await page.setViewport({ width: 1100, height: 800 });
    page.on('request', (r) => {
      urls.push(r.url());
      const u = new URL(r.url());
      if (u.protocol !== 'data:' && u.origin !== server.base) offOrigin.push(r.url());
    });
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
    });
    await page.evaluateOnNewDocument(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`);
      });
    });
  }

  after(async () => {
    await browser?.close();
    await server.stop();
  });

  test('chromium and acpstore start', () => {
    if (setupError) throw setupError;
  });

  test('/ui/ answers with a strict CSP; the sign-in screen passes axe', async () => {
    const res = await page.goto(`${server.base}/ui/`);
    assert.equal(res.status(), 200);
    const csp = res.headers()['content-security-policy'];
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
    assert.ok(res.headers().etag);
    // Revalidation through the real server: 304, no body, no Content-Length.
    const again = await fetch(`${server.base}/ui/app.js`);
    const etag = again.headers.get('etag');
    assert.equal(again.headers.get('content-type'), 'text/javascript; charset=utf-8');
    const notModified = await fetch(`${server.base}/ui/app.js`, { headers: { 'If-None-Match': etag } });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.headers.get('content-length'), null);
    assert.equal(notModified.headers.get('etag'), etag);
    assert.equal(await notModified.text(), '');
    await page.waitForSelector('#signin');
    await shot('1-sign-in');
    await axe('sign-in');
  });

  test('signs in with the bootstrap token', async () => {
    await signInWith(server.token);
    await page.waitForSelector('#sessions');
    // The token is nowhere in the page or its storage afterwards.
    const kept = await page.evaluate(() => document.documentElement.outerHTML +
      JSON.stringify(sessionStorage) + JSON.stringify(localStorage) + document.cookie);
    assert.ok(!kept.includes(server.token), 'the token stayed in the page');
    assert.equal(await page.evaluate(() => document.cookie), '', 'the session cookie must be HttpOnly');
  });

  test('a session created through the API appears in the list', async () => {
    await server.api('POST', '/v1/sessions', { id: sessionId, correlationId: 'job-42' });
    await page.waitForSelector(`tr[data-session="${sessionId}"]`, { timeout: 5000 });
    await shot('2-sessions');
    await axe('sessions');
    // Filtered to what waits for a person: the new session is not there.
    await page.select('#status-filter', 'paused,intervening');
    await page.waitForFunction(() => /No sessions with status paused or intervening/.test(
      document.getElementById('sessions-info')?.textContent ?? ''));
    assert.equal(await page.$(`tr[data-session="${sessionId}"]`), null);
    await page.select('#status-filter', 'initializing');
    await page.waitForSelector(`tr[data-session="${sessionId}"]`, { timeout: 5000 });
  });

  test('keyboard only: the skip link, then Tab to the session and Enter opens it', async () => {
    await page.goto(`${server.base}/ui/#/sessions`);
    await page.reload();  // focus starts at the top of a fresh page
    await page.waitForSelector(`tr[data-session="${sessionId}"]`);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.className), 'skip');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');
    assert.ok(await page.$('#sessions'), 'the skip link must not leave the screen');
    for (let i = 0; i < 20; i++) {
      await page.keyboard.press('Tab');
      const onLink = await page.evaluate((id) =>
        document.activeElement?.closest(`tr[data-session="${id}"]`) !== null &&
        document.activeElement?.tagName === 'A', sessionId);
      if (onLink) break;
    }
    await page.keyboard.press('Enter');
    await page.waitForSelector('#timeline');
    assert.equal(await page.$eval('#session-id', (e) => e.textContent), sessionId);
  });

  test('an appended event shows in the timeline within 1 s', async () => {
    await page.waitForSelector('#stream-state.live');
    const t0 = Date.now();
    await server.api('POST', `/v1/sessions/${sessionId}/events`,
      { eventType: 'tool.started', payload: { tool: 'bash', args: ['ls', '-l'], cwd: '/work' } });
    await page.waitForSelector('#timeline li[data-seq="1"]', { timeout: 1000 });
    const ms = Date.now() - t0;
    assert.ok(ms <= 1000, `the event took ${ms} ms`);
    // The payload is collapsible JSON.
    await page.click('#timeline li[data-seq="1"] summary');
    await page.waitForSelector('#timeline li[data-seq="1"] .json .k');
    await shot('3-session');
    await axe('session');
  });

  test('kill -9 and a restart on the same port: the timeline resumes without a duplicate', async () => {
    await server.api('POST', `/v1/sessions/${sessionId}/events`,
      { events: [{ eventType: 'message.delta', payload: { text: 'hello' } },
        { eventType: 'tool.completed', payload: { exitCode: 0 } }] });
    await page.waitForSelector('#timeline li[data-seq="3"]', { timeout: 2000 });
    await server.kill9();
    await page.waitForSelector('#stream-state.down');
    await server.start();  // same port, same data directory
    // Browser sessions live in the server's memory: the console asks for
    // the token again, over the timeline.
    await page.waitForSelector('#resignin #token', { visible: true, timeout: 15_000 });
    await shot('4-signed-out-after-restart');
    await signInWith(server.token);
    await page.waitForSelector('#stream-state.live', { timeout: 10_000 });
    await server.api('POST', `/v1/sessions/${sessionId}/events`,
      { eventType: 'turn.completed', payload: { turn: 2 } });
    await page.waitForSelector('#timeline li[data-seq="4"]', { timeout: 2000 });
    assert.deepEqual(await timelineSeqs(), [1, 2, 3, 4]);
  });

  test('the transcript follows the conversation live: a growing message stays one entry', async () => {
    // 'hello' (seq 2) was folded before the restart; the transcript shows it after it.
    await page.waitForSelector('#transcript-state.live', { timeout: 10_000 });
    await page.waitForFunction(() => [...document.querySelectorAll('#transcript li[data-kind="assistant"] .said')]
      .some((p) => p.textContent === 'hello'), { timeout: 2000 });
    const events = `/v1/sessions/${sessionId}/events`;
    await server.api('POST', events, { eventType: 'message.delta', payload: { text: 'Once ', messageId: 'm2' } });
    const t0 = Date.now();
    await server.api('POST', events, { eventType: 'message.delta', payload: { text: 'more.', messageId: 'm2' } });
    await page.waitForFunction(() => [...document.querySelectorAll('#transcript li[data-kind="assistant"] .said')]
      .some((p) => p.textContent === 'Once more.'), { timeout: 1000 });
    const ms = Date.now() - t0;
    assert.ok(ms <= 1000, `the delta took ${ms} ms to show`);
    const rows = await page.$$eval('#transcript li', (lis) => lis.map((li) => ({
      index: Number(li.getAttribute('data-index')),
      kind: li.getAttribute('data-kind'),
      text: li.querySelector('.said')?.textContent ?? null,
    })));
    // Each index once, in order; the message of two deltas is one entry,
    // the same the API returns.
    const indexes = rows.map((r) => r.index);
    assert.deepEqual(indexes, [...new Set(indexes)].sort((a, b) => a - b));
    assert.equal(rows.filter((r) => r.text?.startsWith('Once')).length, 1);
    const api = await server.api('GET', `/v1/sessions/${sessionId}/transcript?limit=1000`);
    assert.deepEqual(rows.map((r) => [r.index, r.kind]), api.entries.map((e) => [e.index, e.kind]));
    await shot('4b-transcript');
  });

  test('pause, intervene, complete and resume with the buttons (keyboard only), with confirmation', async () => {
    await server.api('POST', `/v1/sessions/${sessionId}/transitions`, { event: 'run_started' });
    await page.waitForSelector('#btn-pause:not([disabled])', { timeout: 5000 });
    await page.focus('#btn-pause');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#confirm[open] #pause-reason');
    await shot('5-pause-confirm');
    await axe('pause confirmation');
    await page.keyboard.press('Enter');  // submits the dialog's form: OK
    await waitFor('the session to be paused', async () =>
      (await server.api('GET', `/v1/sessions/${sessionId}`)).status === 'paused');
    await page.waitForSelector('#btn-resume:not([disabled])', { timeout: 5000 });
    await page.waitForSelector('#pause .s-paused');
    // A person takes over, then hands back with guidance.
    await page.focus('#btn-intervene');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#confirm[open]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#pause .s-intervening', { timeout: 5000 });
    await page.waitForSelector('#btn-complete:not([disabled])');
    await page.focus('#btn-complete');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#confirm[open] #guidance');
    await page.keyboard.type('use the staging database');
    await page.keyboard.press('Tab');    // to OK
    await page.keyboard.press('Enter');
    await page.waitForSelector('#pause .s-paused', { timeout: 5000 });
    const pauseRecord = await server.api('GET', `/v1/sessions/${sessionId}/pause`);
    assert.equal(pauseRecord.guidance, 'use the staging database');
    assert.match(pauseRecord.interventionCompletedBy, /^console:/);
    // Cancel changes nothing.
    await page.focus('#btn-resume');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#confirm[open]');
    await page.keyboard.press('Escape');
    await page.waitForSelector('#confirm:not([open])');
    assert.equal((await server.api('GET', `/v1/sessions/${sessionId}`)).status, 'paused');
    await page.focus('#btn-resume');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#confirm[open]');
    await page.keyboard.press('Enter');  // OK has the focus
    await waitFor('the session to run again', async () =>
      (await server.api('GET', `/v1/sessions/${sessionId}`)).status === 'running');
    await page.waitForSelector('#pause .s-resumed', { timeout: 5000 });
    await shot('6-session-resumed');
  });

  test('leaving a session page stops its polling, also after its buttons refreshed it', async () => {
    // The buttons above each refreshed the page while its 2 s timer was
    // pending: none may have started a polling loop of its own, which would
    // outlive the page.
    await page.goto(`${server.base}/ui/#/sessions`);
    await page.waitForSelector('#sessions');
    const before = urls.length;
    await new Promise((r) => setTimeout(r, 2500));  // longer than one poll period
    const stale = urls.slice(before).filter((u) => u.includes(`/v1/sessions/${sessionId}`) ||
      u.includes(`sessionId=${sessionId}`));
    assert.deepEqual(stale, []);
  });

  test('a session id with a space, + or & opens with its facts and actions', async () => {
    // The actions are listed with ?sessionId=<id>: a space must go as %20
    // (acpstore reads + as a plus), or the page says "No such session".
    for (const id of [`${sessionId} with space`, `${sessionId}+plus&amp=x`]) {
      await server.api('POST', '/v1/sessions', { id, correlationId: 'odd-id' });
      await server.api('POST', '/v1/actions', { sessionId: id, type: 'prompt', actionId: `act ${id}` });
      await page.goto(`${server.base}/ui/#/sessions/${encodeURIComponent(id)}`);
      await page.waitForSelector('#actions table', { timeout: 5000 });
      assert.equal(await page.$eval('#session-id', (e) => e.textContent), id);
      assert.match(await page.$eval('#actions', (e) => e.textContent), /prompt/);
      assert.match(await page.$eval('#session-facts', (e) => e.textContent), /odd-id/);
    }
  });

  test('a session named "." or ".." says it cannot be shown, and asks for no other session', async () => {
    // The server refuses to create such ids (SPEC 2.5), but a store may hold
    // one from before that rule, and the browser removes "." and ".." path
    // segments (%2E too): /v1/sessions/./pause would read session "pause".
    for (const id of ['pause', 'transcript']) await server.api('POST', '/v1/sessions', { id });
    for (const id of ['.', '..']) {
      const before = urls.length;
      await page.goto(`${server.base}/ui/#/sessions/${encodeURIComponent(id)}`);
      await page.waitForSelector('#session-unaddressable', { timeout: 5000 });
      assert.equal(await page.$eval('#session-id', (e) => e.textContent), id);
      // The view asks for its data as it opens; let those requests be seen.
      await new Promise((r) => setTimeout(r, 300));
      const asked = urls.slice(before).filter((u) => new URL(u).pathname.startsWith('/v1/'));
      assert.deepEqual(asked, [], `${id}: ${JSON.stringify(urls.slice(before - 5))}`);
    }
  });

  test('events dropped by retention show as the truncated marker', async () => {
    // --max-events-per-session 5: of 8 events, 4..8 are kept.
    const id = `${sessionId}-retained`;
    await server.api('POST', '/v1/sessions', { id });
    await server.api('POST', `/v1/sessions/${id}/events`, {
      events: Array.from({ length: 8 }, (_, i) => ({ eventType: (i + 1) % 2 ? 'seq.odd' : 'seq.even', payload: { i } })),
    });
    await page.goto(`${server.base}/ui/#/sessions/${id}`);
    await page.waitForSelector('#timeline li.truncated[data-truncated="4"]');
    await page.waitForSelector('#timeline li[data-seq="8"]');
    assert.deepEqual(await timelineSeqs(), [4, 5, 6, 7, 8]);
    // The event-type filter hides the other types.
    await page.select('#type-filter', 'seq.even');
    const shown = await page.$$eval('#timeline li[data-seq]:not([hidden])', (lis) => lis.map((li) => Number(li.dataset.seq)));
    assert.deepEqual(shown, [4, 6, 8]);
  });

  test('the health panel shows /v1/stats with charts', async () => {
    await page.goto(`${server.base}/ui/#/health`);
    await page.waitForSelector('#m-append svg.chart');
    await page.waitForSelector('#memory svg');
    await waitFor('two samples', async () => (await page.$$('#m-journal polyline')).length > 0);
    await shot('7-health');
    await axe('health');
  });

  /**
   * A second tab of the same browser session, whose requests are answered
   * by `fake(url)` when it returns an answer (or fail, for 'abort'): what a
   * proxy or a broken server in between would send. `thrown` collects the page's uncaught
   * errors.
   */
  async function interceptingTab() {
    const tab = await browser.newPage();
    // Same cookie; the tab's sessionStorage gets the page's sign-in.
    const signedIn = await page.evaluate(() => sessionStorage.getItem('acpstore.console'));
    await tab.evaluateOnNewDocument((v) => sessionStorage.setItem('acpstore.console', v), signedIn);
    const t = { tab, thrown: [], fake: (/** @type {URL} */ _u) => null };
    tab.on('pageerror', (e) => t.thrown.push(String(e)));
    await tab.setRequestInterception(true);
    tab.on('request', (r) => {
      const answer = t.fake(new URL(r.url()));
      // 'abort': no answer at all (a network error in the page).
      if (answer === 'abort') void r.abort('failed');
      else if (answer) void r.respond(answer);
      else void r.continue();
    });
    return t;
  }
  const html = { status: 502, contentType: 'text/html', body: '<html><body><h1>502 Bad Gateway</h1></body></html>' };
  const json = (body, status = 200) => ({ status, contentType: 'application/json', body });

  test('answers that are not acpstore\'s (a proxy\'s HTML, a body cut short, another shape) are said clearly', async () => {
    // The page must say what is wrong, and throw nothing.
    const t = await interceptingTab();
    const { tab, thrown } = t;
    let fake = () => null;
    t.fake = (u) => fake(u);
    try {
      const sessionsSays = async (pattern) => {
        await tab.goto(`${server.base}/ui/#/sessions?x=${Math.random()}`);
        await tab.waitForFunction((p) => new RegExp(p).test(document.getElementById('sessions-info')?.textContent ?? ''),
          { timeout: 5000 }, pattern.source).catch(async (e) => {
          throw new Error(`${pattern}: the page says ${await tab.$eval('#sessions-info', (el) => el.textContent)}`, { cause: e });
        });
      };
      const list = (u) => u.pathname === '/v1/sessions';
      fake = (u) => (list(u) ? html : null);
      await sessionsSays(/502 Bad Gateway \(text\/html\) is not acpstore's: not an acpstore error/);
      fake = (u) => (list(u) ? json('{"sessions": [{"id": "s1", "sta') : null);
      await sessionsSays(/JSON cut short or malformed/);
      fake = (u) => (list(u) ? json('{"sessions": [{"id": 7}]}') : null);
      await sessionsSays(/sessions\[0\]\.id is missing or of another type/);
      fake = (u) => (list(u) ? json('[]') : null);
      await sessionsSays(/not a JSON object/);
      fake = (u) => (list(u) ? { status: 200, contentType: 'text/plain', body: 'ok' } : null);
      await sessionsSays(/200 OK \(text\/plain\) is not acpstore's: not JSON/);
      // acpstore's own errors still read as they are.
      fake = (u) => (list(u) ? json('{"error": {"code": "unavailable", "message": "stopping"}}', 503) : null);
      await sessionsSays(/Could not load sessions: stopping$/);

      // A session's page: its facts in another shape, then its stream.
      const path = `/v1/sessions/${sessionId}`;
      fake = (u) => (u.pathname === path ? json('{"session": {}}') : null);
      await tab.goto(`${server.base}/ui/#/sessions/${sessionId}`);
      await tab.waitForSelector('#session-problem:not([hidden])', { timeout: 5000 });
      assert.match(await tab.$eval('#session-problem', (e) => e.textContent),
        /Could not load this session: .*not acpstore's: id is missing or of another type/);
      fake = () => null;
      await tab.waitForSelector('#session-problem[hidden]', { timeout: 5000 });
      fake = (u) => (u.pathname === `${path}/events/stream`
        ? { status: 200, contentType: 'text/event-stream', body: 'id: 1\ndata: <html>\n\n' } : null);
      await tab.goto(`${server.base}/ui/#/health`);
      await tab.goto(`${server.base}/ui/#/sessions/${sessionId}`);
      await tab.waitForFunction(() => /stream ended: .*not acpstore's/.test(
        document.getElementById('stream-state')?.textContent ?? ''), { timeout: 5000 });
      assert.equal(await tab.$('#timeline li[data-seq]'), null, 'nothing shown of a malformed frame');

      // The health panel: /metrics behind a proxy's page is no /metrics
      // (the latencies give way to a note), /v1/stats's figures still show.
      fake = (u) => (u.pathname === '/metrics' ? { ...html, status: 200 } : null);
      await tab.goto(`${server.base}/ui/#/health`);
      await tab.waitForSelector('#metrics-note:not([hidden])', { timeout: 5000 });
      await tab.waitForSelector('#m-sessions', { timeout: 5000 });
      assert.deepEqual(thrown, []);
    } finally {
      await tab.close();
    }
  });

  test('a dropped stream and the health panel read a proxy\'s 503, 404 or 403 as such, not as acpstore\'s', async () => {
    // The fallback after a stream the browser gave up on, and the health
    // panel's 403, must tell acpstore's answers (transcripts off, session
    // deleted, not an admin key) from a proxy's page of the same status.
    const t = await interceptingTab();
    const { tab, thrown } = t;
    const path = `/v1/sessions/${sessionId}`;
    const proxy = (status) => ({ ...html, status, body: `<html><body><h1>${status}</h1></body></html>` });
    const says = async (id, pattern) => {
      await tab.waitForFunction((i, p) => new RegExp(p).test(document.getElementById(i)?.textContent ?? ''),
        { timeout: 8000 }, id, pattern.source).catch(async (e) => {
        throw new Error(`${id} ${pattern}: the page says ${await tab.$eval(`#${id}`, (el) => el.textContent)}`, { cause: e });
      });
    };
    const open = async (hash) => {
      await tab.goto(`${server.base}/ui/#/health`);
      await tab.goto(`${server.base}/ui/${hash}`);
    };
    try {
      // The transcript stream refused by a proxy; the plain route too.
      for (const [answer, pattern] of [
        [proxy(503), /disconnected: .*503 .*\(text\/html\) is not acpstore's/],
        [proxy(404), /disconnected: .*404 .*\(text\/html\) is not acpstore's/],
        [json('{"page": []}'), /disconnected: .*entries is missing or of another type/],
      ]) {
        t.fake = (u) => (u.pathname === `${path}/transcript/stream` ? proxy(502)
          : u.pathname === `${path}/transcript` ? answer : null);
        await open(`#/sessions/${sessionId}`);
        await says('transcript-state', pattern);
      }
      // The proxy goes away: the console tried again, and follows.
      t.fake = () => null;
      await tab.waitForSelector('#transcript-state.live', { timeout: 8000 });
      // acpstore's own 503 (a server stopping) is "not now": tried again,
      // not read as "no transcripts here", which is a 501 (decision 0036).
      t.fake = (u) => (u.pathname === `${path}/transcript/stream` ? proxy(502)
        : u.pathname === `${path}/transcript` ? json('{"error": {"code": "unavailable", "message": "shutting down"}}', 503) : null);
      await open(`#/sessions/${sessionId}`);
      await says('transcript-state', /^disconnected$/);
      t.fake = () => null;
      await tab.waitForSelector('#transcript-state.live', { timeout: 8000 });
      // acpstore's own 404 still says the session is gone.
      t.fake = (u) => (u.pathname === `${path}/transcript/stream` ? proxy(502)
        : u.pathname === `${path}/transcript` ? json('{"error": {"code": "not_found", "message": "no such session"}}', 404) : null);
      await open(`#/sessions/${sessionId}`);
      await says('transcript-state', /^session deleted$/);

      // The events stream refused by a proxy, and its session read too.
      t.fake = (u) => (u.pathname === `${path}/events/stream` ? proxy(502) : u.pathname === path ? proxy(404) : null);
      await open(`#/sessions/${sessionId}`);
      await says('stream-state', /disconnected: .*404 .*\(text\/html\) is not acpstore's/);
      t.fake = (u) => (u.pathname === `${path}/events/stream` ? proxy(502) : u.pathname === path ? json('{"id": 1}') : null);
      await says('stream-state', /disconnected: .*id is missing or of another type/);
      t.fake = () => null;
      await tab.waitForSelector('#stream-state.live', { timeout: 8000 });

      // A truncated frame that is not acpstore's ends the transcript stream; no row.
      t.fake = (u) => (u.pathname === `${path}/transcript/stream`
        ? { status: 200, contentType: 'text/event-stream', body: 'event: truncated\ndata: {"firstIndex": "x"}\n\n' } : null);
      await open(`#/sessions/${sessionId}`);
      await says('transcript-state', /stream ended: .*not acpstore's/);
      assert.equal(await tab.$('#transcript li.truncated'), null, 'no row for a malformed frame');

      // The health panel behind a proxy's 403: not "needs an admin key".
      t.fake = (u) => (u.pathname === '/v1/stats' ? proxy(403) : null);
      await open('#/health');
      await says('health-info', /Could not load \/v1\/stats: .*403 .*\(text\/html\) is not acpstore's/);
      assert.doesNotMatch(await tab.$eval('#health-info', (e) => e.textContent), /admin key/);
      assert.deepEqual(thrown, []);
    } finally {
      await tab.close();
    }
  });

  test('the health panel without /metrics shows the /v1/stats figures and one calm line for the latencies', async () => {
    // Decision 0037: /metrics is the operator's, and a proxy may refuse it
    // to browsers. The panel draws what /v1/stats gives; only the latency
    // cards (the histograms of /metrics) give way to a note, not an error.
    const t = await interceptingTab();
    const { tab, thrown } = t;
    const metrics = (u) => u.pathname === '/metrics';
    const note = /^Append and fsync latency need \/metrics, which this server or its proxy does not serve to the browser\.$/;
    try {
      for (const [what, answer] of [
        ['a proxy\'s 403', { ...html, status: 403, body: '<html><body><h1>403 Forbidden</h1></body></html>' }],
        ['a proxy\'s 404', { ...html, status: 404, body: '<html><body><h1>404 Not Found</h1></body></html>' }],
        ['a network error', 'abort'],
        ['a proxy\'s HTML page with 200', { ...html, status: 200 }],
      ]) {
        t.fake = (u) => (metrics(u) ? answer : null);
        await tab.goto(`${server.base}/ui/#/sessions`);
        await tab.goto(`${server.base}/ui/#/health`);
        await tab.waitForSelector('#metrics-note:not([hidden])', { timeout: 5000 }).catch(async (e) => {
          throw new Error(`${what}: no note; the panel says ${await tab.$eval('#health-info', (el) => el.textContent)}`, { cause: e });
        });
        assert.match(await tab.$eval('#metrics-note', (e) => e.textContent), note, what);
        // Two samples: the rate and the charts of /v1/stats are drawn.
        await waitFor(`${what}: two samples`, async () => (await tab.$$('#m-journal polyline')).length > 0);
        await tab.waitForFunction(() => / \/s$/.test(document.querySelector('#m-rate .value')?.textContent ?? ''),
          { timeout: 5000 });
        const stats = await server.api('GET', '/v1/stats');
        const value = (id) => tab.$eval(`#${id} .value`, (e) => e.textContent);
        assert.equal(await value('m-sessions'), String(stats.store.sessions), what);
        assert.equal(await value('m-conns').then((v) => /^\d+$/.test(v)), true, what);
        assert.match(await value('m-events'), /^\d+ \(/, what);
        assert.match(await value('m-journal'), /\d/, what);
        assert.match(await value('m-sse'), /^\d+$/, what);
        assert.ok(await tab.$('#memory svg'), `${what}: memory by kind`);
        // The latency cards give way to the note; no error is shown.
        assert.equal(await tab.$('#m-append'), null, what);
        assert.equal(await tab.$('#m-fsync'), null, what);
        const info = await tab.$eval('#health-info', (e) => e.textContent);
        assert.match(info, /^acpstore .* updated every 2 s/, what);
        assert.doesNotMatch(info, /Could not|not acpstore's|error/i, what);
        assert.equal(await tab.$$eval('#main .error', (els) => els.length), 0, what);
        assert.doesNotMatch(await tab.$eval('#status', (e) => e.textContent), /metrics|stats/i, what);
        if (what === 'a proxy\'s 403') await tab.screenshot({ path: join(shots, '7b-health-without-metrics.png'), fullPage: true });
      }
      // /metrics comes back: the latency cards return, the note goes.
      t.fake = () => null;
      await tab.waitForSelector('#m-append svg.chart', { timeout: 8000 });
      await tab.waitForSelector('#m-fsync svg.chart', { timeout: 8000 });
      assert.equal(await tab.$eval('#metrics-note', (e) => e.hidden), true);
      assert.deepEqual(thrown, []);
    } finally {
      await tab.close();
    }
  });

  test('a 401 to a request sent before a new sign-in does not undo it', async () => {
    // Found by CI: after a server restart, a poll sent with the old cookie
    // answered 401 after the person had signed in again; the console took
    // it as news, forgot the new sign-in and asked for the token once more,
    // its pause buttons gone meanwhile. In a browser context of its own:
    // signing in anew there leaves the other tests' cookie alone.
    const id = `stale-401-${Date.now()}`;
    await server.api('POST', '/v1/sessions', { id });
    await server.api('POST', `/v1/sessions/${id}/transitions`, { event: 'run_started' });
    const context = await browser.createBrowserContext();
    try {
      const tab = await context.newPage();
      const thrown = [];
      tab.on('pageerror', (e) => thrown.push(String(e)));
      await tab.goto(`${server.base}/ui/#/sessions/${encodeURIComponent(id)}`);
      await signInWith(server.token, tab);
      await tab.waitForSelector('#btn-pause:not([disabled])', { timeout: 5000 });
      // The next poll of the pause is held, unanswered...
      let held = null;
      await tab.setRequestInterception(true);
      tab.on('request', (r) => {
        if (held === null && new URL(r.url()).pathname === `/v1/sessions/${id}/pause`) held = r;
        else void r.continue();
      });
      await waitFor('a poll to hold', async () => held !== null);
      // ...while the person signs in anew (what the sign-in dialog does)...
      await tab.evaluate(async (token) => {
        const api = await import('/ui/api.js');
        await api.signIn(token);
      }, server.token);
      // ...and then it answers acpstore's 401, for the cookie it was sent with.
      await held.respond(json(JSON.stringify({ error: { code: 'unauthenticated', message: 'no such browser session' } }), 401));
      // Two polls later the session page is as it was: signed in, buttons on.
      await new Promise((resolve) => setTimeout(resolve, 4500));
      assert.equal(await tab.$('#resignin'), null, 'asked for the token again');
      assert.notEqual(await tab.evaluate(() => sessionStorage.getItem('acpstore.console')), null);
      await tab.waitForSelector('#btn-pause:not([disabled])', { timeout: 1000 });
      assert.deepEqual(thrown, []);
    } finally {
      await context.close();
    }
  });

  test('the transcript cap dropping entries while the console follows shows the truncated row', async () => {
    // A server of its own, whose transcripts keep 1 KiB per session: one
    // batch of 20 messages drops the first ones while the page is live.
    const capped = new Server(['--transcript-max-bytes', '1024']);
    const context = await browser.createBrowserContext();
    try {
      await capped.start();
      const id = 'capped';
      await capped.api('POST', '/v1/sessions', { id });
      const tab = await context.newPage();
      const thrown = [];
      tab.on('pageerror', (e) => thrown.push(String(e)));
      await tab.goto(`${capped.base}/ui/#/sessions/${id}`);
      await signInWith(capped.token, tab);
      await tab.waitForSelector('#transcript-state.live', { timeout: 10_000 });
      assert.equal(await tab.$('#transcript li'), null, 'nothing yet');
      await capped.api('POST', `/v1/sessions/${id}/events`, {
        events: Array.from({ length: 20 }, (_, i) => ({
          eventType: 'message.delta',
          payload: { text: `message ${i} ......................`, messageId: `m${i}` },
        })),
      });
      const kept = await capped.api('GET', `/v1/sessions/${id}/transcript?limit=1000`);
      const first = kept.firstIndex;
      assert.ok(first > 1, `the cap dropped nothing: ${JSON.stringify(kept)}`);
      await tab.waitForSelector(`#transcript li.truncated[data-truncated="${first}"]`, { timeout: 5000 });
      const last = kept.entries.at(-1).index;
      await tab.waitForSelector(`#transcript li[data-index="${last}"]`, { timeout: 5000 });
      const rows = await tab.$$eval('#transcript li', (lis) => lis.map((li) =>
        li.classList.contains('truncated') ? `truncated ${li.textContent}` : Number(li.getAttribute('data-index'))));
      assert.deepEqual(rows, [
        `truncated Entries before ${first}. were dropped by the transcript's cap (truncated).`,
        ...kept.entries.map((e) => e.index),
      ]);
      assert.equal(await tab.$eval('#transcript-empty', (e) => e.hidden), true);
      await tab.screenshot({ path: join(shots, '7b-transcript-truncated.png'), fullPage: true });
      assert.deepEqual(thrown, []);
    } finally {
      await context.close();
      await capped.stop();
    }
  });

  test('a server with transcripts off: the transcript says so, and the timeline still follows', async () => {
    // A server of its own started with --transcript-max-bytes 0 answers the
    // transcript routes 501 not_implemented (decision 0036; it was a 503,
    // which is "try again").
    const off = new Server(['--transcript-max-bytes', '0']);
    const context = await browser.createBrowserContext();
    try {
      await off.start();
      const id = 'off';
      await off.api('POST', '/v1/sessions', { id });
      await off.api('POST', `/v1/sessions/${id}/events`, { eventType: 'message.delta', payload: { text: 'hi' } });
      const tab = await context.newPage();
      const thrown = [];
      tab.on('pageerror', (e) => thrown.push(String(e)));
      await tab.goto(`${off.base}/ui/#/sessions/${id}`);
      await signInWith(off.token, tab);
      await tab.waitForFunction(() => document.getElementById('transcript-state')?.textContent === 'this server keeps no transcripts',
        { timeout: 10_000 }).catch(async (e) => {
        throw new Error(`the transcript says ${await tab.$eval('#transcript-state', (el) => el.textContent)}`, { cause: e });
      });
      await tab.waitForSelector('#stream-state.live', { timeout: 10_000 });
      await tab.waitForSelector('#timeline li[data-seq="1"]', { timeout: 5000 });
      assert.equal(await tab.$('#transcript li'), null, 'no transcript row');
      await tab.screenshot({ path: join(shots, '7c-transcripts-off.png'), fullPage: true });
      assert.deepEqual(thrown, []);
    } finally {
      await context.close();
      await off.stop();
    }
  });

  test('usable at 360 px: nothing wider than the screen', async () => {
    await page.setViewport({ width: 360, height: 740 });
    for (const [name, hash] of [['sessions', '#/sessions'], ['session', `#/sessions/${sessionId}`], ['health', '#/health']]) {
      await page.goto(`${server.base}/ui/${hash}`);
      await page.waitForSelector(name === 'sessions' ? '#sessions' : name === 'session' ? '#timeline li' : '#m-append');
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 360, `${name} is ${width} px wide at 360 px`);
      await shot(`8-narrow-${name}`);
      await axe(`${name} at 360 px`);
    }
  });

  test('a reader key sees the timeline but no pause buttons, and no health figures', async () => {
    const { token } = await server.api('POST', '/v1/keys', { role: 'reader', name: 'console-test' });
    const context = await browser.createBrowserContext();  // its own cookies and storage
    try {
      const reader = await context.newPage();
      let metricsAsked = 0;
      reader.on('request', (r) => { if (new URL(r.url()).pathname === '/metrics') metricsAsked += 1; });
      await reader.goto(`${server.base}/ui/#/sessions/${sessionId}`);
      await signInWith(token, reader);
      await reader.waitForSelector('#timeline li[data-seq="4"]');
      await reader.waitForFunction(() => /Read-only key/.test(document.getElementById('pause-controls')?.textContent ?? ''));
      assert.equal(await reader.$('#btn-pause'), null);
      await reader.goto(`${server.base}/ui/#/health`);
      await reader.waitForFunction(() => /needs an admin key/.test(document.getElementById('health-info')?.textContent ?? ''));
      // Past the next poll: a key that may not read /v1/stats does not ask
      // for /metrics either (it did, every 2 s, for figures never shown).
      await new Promise((resolve) => setTimeout(resolve, 2500));
      assert.equal(metricsAsked, 0, 'the reader\'s health screen asked for /metrics');
    } finally {
      await context.close();
    }
  });

  test('signing out ends the session on the server', async () => {
    await page.click('#sign-out');
    await page.waitForSelector('#signin');
    const status = await page.evaluate(async () => (await fetch('/v1/sessions')).status);
    assert.equal(status, 401);
  });

  test('no request left the origin or carried the token in its URL; no CSP violation', () => {
    assert.ok(page, 'the page never opened');
    assert.ok(urls.length > 20, `only ${urls.length} requests seen`);
    assert.deepEqual(urls.filter((u) => u.includes(server.token)), [], 'a token in a URL');
    assert.deepEqual(offOrigin, []);
    assert.deepEqual(cspErrors, []);
  });
});
