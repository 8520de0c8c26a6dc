// The health panel: /v1/stats (admin keys) and the latency histograms of
// /metrics, sampled every 2 s; the last 2 minutes are drawn as small SVG
// charts. Latencies are the mean over each 2 s interval (sum and count
// deltas of the Prometheus histograms). /metrics is the operator's
// (decision 0037) and a proxy may not pass it to browsers: everything but
// the latencies comes from /v1/stats, and without /metrics one quiet line
// takes the latency cards' place.

import { call, getText, isApiError } from './api.js';
import { bars, sparkline } from './charts.js';
import { bytes, h, replace } from './dom.js';

const POLL_MS = 2000;
const SAMPLES = 60;
const NO_METRICS = 'Append and fsync latency need /metrics, ' +
  'which this server or its proxy does not serve to the browser.';

/**
 * Sum and count of a Prometheus histogram in /metrics text.
 * @param {string} text
 * @param {string} name
 * @returns {{sum: number, count: number}}
 */
export function histogram(text, name) {
  const sum = new RegExp(`^${name}_sum(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  const count = new RegExp(`^${name}_count(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return { sum: Number(sum?.[1] ?? 0), count: Number(count?.[1] ?? 0) };
}

/**
 * @param {HTMLElement} main
 * @returns {{stop: () => void, resume: () => void}}
 */
export function healthView(main) {
  const grid = h('div', { class: 'grid', id: 'health' });
  const memory = h('div', { id: 'memory' });
  const info = h('p', { class: 'muted', id: 'health-info' }, 'Loading…');
  const note = h('p', { class: 'muted', id: 'metrics-note', hidden: true }, NO_METRICS);
  replace(main, h('h1', {}, 'Health'), info, note, grid,
    h('h2', {}, 'Memory by kind'), memory);

  /** @type {Record<string, number[]>} */
  const series = { appendMs: [], fsyncMs: [], appendsPerS: [], journal: [], subscribers: [] };
  /** @typedef {{sum: number, count: number}} Histogram */
  /** @type {{t: number, latency: {append: Histogram, fsync: Histogram} | null, appended: number} | null} */
  let prev = null;
  let stopped = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;

  /** @param {string} key @param {number} v */
  function push(key, v) {
    const s = series[key] ?? [];
    s.push(v);
    if (s.length > SAMPLES) s.shift();
    series[key] = s;
  }

  async function poll() {
    timer = undefined;
    try {
      const stats = await call('GET', '/v1/stats', undefined, {
        build: { version: 'string', commit: 'string' },
        store: { eventsAppended: 'number', journalBytes: 'number', sessions: 'number',
          eventsRetained: 'number', eventPayloadBytes: 'number', 'memory?': 'object' },
        sse: { subscribers: 'number' },
        http: { connectionsOpen: 'number' },
      });
      // Only once /v1/stats answered: a key that may not read it (a
      // reader's, a writer's) sees no figure, so /metrics is not asked for
      // every 2 s in vain. It may fail (a proxy's 403 or 404, a network
      // error, a page that is not Prometheus text) without failing the
      // panel.
      const text = await getText('/metrics', ['text/plain']).catch(() => null);
      if (stopped) return;
      const now = Date.now();
      const latency = text === null ? null : {
        append: histogram(text, 'acpstore_append_duration_seconds'),
        fsync: histogram(text, 'acpstore_fsync_duration_seconds'),
      };
      const appended = stats.store.eventsAppended;
      if (prev) {
        /** @param {Histogram} a @param {Histogram} b */
        // NaN when nothing happened in the interval: shown as "idle",
        // drawn as 0.
        const mean = (a, b) => (a.count > b.count ? ((a.sum - b.sum) / (a.count - b.count)) * 1000 : NaN);
        // A mean needs /metrics at both ends of the interval.
        if (latency && prev.latency) {
          push('appendMs', mean(latency.append, prev.latency.append));
          push('fsyncMs', mean(latency.fsync, prev.latency.fsync));
        }
        push('appendsPerS', ((appended - prev.appended) * 1000) / (now - prev.t));
      }
      // Without /metrics the latency charts start again when it is back,
      // rather than show a figure from before the gap as the latest.
      if (!latency) { series['appendMs'] = []; series['fsyncMs'] = []; }
      prev = { t: now, latency, appended };
      push('journal', stats.store.journalBytes);
      push('subscribers', stats.sse.subscribers);
      render(stats, latency !== null);
    } catch (err) {
      if (stopped) return;
      // acpstore's own 403 (a proxy's is said as it is).
      info.textContent = isApiError(err, 403, 'forbidden')
        ? 'The health panel needs an admin key (GET /v1/stats).'
        : `Could not load /v1/stats: ${/** @type {Error} */ (err).message}`;
    }
    // One pending timer at most, however many polls ran (a button's
    // refresh, resume() after a sign-in).
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(poll, POLL_MS);
  }

  /** @param {any} stats @param {boolean} withMetrics whether /metrics answered */
  function render(stats, withMetrics) {
    info.textContent = `acpstore ${stats.build.version} (${stats.build.commit}), ` +
      `updated every 2 s; charts show the last ${SAMPLES * POLL_MS / 60000} minutes.`;
    /** @param {string} id @param {string} label @param {string} value @param {number[] | null} s */
    const card = (id, label, value, s) => h('div', { class: 'card metric', id },
      h('div', { class: 'muted' }, label),
      h('div', { class: 'value' }, value),
      s ? sparkline(s, `${label}, last 2 minutes`) : null);
    const last = (/** @type {string} */ k) => series[k]?.at(-1) ?? NaN;
    const ms = (/** @type {number} */ v) => (Number.isNaN(v) ? 'idle' : `${v.toFixed(2)} ms`);
    const drawn = (/** @type {string} */ k) => (series[k] ?? []).map((v) => (Number.isNaN(v) ? 0 : v));
    note.hidden = withMetrics;
    replace(grid,
      withMetrics ? card('m-append', 'Append latency (mean)', ms(last('appendMs')), drawn('appendMs')) : null,
      withMetrics ? card('m-fsync', 'fsync latency (mean)', ms(last('fsyncMs')), drawn('fsyncMs')) : null,
      card('m-rate', 'Events appended', Number.isNaN(last('appendsPerS')) ? '—' : `${last('appendsPerS').toFixed(1)} /s`, drawn('appendsPerS')),
      card('m-journal', 'Journal', bytes(stats.store.journalBytes), series['journal'] ?? []),
      card('m-sse', 'SSE subscribers', String(stats.sse.subscribers), series['subscribers'] ?? []),
      card('m-sessions', 'Sessions', String(stats.store.sessions), null),
      card('m-events', 'Events kept', `${stats.store.eventsRetained} (${bytes(stats.store.eventPayloadBytes)})`, null),
      card('m-conns', 'HTTP connections open', String(stats.http.connectionsOpen), null));
    // Every kind the server reports ("payloadCacheBytes" -> "payload cache"),
    // so a new kind shows up without a console change.
    /** @type {[string, number][]} */
    const kinds = Object.entries(stats.store.memory ?? {}).map(([k, v]) => [
      k.replace(/Bytes$/, '').replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`), Number(v)]);
    replace(memory, bars(kinds, bytes, 'Memory by kind'));
  }

  void poll();
  return {
    stop() { stopped = true; clearTimeout(timer); },
    resume() { clearTimeout(timer); if (!stopped) void poll(); },
  };
}
