// Reading answers defensively: a body is read up to a cap, never whole
// whatever its size, and an answer that is not what the API sends (another
// media type, JSON that is not an object, a malformed SSE frame) is an
// AcpstoreError `bad_response` rather than a value of the wrong type or an
// endless retry.

import { AcpstoreError } from './errors.js';

/**
 * Default cap of one answer's body, and of one SSE frame: 256 MiB. It holds
 * every answer acpstore gives at its default limits (a listEvents page stops
 * at --max-page-bytes, 8 MiB of payloads, plus at most one event); a
 * JavaScript string cannot hold much more than 512 MiB anyway.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

/** The media type of an answer, lower case, without parameters ('' when none). */
export function mediaType(headers: Headers): string {
  return (headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * An answer that breaks the protocol. Status: the HTTP status of the
 * answer (2xx for a malformed success). Never retried: asking again gets
 * the same.
 */
export function protocolError(status: number, message: string, cause?: unknown): AcpstoreError {
  return new AcpstoreError(status, 'bad_response', message, cause === undefined ? {} : { cause });
}

/** True for a protocol error in an answer that claimed success. */
export function isProtocolError(e: unknown): e is AcpstoreError {
  return e instanceof AcpstoreError && e.code === 'bad_response' && e.status >= 200 && e.status < 300;
}

function tooLarge(status: number, max: number, what: string): AcpstoreError {
  return new AcpstoreError(status, 'bad_response', `${what}: the answer is larger than maxResponseBytes (${max} bytes)`, {
    details: { limit: max },
  });
}

/** The body as UTF-8 text, refused (and the rest not read) past `max` bytes. */
export async function readText(res: Response, max: number, what: string): Promise<string> {
  const declared = res.headers.get('content-length');
  if (declared !== null && Number(declared) > max) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge(res.status, max, what);
  }
  if (res.body === null) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let n = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    n += value.byteLength;
    if (n > max) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(res.status, max, what);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(all);
}

/** A JSON text that must be an object (every acpstore answer and frame is one). */
export function parseObject(text: string, status: number, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw protocolError(status, `${what}: not JSON`, e);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw protocolError(status, `${what}: not a JSON object`);
  }
  return v as Record<string, unknown>;
}

/** A field that must be a safe integer >= min. */
export function intField(o: Record<string, unknown>, key: string, min: number, status: number, what: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw protocolError(status, `${what}: ${key} is not an integer >= ${min}`);
  }
  return v;
}
