// Small inline-SVG charts for the health panel: built as DOM nodes, so the
// strict Content-Security-Policy needs no exception.

import { svg } from './dom.js';

/**
 * A line chart of the samples (oldest first), scaled to its own maximum.
 * @param {number[]} values
 * @param {string} label accessible name, e.g. "append latency, last 2 min"
 * @returns {SVGElement}
 */
export function sparkline(values, label) {
  const w = 200, hgt = 48;
  const max = Math.max(...values, 1e-9);
  const n = Math.max(values.length - 1, 1);
  const pts = values.map((v, i) =>
    `${((i / n) * w).toFixed(1)},${(hgt - 2 - (v / max) * (hgt - 4)).toFixed(1)}`);
  const line = pts.join(' ');
  return svg('svg', { class: 'chart', viewBox: `0 0 ${w} ${hgt}`, preserveAspectRatio: 'none',
    role: 'img', 'aria-label': label },
  svg('title', {}, label),
  values.length > 1 ? svg('polygon', { class: 'area', points: `0,${hgt} ${line} ${w},${hgt}` }) : null,
  values.length > 1 ? svg('polyline', { class: 'line', points: line }) : null);
}

/**
 * Horizontal bars for a few named figures.
 * @param {[string, number][]} items
 * @param {(n: number) => string} format
 * @param {string} label
 * @returns {SVGElement}
 */
export function bars(items, format, label) {
  const w = 300, row = 22;
  const max = Math.max(...items.map(([, v]) => v), 1);
  return svg('svg', { class: 'bars', viewBox: `0 0 ${w} ${row * items.length}`, role: 'img',
    'aria-label': label, preserveAspectRatio: 'xMinYMin meet' },
  svg('title', {}, label),
  items.flatMap(([name, v], i) => [
    svg('rect', { x: 0, y: i * row + 3, height: row - 8, width: Math.max(1, (v / max) * (w * 0.45)) }),
    svg('text', { x: w * 0.47, y: i * row + row - 7, 'font-size': 12, fill: 'currentColor' },
      `${name}: ${format(v)}`),
  ]));
}
