-- acpstore postgres schema, version 4: transcripts (SPEC §13, decision
-- 0016), written in the same transaction as the appends that feed them
-- (src/postgres/pg_transcripts.h). A transcript is a head row plus one row
-- per entry; an append rewrites the head and only the entries it created
-- or changed, never the whole transcript. Event retention never touches
-- these tables; deleting the session deletes them (ON DELETE CASCADE).

-- head: the transcript's head (src/transcript/transcript.h EncodeHead:
-- first index, complete, folded seq, entry count, entries per kind, usage
-- totals). The columns beside it repeat what SQL reads: first_index and
-- end_index (one past the newest entry), bytes (what the per-session cap
-- bounds), complete, and open_idx, the entries of tools started and not yet
-- completed (the rows a fold may change besides the newest).
CREATE TABLE transcripts (
  tenant_id   text COLLATE "C" NOT NULL,
  session_id  text COLLATE "C" NOT NULL,
  first_index bigint   NOT NULL,
  end_index   bigint   NOT NULL,
  bytes       bigint   NOT NULL,
  complete    boolean  NOT NULL,
  open_idx    bigint[] NOT NULL,
  head        bytea    NOT NULL,
  PRIMARY KEY (tenant_id, session_id),
  FOREIGN KEY (tenant_id, session_id) REFERENCES sessions ON DELETE CASCADE
);

-- One entry (transcript.h EncodeEntry in `body`, with its text empty), with
-- the columns a page filters by: its kind (EntryKind: 1 assistant .. 7
-- usage), the last seq folded into it, its Entry::Bytes() with the text
-- (what the cap subtracts when it drops the entry) and the text's length.
CREATE TABLE transcript_entries (
  tenant_id  text COLLATE "C" NOT NULL,
  session_id text COLLATE "C" NOT NULL,
  idx        bigint   NOT NULL,
  kind       smallint NOT NULL,
  last_seq   bigint   NOT NULL,
  bytes      bigint   NOT NULL,
  text_len   bigint   NOT NULL,
  body       bytea    NOT NULL,
  PRIMARY KEY (tenant_id, session_id, idx),
  FOREIGN KEY (tenant_id, session_id) REFERENCES sessions ON DELETE CASCADE
);

-- An entry's text, in the pieces the appends that wrote it added (a
-- message grows by one piece per append; `part` is the first seq of that
-- append): a delta inserts a small row instead of rewriting the message.
-- The text is the pieces concatenated in `part` order.
CREATE TABLE transcript_text (
  tenant_id  text COLLATE "C" NOT NULL,
  session_id text COLLATE "C" NOT NULL,
  idx        bigint NOT NULL,
  part       bigint NOT NULL,
  piece      bytea  NOT NULL,
  PRIMARY KEY (tenant_id, session_id, idx, part),
  FOREIGN KEY (tenant_id, session_id) REFERENCES sessions ON DELETE CASCADE
);
