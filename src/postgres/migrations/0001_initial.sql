-- acpstore postgres schema, version 1 (docs/spec.md §10, src/postgres/README.md).
-- Applied inside the acpstore schema (search_path), in one transaction,
-- under the migration advisory lock. Never edit a released migration: add
-- the next numbered file.
--
-- Records are stored as their binary encoding (docs/mutation_format.md,
-- the same bytes the file engine journals) in `record`, beside the columns
-- the engine filters, orders and locks by. Event payloads are the canonical
-- JSON text, byte for byte (decision 0007). Times are Unix milliseconds.
-- Identifiers are compared byte for byte (SPEC §2.5): COLLATE "C", which
-- also makes SQL page in the same (time, id) order as the other engines.

-- A session row also carries its event stream's counters: last_seq is the
-- per-session seq counter (the high-water mark, advanced in the append's
-- transaction); first_seq/retained/payload_bytes follow retention.
-- incarnation tells a subscription that its session was deleted even if
-- the id was created again since.
CREATE SEQUENCE session_incarnation;

CREATE TABLE sessions (
  tenant_id     text COLLATE "C" NOT NULL,
  session_id    text COLLATE "C" NOT NULL,
  owner_key_id  text COLLATE "C" NOT NULL,
  status        smallint NOT NULL,
  updated_at    bigint   NOT NULL,
  ended_at      bigint,
  incarnation   bigint   NOT NULL DEFAULT nextval('session_incarnation'),
  first_seq     bigint   NOT NULL DEFAULT 1,
  last_seq      bigint   NOT NULL DEFAULT 0,
  retained      bigint   NOT NULL DEFAULT 0,
  payload_bytes bigint   NOT NULL DEFAULT 0,
  record        bytea    NOT NULL,
  PRIMARY KEY (tenant_id, session_id)
);
CREATE INDEX sessions_by_tenant ON sessions (tenant_id, updated_at DESC, session_id DESC);
CREATE INDEX sessions_by_owner ON sessions (tenant_id, owner_key_id, updated_at DESC, session_id DESC);
CREATE INDEX sessions_ended ON sessions (ended_at) WHERE ended_at IS NOT NULL;

CREATE TABLE events (
  tenant_id       text COLLATE "C" NOT NULL,
  session_id      text COLLATE "C" NOT NULL,
  seq             bigint NOT NULL,
  client_event_id text COLLATE "C",
  event_type      text   NOT NULL,
  occurred_at     bigint NOT NULL,
  ingested_at     bigint NOT NULL,
  backend_run_id  text,
  payload_ref     text,
  payload         text   NOT NULL,
  PRIMARY KEY (tenant_id, session_id, seq),
  FOREIGN KEY (tenant_id, session_id) REFERENCES sessions ON DELETE CASCADE
);
CREATE INDEX events_by_client_id ON events (tenant_id, session_id, client_event_id)
  WHERE client_event_id IS NOT NULL;

-- insertion: the lease order's last tie-breaker, fixed at enqueue.
-- finished_at: when a terminal action finished (action retention).
CREATE TABLE actions (
  tenant_id       text COLLATE "C" NOT NULL,
  action_id       text COLLATE "C" NOT NULL,
  session_id      text COLLATE "C" NOT NULL,
  owner_key_id    text COLLATE "C" NOT NULL,
  type            smallint NOT NULL,
  status          smallint NOT NULL,
  created_at      bigint   NOT NULL,
  available_at    bigint   NOT NULL,
  leased_until    bigint,
  finished_at     bigint,
  idempotency_key text COLLATE "C",
  insertion       bigserial,
  record          bytea    NOT NULL,
  PRIMARY KEY (tenant_id, action_id),
  FOREIGN KEY (tenant_id, session_id) REFERENCES sessions ON DELETE CASCADE
);
CREATE UNIQUE INDEX actions_by_idempotency_key ON actions (tenant_id, session_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE INDEX actions_by_tenant ON actions (tenant_id, created_at DESC, action_id DESC);
CREATE INDEX actions_by_session ON actions (tenant_id, session_id, created_at DESC, action_id DESC);
-- status 0 = queued: the lease order.
CREATE INDEX actions_queued ON actions (tenant_id, available_at, created_at, insertion)
  WHERE status = 0;
-- status 1 = leased: the expiry sweep.
CREATE INDEX actions_leased ON actions (leased_until) WHERE status = 1;
CREATE INDEX actions_finished ON actions (finished_at) WHERE finished_at IS NOT NULL;

-- position: creation order within the store (a session's latest pause).
CREATE TABLE pauses (
  tenant_id  text COLLATE "C" NOT NULL,
  session_id text COLLATE "C" NOT NULL,
  pause_id   text COLLATE "C" NOT NULL,
  status     smallint NOT NULL,
  position   bigserial,
  record     bytea    NOT NULL,
  PRIMARY KEY (tenant_id, session_id, pause_id),
  FOREIGN KEY (tenant_id, session_id) REFERENCES sessions ON DELETE CASCADE
);
