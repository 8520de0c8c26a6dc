// The acpstore API as the console uses it: same-origin fetches that carry
// the browser session cookie (SPEC §12), the CSRF token on every write,
// errors as ApiError. The token is sent once, to sign in, and never kept.

/** @typedef {{id: string, tenantId: string, role: string}} KeyInfo */
/** @typedef {{csrfToken: string, expiresAt: string, key: KeyInfo}} SignIn */

const STORE_KEY = 'acpstore.console';

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * What survives a reload of the tab: the CSRF token (useless without the
 * HttpOnly cookie) and the key's id and role, to show the right buttons.
 * Kept in sessionStorage, so it ends with the tab.
 * @returns {SignIn | null}
 */
export function currentSignIn() {
  try {
    const raw = sessionStorage.getItem(STORE_KEY);
    return raw ? /** @type {SignIn} */ (JSON.parse(raw)) : null;
  } catch {
    return null;
  }
}

/**
 * Counts the sign-ins and sign-outs of this page. A request remembers the
 * count it was sent under: its 401 ends only that sign-in. After a server
 * restart, polls sent with the old cookie may answer 401 after the person
 * signed in again; taken as news, they wiped the new sign-in and asked for
 * the token once more, with the pause buttons gone meanwhile (a CI run
 * caught it).
 */
let signInEpoch = 0;

/** @param {SignIn | null} s */
function remember(s) {
  ++signInEpoch;
  if (s) sessionStorage.setItem(STORE_KEY, JSON.stringify(s));
  else sessionStorage.removeItem(STORE_KEY);
}

/** Called when any request answers 401: the session is gone. */
/** @type {() => void} */
let onSignedOut = () => {};
/** @param {() => void} fn */
export function setSignedOutHandler(fn) { onSignedOut = fn; }

/**
 * The most of one answer's body the console reads (the rest is not read):
 * its answers are pages of at most 200 sessions or 50 actions, a pause, the
 * stats, /metrics.
 */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/**
 * What a field must be: a type name, `[shape]` for an array of items of
 * that shape, or `{key: shape}` for an object (a key ending in `?` may be
 * absent or null).
 * @typedef {'string' | 'number' | 'boolean' | 'object' | 'array' | any[] | {[key: string]: any}} Shape
 */

/**
 * Where `value` does not have `shape`: the path of the first field that
 * differs ("sessions[3].events.lastSeq"), or null when it conforms.
 * @param {unknown} value
 * @param {Shape} shape
 * @param {string} path
 * @returns {string | null}
 */
