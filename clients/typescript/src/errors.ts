// AcpstoreError: the one error class of the client. Every failed call
// rejects with it: an HTTP error carries the server's status and error
// body; a transport failure has status 0.

import type { ErrorBody } from './openapi.gen.js';

/** The error codes of the HTTP API (SPEC §5), plus the client's own. */
export type ApiErrorCode = ErrorBody['error']['code'];
export type ClientErrorCode =
  | 'network' // the request did not reach the server or the answer was cut
  | 'timeout' // no answer within the request timeout
  | 'bad_response'; // the server answered with something that is not the API's
export type AcpstoreErrorCode = ApiErrorCode | ClientErrorCode;

export class AcpstoreError extends Error {
  override readonly name = 'AcpstoreError';
  /** HTTP status; 0 when no HTTP answer arrived. */
  readonly status: number;
  readonly code: AcpstoreErrorCode;
  /** The camelCase path of the offending field, when the server named one. */
  readonly field: string | undefined;
  /** Every other key of the error body (lastSeq, status, event, ...). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    status: number,
    code: AcpstoreErrorCode,
    message: string,
    options: { field?: string; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.code = code;
    this.field = options.field;
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }

  /** True for failures where the request may not have reached the store. */
  get isTransport(): boolean {
    return this.status === 0;
  }
}

/** Builds the error for an HTTP answer with a non-2xx status. */
export function errorFromBody(status: number, text: string): AcpstoreError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const err = (body as Partial<ErrorBody> | undefined)?.error;
  if (err === undefined || typeof err.code !== 'string' || typeof err.message !== 'string') {
    return new AcpstoreError(status, 'bad_response', `HTTP ${status} without an acpstore error body`);
  }
  const { code, message, field, ...details } = err;
  return new AcpstoreError(status, code, message, {
    ...(typeof field === 'string' ? { field } : {}),
    details,
  });
}

/** The HTTP status of each error code (src/server/error_map.cc). */
const STATUS_OF: Readonly<Record<ApiErrorCode, number>> = {
  invalid_argument: 400,
  unauthenticated: 401,
  forbidden: 403,
  csrf_rejected: 403,
  origin_not_allowed: 403,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  conflict: 409,
  invalid_transition: 409,
  seq_conflict: 409,
  idempotency_conflict: 409,
  stale_lease: 409,
  already_paused: 409,
  not_paused: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_requests: 429,
  header_too_large: 431,
  internal: 500,
  not_implemented: 501,
  data_loss: 500,
  unavailable: 503,
  insufficient_storage: 507,
};

/**
 * Builds the error of an SSE `event: error` frame, whose data is an error
 * body: the status is the one an HTTP answer with that code has
 * (`unauthenticated` 401, `not_found` 404, ...), so a frame and an answer
 * are handled alike; 500 for a code this client does not know.
 */
export function errorFromFrame(data: string): AcpstoreError {
  let code: unknown;
  try {
    code = (JSON.parse(data) as Partial<ErrorBody> | null)?.error?.code;
  } catch {
    code = undefined;
  }
  if (typeof code !== 'string') {
    // A protocol error of the 200 stream (never retried).
    return new AcpstoreError(200, 'bad_response', 'an event: error frame without an acpstore error body');
  }
  return errorFromBody(Object.hasOwn(STATUS_OF, code) ? STATUS_OF[code as ApiErrorCode] : 500, data);
}
