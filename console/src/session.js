// One session: its facts, the pause buttons for writers, its live
// transcript (transcript.js), its live event timeline, its latest pause
// record and its actions.
//
// The timeline follows GET .../events/stream with EventSource (the cookie
// authenticates it, SPEC §12). A dropped connection is resumed by the
// browser with Last-Event-ID; when the browser gives up (the server
// answered 401 after a restart, or 503 while stopping) the console opens a
// new stream from ?after=<last seq shown>, after a new sign-in if needed,
// so no event is shown twice or skipped. Facts, pause and actions are
// polled every 2 s.

import {
  addressable, ApiError, BAD_FRAME, call, canWrite, currentSignIn, frame, isApiError, query, SHAPES, sessionPath,
} from './api.js';
import { badge, bytes, confirmDialog, h, replace, say, timeAgo } from './dom.js';
import { jsonView } from './json_view.js';
import { transcriptView } from './transcript.js';

const POLL_MS = 2000;
const RETRY_MS = 2000;
// Rows kept in the page; older ones are dropped (the API still has them).
const MAX_ROWS = 2000;
const utf8 = new TextEncoder();

/**
 * @typedef {{eventSeq: number, eventType: string, occurredAt: string, ingestedAt: string,
 *   backendRunId?: string, clientEventId?: string, payload: unknown}} Event
 * @typedef {{pauseId: string, status: string, reason: string, requestedBy: string,
 *   requestedAt: string, interventionId?: string, interventionBy?: string,
 *   interventionStartedAt?: string, interventionCompletedBy?: string,
 *   interventionCompletedAt?: string, guidance?: string, resumedBy?: string,
 *   resumedAt?: string, updatedAt: string}} Pause
 * @typedef {{actionId: string, type: string, status: string, attemptCount: number,
 *   leasedUntil?: string, availableAt: string, updatedAt: string}} Action
 */

/**
 * @param {HTMLElement} main
 * @param {string} id
 * @returns {{stop: () => void, resume: () => void}}
 */
