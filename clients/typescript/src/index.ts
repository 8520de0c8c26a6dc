// @acpstore/client: a typed client for the acpstore HTTP API.
export { AcpstoreClient, backoffMs } from './client.js';
export type {
  AppendOptions,
  CallOptions,
  ClientOptions,
  Created,
  EventInput,
  ListActionsQuery,
  ListEventsQuery,
  GetTranscriptQuery,
  ListSessionsQuery,
  RetryOptions,
  Scope,
  StreamTranscriptOptions,
  TranscriptRecreated,
  TranscriptTruncated,
} from './client.js';
export { DEFAULT_MAX_RESPONSE_BYTES } from './answer.js';
export { AcpstoreError } from './errors.js';
export type { AcpstoreErrorCode, ApiErrorCode, ClientErrorCode } from './errors.js';
export type { FollowItem, FollowOptions } from './follow.js';
export * from './openapi.gen.js';
export { operations } from './openapi.gen.js';
