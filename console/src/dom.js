// Small DOM helpers. Everything is built with createElement and
// textContent, never innerHTML, so no server data can become markup.

/**
 * @typedef {string | number | boolean | null | undefined} AttrValue
 * @typedef {Node | string | number | null | undefined | false} Child
 */

/**
 * An HTML element with attributes ("on*" functions become listeners) and
 * children (strings become text).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, AttrValue | ((e: Event) => void)>} [attrs]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/**
 * An SVG element (charts).
 * @param {string} tag
 * @param {Record<string, AttrValue>} [attrs]
 * @param {...(Child | Child[])} children
 * @returns {SVGElement}
 */
export function svg(tag, attrs = {}, ...children) {
  const el = /** @type {SVGElement} */ (
    document.createElementNS('http://www.w3.org/2000/svg', tag));
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/**
 * @param {Element} el
 * @param {Record<string, AttrValue | ((e: Event) => void)>} attrs
 */
function setAttrs(el, attrs) {
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (value === true) {
      el.setAttribute(name, '');
    } else if (value !== false && value !== null && value !== undefined) {
      el.setAttribute(name, String(value));
    }
  }
}

/**
 * @param {Element} el
 * @param {(Child | Child[])[]} children
 */
function append(el, children) {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'object' ? c : String(c));
  }
}

/**
 * Replaces an element's children.
 * @param {Element} el
 * @param {...(Child | Child[])} children
 */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/**
 * The element with this id; throws when the page lacks it.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
export function byId(id, type) {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`#${id} is missing`);
  return el;
}

/**
 * "3 s ago", "5 min ago", ... for an ISO time; the full time is the title.
 * @param {string | undefined} iso
 * @returns {HTMLElement}
 */
export function timeAgo(iso) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  const ms = Date.now() - Date.parse(iso);
  let text;
  if (ms < 60_000) text = `${Math.max(0, Math.round(ms / 1000))} s ago`;
  else if (ms < 3_600_000) text = `${Math.round(ms / 60_000)} min ago`;
  else if (ms < 86_400_000) text = `${Math.round(ms / 3_600_000)} h ago`;
  else text = iso.slice(0, 10);
  return h('time', { datetime: iso, title: iso }, text);
}

/**
 * A status badge.
 * @param {string} status
 */
export function badge(status) {
  return h('span', { class: `badge s-${status}` }, status);
}

/**
 * Bytes as "12.3 MiB".
 * @param {number} n
 */
export function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/** @type {ReturnType<typeof setTimeout> | undefined} */
let sayTimer;
/** Shows a short message in the status bar (a polite live region) for 8 s. */
export function say(/** @type {string} */ text) {
  const bar = byId('status', HTMLDivElement);
  bar.textContent = text;
  clearTimeout(sayTimer);
  sayTimer = setTimeout(() => { if (bar.textContent === text) bar.textContent = ''; }, 8000);
}

/**
 * Asks for confirmation in the page's modal dialog; `fields` are extra
 * inputs shown in it. Resolves to true on OK (the form's validation
 * passed), false on Cancel or Escape.
 * @param {string} title
 * @param {string} text
 * @param {HTMLElement[]} [fields]
 * @returns {Promise<boolean>}
 */
export function confirmDialog(title, text, fields = []) {
  const dialog = byId('confirm', HTMLDialogElement);
  byId('confirm-title', HTMLHeadingElement).textContent = title;
  replace(byId('confirm-body', HTMLDivElement), h('p', {}, text), ...fields);
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.showModal();
    const first = fields.find((f) => f instanceof HTMLInputElement || f instanceof HTMLTextAreaElement) ??
      byId('confirm-ok', HTMLButtonElement);
    first.focus();
  });
}
