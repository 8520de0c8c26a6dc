// One session's transcript (SPEC §13): the conversation folded from its
// events, which outlives event retention.
//
// It follows GET .../transcript/stream?textAppends=true with EventSource.
// An `entry` frame is one whole entry; an entry that grows comes again with
// the same index, so the view replaces it by index instead of appending: a
// tool completing comes whole, a message or thought growing as an `append`
// frame with only the text it gained, which the view adds to the entry it
// keeps (the server appends only to the assistant or thought entry it sent
// last on the connection, whole first on every connection). The frame id
// is an event seq: the browser resumes with Last-Event-ID, and when it
// gives up (a 401 after a restart, a 503 while the server stops) the view
// reopens from ?after=<last id seen>.

import { ApiError, BAD_FRAME, call, frame, isApiError, SHAPES, sessionPath } from './api.js';
import { badge, h, timeAgo } from './dom.js';
import { jsonView } from './json_view.js';

const RETRY_MS = 2000;
// Entries kept in the page; older ones are dropped (the API still has them).
const MAX_ENTRIES = 500;

/**
 * @typedef {{index: number, kind: string, firstSeq: number, lastSeq: number,
 *   firstAt: string, lastAt: string, text?: string, messageId?: string,
 *   toolCallId?: string, title?: string, toolKind?: string, status?: string,
 *   input?: unknown, inputTruncated?: boolean, result?: string,
 *   resultTruncated?: boolean, started?: boolean, completed?: boolean,
 *   fields?: Record<string, unknown>}} Entry
 */

/**
 * @param {string} id
 * @returns {{element: HTMLElement, stop: () => void, resume: () => void}}
 */