export function mismatch(value, shape, path = 'the answer') {
  if (typeof shape === 'string') {
    const ok = shape === 'array' ? Array.isArray(value)
      : shape === 'object' ? typeof value === 'object' && value !== null && !Array.isArray(value)
        : shape === 'number' ? typeof value === 'number' && Number.isFinite(value)
          : typeof value === shape;
    return ok ? null : path;
  }
  if (Array.isArray(shape)) {
    if (!Array.isArray(value)) return path;
    for (let i = 0; i < value.length; i++) {
      const bad = mismatch(value[i], shape[0], `${path}[${i}]`);
      if (bad) return bad;
    }
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return path;
  const o = /** @type {Record<string, unknown>} */ (value);
  for (const [k, sub] of Object.entries(shape)) {
    const optional = k.endsWith('?');
    const key = optional ? k.slice(0, -1) : k;
    if (optional && (o[key] === undefined || o[key] === null)) continue;
    const bad = mismatch(o[key], sub, path === 'the answer' ? key : `${path}.${key}`);
    if (bad) return bad;
  }
  return null;
}

/** The media type of an answer, lower case, without parameters. */
function mediaType(/** @type {Response} */ res) {
  return (res.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * What the server said, in words: a proxy's HTML error page or a body cut
 * short is told apart from acpstore's answers.
 * @param {Response} res
 */
function described(res) {
  const type = mediaType(res);
  return `${res.status}${res.statusText ? ` ${res.statusText}` : ''} (${type || 'no media type'})`;
}

/**
 * An answer that is not acpstore's (another media type, JSON of another
 * shape, a body cut short or too large): a proxy or a server in between.
 * @param {Response} res
 * @param {string} what
 */
function badResponse(res, what) {
  return new ApiError(res.status, 'bad_response',
    `the server's answer ${described(res)} is not acpstore's: ${what}. Is a proxy in between?`);
}

/**
 * The body as text, at most MAX_ANSWER_BYTES (the rest is not read); a
 * connection that breaks while reading is a network error.
 * @param {Response} res
 * @returns {Promise<string>}
 */
async function readText(res) {
  const declared = res.headers.get('content-length');
  if (declared !== null && Number(declared) > MAX_ANSWER_BYTES) {
    await res.body?.cancel().catch(() => {});
    throw badResponse(res, `the body is larger than ${MAX_ANSWER_BYTES} bytes`);
  }
  if (res.body === null) return '';
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let n = 0;
  for (;;) {
    /** @type {ReadableStreamReadResult<Uint8Array>} */
    let chunk;
    try {
      chunk = await reader.read();
    } catch (e) {
      throw new ApiError(0, 'network', `the answer ${described(res)} broke off: ${/** @type {Error} */ (e).message}`);
    }
    if (chunk.done) break;
    n += chunk.value.byteLength;
    if (n > MAX_ANSWER_BYTES) {
      await reader.cancel().catch(() => {});
      throw badResponse(res, `the body is larger than ${MAX_ANSWER_BYTES} bytes`);
    }
    text += decoder.decode(chunk.value, { stream: true });
  }
  return text + decoder.decode();
}

/**
 * The JSON object of an answer, or why it is not one.
 * @param {Response} res
 * @param {string} text
 * @returns {{json: Record<string, any>} | {why: string}}
 */
function jsonObject(res, text) {
  if (mediaType(res) !== 'application/json') return { why: 'not JSON' };
  /** @type {unknown} */
  let v;
  try {
    v = JSON.parse(text);
  } catch {
    return { why: text === '' ? 'an empty body' : 'JSON cut short or malformed' };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { why: 'not a JSON object' };
  return { json: /** @type {Record<string, any>} */ (v) };
}

/**
 * A fetch whose failure to get any answer is an ApiError `network`.
 * @param {string} path
 * @param {RequestInit} init
 */
async function send(path, init) {
  try {
    return await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'network', `the server did not answer (${/** @type {Error} */ (e).message})`);
  }
}

/**
 * The answer checked as the TypeScript client checks it (decision 0015):
 * an error must carry acpstore's error body, else it is `bad_response`
 * with its status (a proxy's HTML 502); a success must be a JSON object
 * of the expected shape. Returns the object, or the ApiError to throw.
 * @param {Response} res
 * @param {Shape | undefined} shape
 * @returns {Promise<Record<string, any> | ApiError>}
 */
async function checked(res, shape) {
  const text = await readText(res);
  const body = jsonObject(res, text);
  if (!res.ok) {
    const err = 'json' in body ? body.json['error'] : undefined;
    if (mismatch(err, { code: 'string', message: 'string' }) !== null) {
      return badResponse(res, 'not an acpstore error');
    }
    return new ApiError(res.status, err.code, err.message);
  }
  if (!('json' in body)) return badResponse(res, body.why);
  const bad = shape === undefined ? null : mismatch(body.json, shape);
  if (bad !== null) return badResponse(res, `${bad} is missing or of another type`);
  return body.json;
}

/**
 * One request. Writes send the CSRF token; acpstore's 401 signs the
 * console out. The answer is checked (see `checked`); `shape` is what the
 * caller reads of it.
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @param {Shape} [shape]
 * @returns {Promise<any>}
 */
export async function call(method, path, body, shape) {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') {
    headers['X-CSRF-Token'] = currentSignIn()?.csrfToken ?? '';
  }
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const epoch = signInEpoch;
  const res = await send(path, {
    method, headers, credentials: 'same-origin', cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return null;
  const r = await checked(res, shape);
  if (r instanceof ApiError) {
    // Only acpstore's own 401 ends the sign-in, and only the one it was
    // sent under (signInEpoch); a proxy's is no reason to ask for the
    // token again.
    if (r.status === 401 && r.code !== 'bad_response' && path !== '/v1/auth/session' &&
        epoch === signInEpoch) {
      remember(null);
      onSignedOut();
    }
    throw r;
  }
  return r;
}

/**
 * A text answer of one of `types` (e.g. /metrics, text/plain), checked
 * like `call`'s.
 * @param {string} path
 * @param {string[]} types
 * @returns {Promise<string>}
 */
export async function getText(path, types) {
  const res = await send(path, { credentials: 'same-origin', cache: 'no-store' });
  if (!res.ok) {
    const r = await checked(res, undefined);
    throw r instanceof ApiError ? r : badResponse(res, 'an error without acpstore\'s error body');
  }
  if (!types.includes(mediaType(res))) {
    await res.body?.cancel().catch(() => {});
    throw badResponse(res, `not ${types.join(' or ')}`);
  }
  return readText(res);
}

/**
 * The object of an SSE frame's data, or null when it is not a JSON object
 * of the shape: the caller ends the stream, which would only repeat it.
 * @param {string} data
 * @param {Shape} shape
 * @returns {Record<string, any> | null}
 */
export function frame(data, shape) {
  try {
    const v = JSON.parse(data);
    return mismatch(v, shape) === null ? v : null;
  } catch {
    return null;
  }
}

/**
 * acpstore's own error answer with this status and code; a proxy's page
 * with the same status (`bad_response`) is not one.
 * @param {unknown} err
 * @param {number} status
 * @param {string} code
 */
export function isApiError(err, status, code) {
  return err instanceof ApiError && err.status === status && err.code === code;
}

/** What a malformed SSE frame ends a stream with. */
export const BAD_FRAME = 'the server sent a frame that is not acpstore\'s (is a proxy in between?)';

/**
 * Trades a token for the session cookie; the token goes in the header of
 * this one request and is then dropped.
 * @param {string} token
 * @returns {Promise<SignIn>}
 */
export async function signIn(token) {
  const res = await send('/v1/auth/session', {
    method: 'POST', credentials: 'same-origin', cache: 'no-store',
    headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
  });
  const r = await checked(res,
    { csrfToken: 'string', expiresAt: 'string', key: { id: 'string', tenantId: 'string', role: 'string' } });
  if (r instanceof ApiError) throw r;
  const s = /** @type {SignIn} */ (/** @type {unknown} */ (r));
  remember(s);
  return s;
}

/** What the pages read of acpstore's records (docs/http_api.md). */
export const SHAPES = {
  session: {
    id: 'string', status: 'string', ownerKeyId: 'string', createdAt: 'string', updatedAt: 'string',
    events: { firstSeq: 'number', lastSeq: 'number', retained: 'number', bytes: 'number' },
  },
  pause: { pauseId: 'string', status: 'string' },
  action: { actionId: 'string', type: 'string', status: 'string', attemptCount: 'number' },
  event: { eventSeq: 'number', eventType: 'string', occurredAt: 'string' },
  entry: { index: 'number', kind: 'string', firstSeq: 'number', lastSeq: 'number' },
  truncated: { firstSeq: 'number' },
  transcriptTruncated: { firstIndex: 'number' },
  transcriptAppend: { index: 'number', lastSeq: 'number', lastAt: 'string', text: 'string' },
  transcriptPage: { entries: 'array' },
  error: { error: { code: 'string', message: 'string' } },
};

export async function signOut() {
  try {
    await call('DELETE', '/v1/auth/session');
  } finally {
    remember(null);
  }
}

/** True when the role may change sessions (SPEC §6). */
export function canWrite() {
  const role = currentSignIn()?.key.role;
  return role === 'writer' || role === 'admin';
}

/**
 * A query string ("?a=1&b=2", or "" when empty). Not URLSearchParams: it
 * sends a space as `+`, which acpstore reads as a literal plus
 * (docs/http_api.md, Conventions); here a space is %20.
 * @param {Record<string, string | undefined>} params
 */
export function query(params) {
  const s = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(/** @type {string} */ (v))}`)
    .join('&');
  return s === '' ? '' : `?${s}`;
}

/**
 * False for "." and "..": the browser removes such path segments, also
 * percent-encoded (%2E), so a request for them would reach another route
 * or another session. No URL the page can fetch names them.
 * @param {string} id
 */
export function addressable(id) {
  return id !== '.' && id !== '..';
}

/** @param {string} id */
export function sessionPath(id) {
  if (!addressable(id)) throw new Error(`session id "${id}" cannot be put in a URL path`);
  return `/v1/sessions/${encodeURIComponent(id)}`;
}
