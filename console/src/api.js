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

/** @param {SignIn | null} s */
function remember(s) {
  if (s) sessionStorage.setItem(STORE_KEY, JSON.stringify(s));
  else sessionStorage.removeItem(STORE_KEY);
}

/** Called when any request answers 401: the session is gone. */
/** @type {() => void} */
let onSignedOut = () => {};
/** @param {() => void} fn */
export function setSignedOutHandler(fn) { onSignedOut = fn; }

/**
 * One request. Writes send the CSRF token; 401 signs the console out.
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
export async function call(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') {
    headers['X-CSRF-Token'] = currentSignIn()?.csrfToken ?? '';
  }
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method, headers, credentials: 'same-origin', cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return null;
  const text = await res.text();
  /** @type {any} */
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (!res.ok) {
    const err = json?.error;
    const e = new ApiError(res.status, err?.code ?? 'http_' + res.status,
      err?.message ?? `${res.status} ${res.statusText}`);
    if (res.status === 401 && path !== '/v1/auth/session') {
      remember(null);
      onSignedOut();
    }
    throw e;
  }
  return json;
}

/**
 * Trades a token for the session cookie; the token goes in the header of
 * this one request and is then dropped.
 * @param {string} token
 * @returns {Promise<SignIn>}
 */
export async function signIn(token) {
  const res = await fetch('/v1/auth/session', {
    method: 'POST', credentials: 'same-origin', cache: 'no-store',
    headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
  });
  const json = await res.json().catch(() => null);
  if (!res.ok) {
    throw new ApiError(res.status, json?.error?.code ?? 'http_' + res.status,
      json?.error?.message ?? `${res.status} ${res.statusText}`);
  }
  const s = /** @type {SignIn} */ (json);
  remember(s);
  return s;
}

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