export function transcriptView(id) {
  const state = h('span', { class: 'conn', id: 'transcript-state', role: 'status' }, 'connecting…');
  const note = h('p', { class: 'muted', id: 'transcript-empty' }, 'No conversation yet.');
  const list = h('ol', { class: 'timeline', id: 'transcript', 'aria-label': 'Transcript entries, oldest first' });
  const element = h('section', { 'aria-labelledby': 'h-transcript' },
    h('h2', { id: 'h-transcript' }, 'Transcript'),
    h('div', { class: 'row' }, state), note, list);

  let stopped = false;
  let lastId = 0;
  /** @type {EventSource | null} */
  let es = null;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let retry;
  /** @type {Map<number, HTMLElement>} */
  const rows = new Map();
  /** The assistant or thought entry last received: what an append adds to. @type {Entry | null} */
  let held = null;

  /** @param {string} cls @param {string} text */
  function setState(cls, text) {
    state.className = `conn ${cls}`;
    state.textContent = text;
  }

  function connect() {
    if (stopped) return;
    clearTimeout(retry);
    es?.close();
    const source = new EventSource(
      `${sessionPath(id)}/transcript/stream?textAppends=true${lastId > 0 ? `&after=${lastId}` : ''}`);
    es = source;
    setState('', 'connecting…');
    source.onopen = () => setState('live', 'live');
    source.addEventListener('entry', (m) => {
      const message = /** @type {MessageEvent} */ (m);
      const entry = frame(message.data, SHAPES.entry);
      if (entry === null) {
        // Reconnecting would only repeat it.
        source.close();
        setState('down', `stream ended: ${BAD_FRAME}`);
        return;
      }
      const seq = Number(message.lastEventId);
      if (seq > lastId) lastId = seq;
      const e = /** @type {Entry} */ (/** @type {unknown} */ (entry));
      if (e.kind === 'assistant' || e.kind === 'thought') held = { ...e };
      show(e);
    });
    // What a message's or thought's text gained since the entry was sent.
    source.addEventListener('append', (m) => {
      const message = /** @type {MessageEvent} */ (m);
      const a = frame(message.data, SHAPES.transcriptAppend);
      if (a === null) {
        source.close();
        setState('down', `stream ended: ${BAD_FRAME}`);
        return;
      }
      if (held === null || held.index !== a['index']) {
        // Text for an entry this view does not hold: never dropped. A new
        // connection from the last id applied sends each entry whole first.
        held = null;
        connect();
        return;
      }
      held = { ...held, text: (held.text ?? '') + String(a['text']),
        lastSeq: Number(a['lastSeq']), lastAt: String(a['lastAt']) };
      const seq = Number(message.lastEventId);
      if (seq > lastId) lastId = seq;
      show(held);
    });
    // The cap dropped entries that changed after the resume point.
    source.addEventListener('truncated', (m) => {
      const t = frame(/** @type {MessageEvent} */ (m).data, SHAPES.transcriptTruncated);
      if (t === null) {
        source.close();
        setState('down', `stream ended: ${BAD_FRAME}`);
        return;
      }
      const first = t['firstIndex'];
      if (list.querySelector(`li[data-truncated="${Number(first)}"]`)) return;
      const row = h('li', { class: 'truncated', 'data-truncated': String(first) },
        `Entries before ${first}. were dropped by the transcript's cap (truncated).`);
      list.insertBefore(row, list.firstChild);
      note.hidden = true;
    });
    source.addEventListener('error', (e) => {
      if (source !== es) return;
      if (e instanceof MessageEvent && e.data) {
        const msg = frame(e.data, SHAPES.error)?.['error'].message ?? BAD_FRAME;
        source.close();
        setState('down', `stream ended: ${msg}`);
        return;
      }
      if (source.readyState === EventSource.CONNECTING) {
        setState('down', 'reconnecting…');
        return;
      }
      // The browser gave up: ask the plain route why. acpstore's 501
      // not_implemented means this server keeps no transcripts
      // (--transcript-max-bytes 0, decision 0036), for good; its 503 (the
      // server stopping) is tried again, as anything else is; its 401 opens
      // the sign-in dialog (api.js) and resume() reconnects afterwards. An
      // answer that is not acpstore's (a proxy's page, of any status) is
      // said, and the stream tried again.
      setState('down', 'disconnected');
      call('GET', `${sessionPath(id)}/transcript?limit=1`, undefined, SHAPES.transcriptPage).then(() => {
        if (!stopped) retry = setTimeout(connect, RETRY_MS);
      }, (/** @type {unknown} */ err) => {
        if (stopped) return;
        if (isApiError(err, 501, 'not_implemented')) {
          setState('down', 'this server keeps no transcripts');
        } else if (isApiError(err, 404, 'not_found')) {
          setState('down', 'session deleted');
        } else if (!isApiError(err, 401, 'unauthenticated')) {
          if (err instanceof ApiError && err.code === 'bad_response') setState('down', `disconnected: ${err.message}`);
          retry = setTimeout(connect, RETRY_MS);
        }
      });
    });
  }

  /** @param {Entry} e */
  function show(e) {
    const row = render(e);
    const old = rows.get(e.index);
    if (old) {
      // Keep an opened tool result open while its entry grows.
      const wasOpen = old.querySelector('details')?.open;
      old.replaceWith(row);
      if (wasOpen) row.querySelector('details')?.setAttribute('open', '');
    } else {
      // Entries arrive in lastSeq order, not index order: insert in place.
      let next = null;
      for (const [index, el] of rows) {
        if (index > e.index && (next === null || index < Number(next.dataset['index']))) next = el;
      }
      list.insertBefore(row, next);
    }
    rows.set(e.index, row);
    note.hidden = true;
    while (rows.size > MAX_ENTRIES) {
      const oldest = Math.min(...rows.keys());
      rows.get(oldest)?.remove();
      rows.delete(oldest);
    }
  }

  /** @param {Entry} e @returns {HTMLElement} */
  function render(e) {
    const head = h('div', { class: 'head' },
      h('span', { class: 'seq' }, `${e.index}.`),
      h('span', { class: 'type' }, e.kind),
      h('span', { class: 'muted' }, e.firstSeq === e.lastSeq ? `#${e.firstSeq}` : `#${e.firstSeq}–${e.lastSeq}`),
      timeAgo(e.lastAt));
    /** @type {(Node | string | null)[]} */
    const body = [];
    if (e.kind === 'assistant' || e.kind === 'thought') {
      body.push(h('p', { class: `said ${e.kind}` }, e.text ?? ''));
    } else if (e.kind === 'tool') {
      body.push(h('p', {}, e.title || e.toolCallId || 'tool call', ' ',
        e.status ? badge(e.status) : null,
        e.started === false ? h('span', { class: 'muted' }, ' (start not seen)') : null));
      if (e.input !== undefined) body.push(details(`input${e.inputTruncated ? ' (cut)' : ''}`, e.input));
      if (e.result !== undefined) body.push(details(`result${e.resultTruncated ? ' (cut)' : ''}`, e.result));
    } else if (e.fields) {
      body.push(details('fields', e.fields));
    }
    return h('li', { 'data-index': String(e.index), 'data-kind': e.kind }, head, ...body);
  }

  /** @param {string} label @param {unknown} value */
  function details(label, value) {
    return h('details', {}, h('summary', {}, label),
      typeof value === 'string' ? h('pre', { class: 'said' }, value) : jsonView(value, 2));
  }

  connect();
  return {
    element,
    stop() {
      stopped = true;
      clearTimeout(retry);
      es?.close();
    },
    resume() {
      if (stopped) return;
      if (!es || es.readyState === EventSource.CLOSED) connect();
    },
  };
}
