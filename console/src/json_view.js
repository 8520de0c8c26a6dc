// Payloads as collapsible JSON: objects and arrays are <details> elements
// (keyboard-operable without script), the first levels open.

import { h } from './dom.js';

/**
 * @param {unknown} value
 * @param {number} [openDepth] levels shown open
 * @returns {HTMLElement}
 */
export function jsonView(value, openDepth = 1) {
  return h('div', { class: 'json' }, node(null, value, 0, openDepth));
}

/**
 * @param {string | null} key
 * @param {unknown} value
 * @param {number} depth
 * @param {number} openDepth
 * @returns {HTMLElement}
 */
function node(key, value, depth, openDepth) {
  const label = key === null ? null : h('span', { class: 'k' }, JSON.stringify(key) + ': ');
  if (value !== null && typeof value === 'object') {
    /** @type {[string, unknown][]} */
    const entries = Array.isArray(value)
      ? value.map((v, i) => [String(i), v])
      : Object.entries(value);
    const isArray = Array.isArray(value);
    const [open, close] = isArray ? ['[', ']'] : ['{', '}'];
    if (entries.length === 0) return h('div', { class: 'leaf' }, label, open + close);
    const summary = h('summary', {}, label, `${open} ${entries.length} ${isArray ? 'items' : 'keys'} ${close}`);
    return h('details', { open: depth < openDepth }, summary,
      entries.map(([k, v]) => node(isArray ? null : k, v, depth + 1, openDepth)));
  }
  const cls = typeof value === 'string' ? 'str' : 'lit';
  return h('div', { class: 'leaf' }, label, h('span', { class: cls }, JSON.stringify(value)));
}
