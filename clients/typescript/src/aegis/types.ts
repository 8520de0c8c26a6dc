// The shapes of Aegis's ACP store interfaces (its local-storage/types.ts),
// declared here from their documented signatures so this package needs no
// dependency on Aegis. Timestamps are Date objects, except the session's,
// which are epoch-ms numbers, exactly as in Aegis.

export type AcpJson = null | boolean | number | string | AcpJson[] | { [key: string]: AcpJson };
export type AcpMetadata = Record<string, string | number | boolean | null>;

export interface AcpScope {
  tenantId: string;
  ownerKeyId: string;
}

export type AcpSessionStatus =
  | 'initializing'
  | 'idle'
  | 'running'
  | 'paused'
  | 'intervening'
  | 'closing'
  | 'closed'
  | 'failed';

export interface AcpValidationWarning {
  code: string;
  message: string;
}

export interface AcpSessionRecord {
  id: string;
  tenantId: string;
  ownerKeyId: string;
  conversationId: string;
  transcriptId: string;
  parentSessionId?: string;
  rootSessionId?: string;
  correlationId?: string;
  resumeFromSessionId?: string;
  acpAgentSessionId?: string;
  claudeSessionId?: string;
  currentBackendRunId?: string;
  status: AcpSessionStatus;
  createdAt: number;
  updatedAt: number;
  closedAt?: number;
  failedAt?: number;
  backendMetadata?: AcpMetadata;
  validationWarnings?: AcpValidationWarning[];
}

export interface AcpSessionListInput extends AcpScope {
  statuses?: AcpSessionStatus[];
  limit?: number;
  updatedAfter?: number | Date;
}

export interface AcpSessionStore {
  create(record: AcpSessionRecord): Promise<void>;
  get(id: string, scope: AcpScope): Promise<AcpSessionRecord | null>;
  update(record: AcpSessionRecord, scope: AcpScope): Promise<AcpSessionRecord | null>;
  list(input: AcpSessionListInput): Promise<AcpSessionRecord[]>;
}

export interface AcpEventInput extends AcpScope {
  sessionId: string;
  backendRunId?: string;
  eventType: string;
  occurredAt?: Date;
  payload: unknown;
  payloadRef?: string;
}

export interface AcpEventRecord extends AcpScope {
  eventId: string;
  sessionId: string;
  eventSeq: number;
  backendRunId?: string;
  eventType: string;
  occurredAt: Date;
  ingestedAt: Date;
  payload: AcpJson;
  payloadRef?: string;
}

export interface AcpEventListInput extends AcpScope {
  sessionId: string;
  afterEventSeq?: number;
  limit?: number;
}

export interface AcpEventStore {
  append(input: AcpEventInput): Promise<AcpEventRecord>;
  list(input: AcpEventListInput): Promise<AcpEventRecord[]>;
}

export type AcpActionType =
  | 'prompt'
  | 'approve'
  | 'reject'
  | 'pause'
  | 'resume'
  | 'cancel'
  | 'driver_transfer'
  | 'intervene'
  | 'close';
export type AcpActionStatus = 'queued' | 'leased' | 'completed' | 'failed' | 'cancelled';

export interface AcpActionInput extends AcpScope {
  sessionId: string;
  actionId: string;
  type: AcpActionType;
  idempotencyKey?: string;
  approvalId?: string;
  controlRequestId?: string;
  metadata?: AcpMetadata;
}

export interface AcpActionRecord extends AcpScope {
  actionId: string;
  sessionId: string;
  actionType: AcpActionType;
  idempotencyKey?: string;
  status: AcpActionStatus;
  createdAt: Date;
  availableAt: Date;
  leasedUntil?: Date;
  attemptCount: number;
  approvalId?: string;
  controlRequestId?: string;
  metadata?: AcpMetadata;
  resultMetadata?: AcpMetadata;
  errorMetadata?: AcpMetadata;
  completedAt?: Date;
  failedAt?: Date;
  cancelledAt?: Date;
}

