// Conversions between acpstore's HTTP records (ISO timestamps, `type`) and
// Aegis's (Date objects, epoch-ms session times, `actionType`). Every call
// returns a fresh object.

import type { Action, Event, Pause, Session } from '../openapi.gen.js';
import type {
  AcpActionRecord,
  AcpEventRecord,
  AcpPauseRecord,
  AcpSessionRecord,
} from './types.js';

const ms = (t: string): number => Date.parse(t);
const date = (t: string): Date => new Date(Date.parse(t));

function copyDefined<T extends object>(target: T, source: Partial<T>): T {
  for (const [k, v] of Object.entries(source)) if (v !== undefined) (target as Record<string, unknown>)[k] = v;
  return target;
}

export function toAegisSession(s: Session): AcpSessionRecord {
  const r: AcpSessionRecord = {
    id: s.id,
    tenantId: s.tenantId,
    ownerKeyId: s.ownerKeyId,
    conversationId: s.conversationId,
    transcriptId: s.transcriptId,
    status: s.status,
    createdAt: ms(s.createdAt),
    updatedAt: ms(s.updatedAt),
  };
  return copyDefined(r, {
    parentSessionId: s.parentSessionId,
    rootSessionId: s.rootSessionId,
    correlationId: s.correlationId,
    resumeFromSessionId: s.resumeFromSessionId,
    acpAgentSessionId: s.acpAgentSessionId,
    claudeSessionId: s.claudeSessionId,
    currentBackendRunId: s.currentBackendRunId,
    closedAt: s.closedAt === undefined ? undefined : ms(s.closedAt),
    failedAt: s.failedAt === undefined ? undefined : ms(s.failedAt),
    backendMetadata: s.backendMetadata,
    validationWarnings: s.validationWarnings?.map((w) => ({ code: w.code, message: w.message ?? '' })),
  });
}

export function toAegisEvent(e: Event): AcpEventRecord {
  const r: AcpEventRecord = {
    eventId: e.eventId,
    sessionId: e.sessionId,
    tenantId: e.tenantId,
    ownerKeyId: e.ownerKeyId,
    eventSeq: e.eventSeq,
    eventType: e.eventType,
    occurredAt: date(e.occurredAt),
    ingestedAt: date(e.ingestedAt),
    payload: e.payload,
  };
  return copyDefined(r, { backendRunId: e.backendRunId, payloadRef: e.payloadRef });
}

export function toAegisAction(a: Action): AcpActionRecord {
  const r: AcpActionRecord = {
    actionId: a.actionId,
    sessionId: a.sessionId,
    tenantId: a.tenantId,
    ownerKeyId: a.ownerKeyId,
    actionType: a.type,
    status: a.status,
    createdAt: date(a.createdAt),
    availableAt: date(a.availableAt),
    attemptCount: a.attemptCount,
    metadata: (a.metadata) ?? {},
  };
  return copyDefined(r, {
    idempotencyKey: a.idempotencyKey,
    leasedUntil: a.leasedUntil === undefined ? undefined : date(a.leasedUntil),
    approvalId: a.approvalId,
    controlRequestId: a.controlRequestId,
    resultMetadata: a.resultMetadata,
    errorMetadata: a.errorMetadata,
    completedAt: a.completedAt === undefined ? undefined : date(a.completedAt),
    failedAt: a.failedAt === undefined ? undefined : date(a.failedAt),
    cancelledAt: a.cancelledAt === undefined ? undefined : date(a.cancelledAt),
  });
}

export function toAegisPause(p: Pause): AcpPauseRecord {
  const opt = (t: string | undefined): Date | undefined => (t === undefined ? undefined : date(t));
  const r: AcpPauseRecord = {
    pauseId: p.pauseId,
    sessionId: p.sessionId,
    tenantId: p.tenantId,
    ownerKeyId: p.ownerKeyId,
    status: p.status,
    reason: p.reason,
    requestedBy: p.requestedBy,
    requestedAt: date(p.requestedAt),
    updatedAt: date(p.updatedAt),
  };
  return copyDefined(r, {
    idempotencyKey: p.idempotencyKey,
    metadata: p.metadata,
    interventionId: p.interventionId,
    interventionBy: p.interventionBy,
    interventionStartedAt: opt(p.interventionStartedAt),
    interventionCompletedBy: p.interventionCompletedBy,
    interventionCompletedAt: opt(p.interventionCompletedAt),
    guidance: p.guidance,
    resumeId: p.resumeId,
    resumedBy: p.resumedBy,
    resumedAt: opt(p.resumedAt),
    resumeMetadata: p.resumeMetadata,
  });
}
