// The sessions of the key's scope: status, events, last change; filtered
// by status; refreshed by polling GET /v1/sessions every 2 s (decision
// 0015: a list has no stream to follow).

import { call, query, SHAPES } from './api.js';
import { badge, h, replace, timeAgo } from './dom.js';

const STATUSES = ['initializing', 'idle', 'running', 'paused', 'intervening', 'closing',
  'closed', 'failed'];
const POLL_MS = 2000;

/**
 * @typedef {{id: string, status: string, ownerKeyId: string, createdAt: string,
 *   updatedAt: string, correlationId?: string,
 *   events: {firstSeq: number, lastSeq: number, retained: number, bytes: number}}} Session
 */

/**
 * Renders the list into `main`; returns a function that stops its polling.
 * @param {HTMLElement} main
 * @param {URLSearchParams} params the route's query (status=...)
 * @returns {{stop: () => void, resume: () => void}}
 */
export function sessionsView(main, params) {
  const select = h('select', { id: 'status-filter' },
    h('option', { value: '' }, 'any status'),
    // The API takes a list (status=a,b): the groups a person looks for.
    h('option', { value: 'paused,intervening' }, 'waiting for a person (paused, intervening)'),
    h('option', { value: 'initializing,idle,running,paused,intervening,closing' }, 'not ended'),
    STATUSES.map((s) => h('option', { value: s }, s)));
  select.value = params.get('status') ?? '';
  select.addEventListener('change', () => {
    location.hash = select.value ? `#/sessions?status=${select.value}` : '#/sessions';
  });
  const body = h('tbody', { id: 'sessions-body' });
  const info = h('p', { class: 'muted', id: 'sessions-info' }, 'Loading…');
  replace(main,
    h('h1', {}, 'Sessions'),
    h('div', { class: 'row' }, h('label', { for: 'status-filter' }, 'Status'), select,
      h('span', { class: 'muted' }, 'Updates every 2 s.')),
    // Focusable: a table wider than a phone scrolls, also by keyboard.
    h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Sessions table' },
      h('table', { id: 'sessions' },
        h('caption', { class: 'muted' }, 'Newest change first'),
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, 'Session'),
          h('th', { scope: 'col' }, 'Status'),
          h('th', { scope: 'col', class: 'num' }, 'Events'),
          h('th', { scope: 'col' }, 'Last change'),
          h('th', { scope: 'col', class: 'hide-narrow' }, 'Owner'))),
        body)),
    info);

  let stopped = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  async function poll() {
    timer = undefined;
    try {
      const page = /** @type {{sessions: Session[], nextCursor: string | null}} */ (
        await call('GET', `/v1/sessions${query({ limit: '200', status: select.value })}`, undefined,
          { sessions: [SHAPES.session] }));
      if (stopped) return;
      replace(body, page.sessions.map(row));
      info.textContent = page.sessions.length === 0
        ? 'No sessions' + (select.value ? ` with status ${select.value.replaceAll(',', ' or ')}.` : ' yet.')
        : `${page.sessions.length}${page.nextCursor ? '+' : ''} sessions.`;
    } catch (err) {
      if (!stopped) info.textContent = `Could not load sessions: ${/** @type {Error} */ (err).message}`;
    }
    // One pending timer at most, however many polls ran (a button's
    // refresh, resume() after a sign-in).
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(poll, POLL_MS);
  }
  void poll();
  return {
    stop() { stopped = true; clearTimeout(timer); },
    resume() { clearTimeout(timer); if (!stopped) void poll(); },
  };
}

/** @param {Session} s */
function row(s) {
  return h('tr', { 'data-session': s.id },
    h('th', { scope: 'row' },
      h('a', { href: `#/sessions/${encodeURIComponent(s.id)}` }, s.id)),
    h('td', {}, badge(s.status)),
    h('td', { class: 'num' }, String(s.events.lastSeq)),
    h('td', {}, timeAgo(s.updatedAt)),
    h('td', { class: 'hide-narrow' }, s.ownerKeyId));
}