export function sessionView(main, id) {
  if (!addressable(id)) {
    replace(main,
      h('p', {}, h('a', { href: '#/sessions' }, '← Sessions')),
      h('h1', {}, 'Session ', h('span', { id: 'session-id' }, id)),
      h('p', { class: 'error', id: 'session-unaddressable' },
        `A session named “${id}” cannot be shown here: browsers remove “.” and “..” from URL paths ` +
        '(also written %2E), so every request for it would reach another one. ' +
        'Read it with a client that sends the path as written, e.g. curl --path-as-is.'));
    return { stop() {}, resume() {} };
  }
  const facts = h('dl', { class: 'facts', id: 'session-facts' });
  // Why the facts, pause and actions are not current (shown until a poll
  // succeeds again).
  const problem = h('p', { class: 'error', id: 'session-problem', role: 'alert', hidden: true });
  const controls = h('div', { class: 'buttons', id: 'pause-controls' });
  const pauseBox = h('div', { id: 'pause' }, h('p', { class: 'muted' }, 'Loading…'));
  const actionsBox = h('div', { class: 'table-wrap', id: 'actions', tabindex: 0, role: 'region', 'aria-label': 'Actions table' }, h('p', { class: 'muted' }, 'Loading…'));
  const conn = h('span', { class: 'conn', id: 'stream-state', role: 'status' }, 'connecting…');
  const typeFilter = h('select', { id: 'type-filter' }, h('option', { value: '' }, 'all types'));
  const list = h('ol', { class: 'timeline', id: 'timeline', 'aria-label': 'Events, oldest first' });
  const empty = h('p', { class: 'muted', id: 'timeline-empty' }, 'No events yet.');
  const transcript = transcriptView(id);

  replace(main,
    h('p', {}, h('a', { href: '#/sessions' }, '← Sessions')),
    h('h1', {}, 'Session ', h('span', { id: 'session-id' }, id)),
    problem,
    facts,
    controls,
    transcript.element,
    h('section', { 'aria-labelledby': 'h-timeline' },
      h('h2', { id: 'h-timeline' }, 'Events'),
      h('div', { class: 'row' },
        conn,
        h('label', { for: 'type-filter' }, 'Show'), typeFilter),
      empty, list),
    h('section', { 'aria-labelledby': 'h-pause' },
      h('h2', { id: 'h-pause' }, 'Latest pause'), pauseBox),
    h('section', { 'aria-labelledby': 'h-actions' },
      h('h2', { id: 'h-actions' }, 'Actions'), actionsBox));

  let stopped = false;
  /** @type {Pause | null} */
  let pause = null;
  /** @type {string} */
  let status = '';

  // --- the timeline ---------------------------------------------------
  let lastSeq = 0;
  /** @type {EventSource | null} */
  let es = null;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let retry;
  const types = new Set();

  /** @param {string} state @param {string} text */
  function setConn(state, text) {
    conn.className = `conn ${state}`;
    conn.textContent = text;
  }

  function connect() {
    if (stopped) return;
    clearTimeout(retry);
    es?.close();
    const url = `${sessionPath(id)}/events/stream${lastSeq > 0 ? `?after=${lastSeq}` : ''}`;
    const source = new EventSource(url);
    es = source;
    setConn('', 'connecting…');
    source.onopen = () => setConn('live', 'live');
    /** A frame that is not acpstore's ends the stream: reconnecting would repeat it. */
    const malformed = () => {
      source.close();
      setConn('down', `stream ended: ${BAD_FRAME}`);
    };
    source.onmessage = (m) => {
      const seq = Number(m.lastEventId);
      // Resumes start after lastSeq, so this only guards a server bug.
      if (!(seq > lastSeq)) return;
      const ev = frame(m.data, SHAPES.event);
      if (ev === null) { malformed(); return; }
      lastSeq = seq;
      addEvent(/** @type {Event} */ (ev));
    };
    source.addEventListener('truncated', (m) => {
      const t = frame(/** @type {MessageEvent} */ (m).data, SHAPES.truncated);
      if (t === null) { malformed(); return; }
      const first = t['firstSeq'];
      addRow(() => h('li', { class: 'truncated', 'data-truncated': String(first) },
        `Events before #${first} were dropped by retention (truncated).`));
    });
    source.addEventListener('error', (e) => {
      if (source !== es) return;
      if (e instanceof MessageEvent && e.data) {
        // The server's own `event: error` frame: the stream is over.
        const msg = frame(e.data, SHAPES.error)?.['error'].message ?? BAD_FRAME;
        source.close();
        setConn('down', `stream ended: ${msg}`);
        return;
      }
      if (source.readyState === EventSource.CONNECTING) {
        setConn('down', 'reconnecting…');
        return;
      }
      // The browser gave up (a non-200 answer). Find out why: a 401 opens
      // the sign-in dialog (api.js) and resume() reconnects afterwards.
      setConn('down', 'disconnected');
      // An answer that is not acpstore's (a proxy's page, of any status)
      // is said, and the stream tried again.
      call('GET', sessionPath(id), undefined, SHAPES.session).then(() => {
        if (!stopped) retry = setTimeout(connect, RETRY_MS);
      }, (/** @type {unknown} */ err) => {
        if (stopped) return;
        if (isApiError(err, 404, 'not_found')) setConn('down', 'session deleted');
        else if (!isApiError(err, 401, 'unauthenticated')) {
          if (err instanceof ApiError && err.code === 'bad_response') setConn('down', `disconnected: ${err.message}`);
          retry = setTimeout(connect, RETRY_MS);
        }
      });
    });
  }

  // Rows are added in batches, at most one per 16 ms: a replay of
  // thousands of events is one DOM insertion per batch, not per event, and
  // rows that would be dropped at once (beyond MAX_ROWS) are never built.
  /** @type {(() => HTMLElement)[]} */
  let pending = [];
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let flushTimer;

  /** @param {() => HTMLElement} make */
  function addRow(make) {
    pending.push(make);
    if (pending.length > MAX_ROWS) pending.splice(0, pending.length - MAX_ROWS);
    if (flushTimer === undefined) flushTimer = setTimeout(flush, 16);
  }

  function flush() {
    flushTimer = undefined;
    if (stopped) return;
    const batch = document.createDocumentFragment();
    for (const make of pending) batch.append(make());
    pending = [];
    empty.hidden = true;
    list.append(batch);
    while (list.childElementCount > MAX_ROWS) list.firstElementChild?.remove();
  }

  /** @param {Event} ev */
  function addEvent(ev) {
    if (!types.has(ev.eventType)) {
      types.add(ev.eventType);
      typeFilter.append(h('option', { value: ev.eventType }, ev.eventType));
    }
    addRow(() => {
      const payloadBytes = utf8.encode(JSON.stringify(ev.payload)).length;
      const li = h('li', { 'data-seq': String(ev.eventSeq), 'data-type': ev.eventType },
        h('div', { class: 'head' },
          h('span', { class: 'seq' }, `#${ev.eventSeq}`),
          h('span', { class: 'type' }, ev.eventType),
          timeAgo(ev.occurredAt),
          ev.backendRunId ? h('span', { class: 'muted' }, `run ${ev.backendRunId}`) : null),
        lazyPayload(ev.payload, payloadBytes));
      li.hidden = typeFilter.value !== '' && typeFilter.value !== ev.eventType;
      return li;
    });
  }

  /**
   * A closed <details> whose JSON tree is built when first opened: a
   * replay of thousands of events builds no trees nobody looks at.
   * @param {unknown} payload
   * @param {number} size
   */
  function lazyPayload(payload, size) {
    const details = h('details', {}, h('summary', {}, `payload (${bytes(size)})`));
    details.addEventListener('toggle', () => {
      if (details.open && details.childElementCount === 1) details.append(jsonView(payload, 2));
    });
    return details;
  }

  typeFilter.addEventListener('change', () => {
    for (const li of list.querySelectorAll('li[data-type]')) {
      /** @type {HTMLElement} */ (li).hidden =
        typeFilter.value !== '' && typeFilter.value !== li.getAttribute('data-type');
    }
  });

  // --- facts, pause, actions (polled) ----------------------------------
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  async function poll() {
    // A button's refresh runs while the next poll is pending: cancel it, or
    // it would start a second loop that stop() could not end.
    clearTimeout(timer);
    timer = undefined;
    try {
      const [s, p, a] = await Promise.all([
        call('GET', sessionPath(id), undefined, SHAPES.session),
        call('GET', `${sessionPath(id)}/pause`, undefined, SHAPES.pause).catch((/** @type {unknown} */ e) => {
          if (e instanceof ApiError && e.status === 404 && e.code === 'not_found') return null;
          throw e;
        }),
        call('GET', `/v1/actions${query({ sessionId: id, limit: '50' })}`, undefined,
          { actions: [SHAPES.action] }),
      ]);
      if (stopped) return;
      problem.hidden = true;
      renderFacts(s);
      pause = p;
      renderPause();
      renderActions(a.actions);
      renderControls();
    } catch (err) {
      if (stopped) return;
      if (err instanceof ApiError && err.status === 404 && err.code === 'not_found') {
        replace(facts, h('p', { class: 'error' }, 'No such session in this key’s scope.'));
      } else if (!(err instanceof ApiError && err.status === 401 && err.code !== 'bad_response')) {
        // acpstore's 401 opens the sign-in dialog; anything else is said.
        problem.textContent = `Could not load this session: ${/** @type {Error} */ (err).message}`;
        problem.hidden = false;
      }
    }
    // One pending timer at most, however many polls ran (a button's
    // refresh, resume() after a sign-in).
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(poll, POLL_MS);
  }

  /** @param {any} s */
  function renderFacts(s) {
    status = s.status;
    /** @type {[string, Node | string][]} */
    const rows = [
      ['Status', badge(s.status)],
      ['Events', `${s.events.lastSeq} (${s.events.retained} kept, ${bytes(s.events.bytes)})`],
      ['Created', timeAgo(s.createdAt)],
      ['Last change', timeAgo(s.updatedAt)],
      ['Owner', s.ownerKeyId],
    ];
    if (s.correlationId) rows.push(['Correlation', s.correlationId]);
    if (s.currentBackendRunId) rows.push(['Backend run', s.currentBackendRunId]);
    replace(facts, rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
  }

  function renderPause() {
    if (!pause) {
      replace(pauseBox, h('p', { class: 'muted' }, 'Never paused.'));
      return;
    }
    const p = pause;
    /** @type {[string, Node | string | undefined][]} */
    const steps = [
      ['Status', badge(p.status)],
      ['Paused', p.requestedAt && h('span', {}, timeAgo(p.requestedAt), ` by ${p.requestedBy}`)],
      ['Reason', p.reason],
      ['Intervention', p.interventionStartedAt &&
        h('span', {}, timeAgo(p.interventionStartedAt), ` by ${p.interventionBy ?? ''}`)],
      ['Completed', p.interventionCompletedAt &&
        h('span', {}, timeAgo(p.interventionCompletedAt), ` by ${p.interventionCompletedBy ?? ''}`)],
      ['Guidance', p.guidance],
      ['Resumed', p.resumedAt && h('span', {}, timeAgo(p.resumedAt), ` by ${p.resumedBy ?? ''}`)],
    ];
    replace(pauseBox, h('dl', { class: 'facts' },
      steps.filter(([, v]) => v).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v ?? '')])));
  }

  /** @param {Action[]} actions */
  function renderActions(actions) {
    if (actions.length === 0) {
      replace(actionsBox, h('p', { class: 'muted' }, 'No actions.'));
      return;
    }
    replace(actionsBox, h('table', {},
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, 'Action'), h('th', { scope: 'col' }, 'Status'),
        h('th', { scope: 'col', class: 'num' }, 'Attempts'), h('th', { scope: 'col' }, 'Lease until'))),
      h('tbody', {}, actions.map((a) => h('tr', {},
        h('th', { scope: 'row' }, `${a.type} `, h('span', { class: 'muted hide-narrow' }, a.actionId)),
        h('td', {}, badge(a.status)),
        h('td', { class: 'num' }, String(a.attemptCount)),
        h('td', {}, a.leasedUntil ? timeAgo(a.leasedUntil) : '—'))))));
  }

  // --- the pause buttons (writers and admins) ----------------------------
  const me = () => `console:${currentSignIn()?.key.id ?? 'unknown'}`;

  /**
   * @param {string} label
   * @param {string} idAttr
   * @param {boolean} enabled
   * @param {() => Promise<void>} run
   */
  function button(label, idAttr, enabled, run) {
    return h('button', {
      type: 'button', id: idAttr, disabled: !enabled,
      onclick: () => {
        run().then(() => { void poll(); }, (/** @type {Error} */ err) => {
          say(`${label} failed: ${err.message}`);
        });
      },
    }, label);
  }

  let controlsKey = '';
  function renderControls() {
    const active = pause && (pause.status === 'paused' || pause.status === 'intervening') ? pause : null;
    // Rebuilt only when something they depend on changed, so a keyboard
    // user's focus is not disturbed by the 2 s refresh.
    const key = `${canWrite()}|${status}|${active?.status}|${active?.interventionId}`;
    if (key === controlsKey) return;
    controlsKey = key;
    if (!canWrite()) {
      replace(controls, h('p', { class: 'muted' }, 'Read-only key: pausing needs a writer or admin key.'));
      return;
    }
    const focused = document.activeElement?.id;
    replace(controls,
      button('Pause', 'btn-pause', status === 'running', async () => {
        const reason = h('input', { id: 'pause-reason', required: true, value: 'paused from the console' });
        if (!await confirmDialog('Pause this session?',
          'The agent is asked to stop at its next step until someone resumes it.',
          [h('label', { for: 'pause-reason' }, 'Reason'), reason])) return;
        await call('POST', `${sessionPath(id)}/pause`, { reason: reason.value, requestedBy: me() });
        say('Session paused.');
      }),
      button('Start intervention', 'btn-intervene', active?.status === 'paused', async () => {
        if (!await confirmDialog('Start an intervention?',
          'Marks that a person is now working on this paused session.')) return;
        await call('POST', `${sessionPath(id)}/intervention/start`, { interventionBy: me() });
        say('Intervention started.');
      }),
      button('Complete intervention', 'btn-complete', active?.status === 'intervening', async () => {
        const guidance = h('textarea', { id: 'guidance', rows: 3 });
        if (!await confirmDialog('Complete the intervention?',
          'The session stays paused until it is resumed.',
          [h('label', { for: 'guidance' }, 'Guidance for the agent (optional)'), guidance])) return;
        /** @type {Record<string, string>} */
        const body = { interventionId: active?.interventionId ?? '', completedBy: me() };
        if (guidance.value) body['guidance'] = guidance.value;
        await call('POST', `${sessionPath(id)}/intervention/complete`, body);
        say('Intervention completed.');
      }),
      button('Resume', 'btn-resume', active !== null, async () => {
        if (!await confirmDialog('Resume this session?', 'The agent continues running.')) return;
        await call('POST', `${sessionPath(id)}/resume`, { resumedBy: me() });
        say('Session resumed.');
      }));
    // Keep keyboard focus on the same button across a refresh.
    if (focused) document.getElementById(focused)?.focus();
  }

  connect();
  void poll();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      clearTimeout(retry);
      clearTimeout(flushTimer);
      es?.close();
      transcript.stop();
    },
    // After a new sign-in: reopen the stream from the last event shown.
    resume() {
      if (stopped) return;
      clearTimeout(timer);
      void poll();
      if (!es || es.readyState === EventSource.CLOSED) connect();
      transcript.resume();
    },
  };
}
