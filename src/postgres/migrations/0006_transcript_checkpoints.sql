-- acpstore postgres schema, version 6: transcripts are folded lazily
-- (decision 0020, src/postgres/pg_transcripts.h). The stored transcript
-- (the tables of version 4) becomes a checkpoint: the fold of the
-- session's events up to folded_seq. The events after it (the tail) are
-- folded by readers on the fly, and into the checkpoint by the append
-- that leaves `unfolded` (its events of folded types, counted by every
-- append) long enough, or by whatever deletes them first.
--
-- Sessions with a transcript head were folded eagerly up to their last
-- seq: their checkpoint is current. The others (written before version 4)
-- start from seq 0 with every retained event possibly unfolded (an upper
-- bound: a checkpoint resets it); a checkpoint or a read finding their
-- first events gone marks their transcript incomplete, as version 4's
-- rebuild did.
ALTER TABLE sessions
  ADD COLUMN folded_seq bigint NOT NULL DEFAULT 0,
  ADD COLUMN unfolded   bigint NOT NULL DEFAULT 0;

UPDATE sessions s SET folded_seq = s.last_seq
  WHERE EXISTS (SELECT 1 FROM transcripts t
                WHERE t.tenant_id = s.tenant_id AND t.session_id = s.session_id);
UPDATE sessions SET unfolded = retained WHERE folded_seq < last_seq;
