// Free text as acpstore accepts it. JavaScript strings are UTF-16 and may hold
// a lone surrogate (agent output cut in the middle of an emoji); Aegis stores
// such text, UTF-8 has no form for it and acpstore refuses it (400). As
// `acpstore import-aegis` does with the same text in Aegis's file
// (docs/aegis_format.md), each lone surrogate becomes U+FFFD, in strings and
// in object keys alike; a valid pair is untouched. Limits that acpstore puts
// where Aegis has none are met the importer's way too.

import type { AcpJson, AcpMetadata, AcpValidationWarning } from './types.js';

// With the `u` flag a surrogate that is part of a pair is one code point
// with its partner, so this matches lone ones only.
const LONE_SURROGATE = /[\ud800-\udfff]/gu;

// JSON.stringify writes a lone surrogate as a lowercase \udXXX escape and a
// pair as itself. An escape is real when an even number of backslashes
// precedes it (an odd one makes it the text "\ud83d").
const LONE_SURROGATE_ESCAPE = /(?<=(?:^|[^\\])(?:\\\\)*)\\ud[89a-f][0-9a-f]{2}/g;

export function wellFormed(s: string): string {
  return s.replace(LONE_SURROGATE, '\ufffd');
}

/** A free-text field as Aegis passed it: anything but a string is left for acpstore's checks. */
export function wellFormedOpt<T>(s: T): T {
  return (typeof s === 'string' ? wellFormed(s) : s) as T;
}

/**
 * A fresh copy of a plain JSON value with every lone surrogate, in values and
 * keys, replaced: the importer's rewrite of the escapes in the JSON text.
 * Two keys that become equal keep the later value.
 */
export function wellFormedJson(value: unknown): AcpJson {
  let text = JSON.stringify(value);
  // The test spares a large payload the regular expression (most have no escape).
  if (text.includes('\\ud')) text = text.replace(LONE_SURROGATE_ESCAPE, '\\ufffd');
  return JSON.parse(text) as AcpJson;
}

export function wellFormedMap<T extends AcpMetadata | null | undefined>(map: T): T {
  return (map === null || map === undefined ? map : wellFormedJson(map)) as T;
}

/** acpstore's limits on validationWarnings (docs/http_api.md). */
export const MAX_VALIDATION_WARNINGS = 50;
export const MAX_WARNING_BYTES = 1024;

/** The longest prefix of `s` of at most `max` UTF-8 bytes that ends on a character boundary. */
export function truncateUtf8(s: string, max: number): string {
  const bytes = Buffer.from(s, 'utf8');
  if (bytes.length <= max) return s;
  let end = max;
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) --end;
  return bytes.subarray(0, end).toString('utf8');
}

/**
 * Aegis keeps any number of warnings of any length; acpstore at most 50 of
 * at most 1,024 bytes each. As the importer does: the last 50 are kept and a
 * longer code or message is cut at a character boundary.
 */
export function fitWarnings(warnings: AcpValidationWarning[] | undefined): AcpValidationWarning[] | undefined {
  if (!Array.isArray(warnings)) return warnings;
  // Anything but a string is left for acpstore's checks.
  const fit = <T>(t: T): T => (typeof t === 'string' ? truncateUtf8(wellFormed(t), MAX_WARNING_BYTES) : t) as T;
  return warnings.slice(-MAX_VALIDATION_WARNINGS).map((w) => ({ code: fit(w.code), message: fit(w.message) }));
}