export interface AcpActionQueue {
  enqueue(input: AcpActionInput, options?: { availableAt?: Date }): Promise<AcpActionRecord>;
  leaseNext(scope: AcpScope, options: { now?: Date; leaseUntil: Date }): Promise<AcpActionRecord | null>;
  complete(
    actionId: string,
    scope: AcpScope,
    options?: { now?: Date; resultMetadata?: AcpMetadata },
  ): Promise<AcpActionRecord | null>;
  fail(
    actionId: string,
    scope: AcpScope,
    options?: { now?: Date; errorMetadata?: AcpMetadata },
  ): Promise<AcpActionRecord | null>;
  cancel(
    actionId: string,
    scope: AcpScope,
    options?: { now?: Date; errorMetadata?: AcpMetadata },
  ): Promise<AcpActionRecord | null>;
  sweepOrphanedActions(now?: Date): Promise<AcpActionRecord[]>;
}

export type AcpPauseStatus = 'paused' | 'intervening' | 'resumed';

export interface AcpPauseRecord extends AcpScope {
  pauseId: string;
  sessionId: string;
  status: AcpPauseStatus;
  idempotencyKey?: string;
  reason: string;
  requestedBy: string;
  requestedAt: Date;
  metadata?: AcpMetadata;
  interventionId?: string;
  interventionBy?: string;
  interventionStartedAt?: Date;
  interventionCompletedBy?: string;
  interventionCompletedAt?: Date;
  guidance?: string;
  resumeId?: string;
  resumedBy?: string;
  resumedAt?: Date;
  resumeMetadata?: AcpMetadata;
  updatedAt: Date;
}

export interface AcpPauseInput extends AcpScope {
  pauseId?: string;
  sessionId: string;
  reason: string;
  requestedBy: string;
  requestedAt?: Date;
  idempotencyKey?: string;
  metadata?: AcpMetadata;
}

export interface AcpStartInterventionInput extends AcpScope {
  sessionId: string;
  interventionId: string;
  interventionBy: string;
  startedAt?: Date;
}

export interface AcpCompleteInterventionInput extends AcpScope {
  sessionId: string;
  interventionId: string;
  completedBy: string;
  completedAt?: Date;
  guidance?: string;
}

export interface AcpResumeInput extends AcpScope {
  sessionId: string;
  resumeId: string;
  resumedBy: string;
  resumedAt?: Date;
  resumeMetadata?: AcpMetadata;
}

export interface AcpPauseInterventionStore {
  pause(input: AcpPauseInput): Promise<AcpPauseRecord>;
  getActive(sessionId: string, scope: AcpScope): Promise<AcpPauseRecord | null>;
  getLatest(sessionId: string, scope: AcpScope): Promise<AcpPauseRecord | null>;
  startIntervention(input: AcpStartInterventionInput): Promise<AcpPauseRecord | null>;
  completeIntervention(input: AcpCompleteInterventionInput): Promise<AcpPauseRecord | null>;
  resume(input: AcpResumeInput): Promise<AcpPauseRecord | null>;
}

export interface ServiceHealth {
  healthy: boolean;
  details?: string;
}

/** Aegis's AcpLocalStorageProfile: exactly these eight members. */
export interface AcpLocalStorageProfile {
  readonly sessionStore: AcpSessionStore;
  readonly eventStore: AcpEventStore;
  readonly actionQueue: AcpActionQueue;
  readonly pauseInterventionStore: AcpPauseInterventionStore;
  start(): Promise<void>;
  stop(signal?: AbortSignal): Promise<void>;
  health(): Promise<ServiceHealth>;
  getPersistError(): Error | null;
}

/** Aegis's error classes, passed in so that `instanceof` works in Aegis. */
export interface AegisErrorClasses {
  AcpValidationError: new (message: string) => Error;
  AcpDurableIdentityError: new (message: string) => Error;
}
