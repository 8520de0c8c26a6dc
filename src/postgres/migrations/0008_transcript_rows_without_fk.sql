-- acpstore postgres schema, version 8: the transcript_entries and
-- transcript_text -> sessions foreign keys are dropped (issue 16, decision
-- 0026), as the events' were in version 5. PostgreSQL checked each with a
-- query per inserted row (an RI trigger: SPI, a KEY SHARE lock on the
-- session row), and a transcript checkpoint inserts an entry row and a text
-- piece per entry its tail created or grew (hundreds per checkpoint when
-- tools are folded), though every checkpoint already holds the session row
-- FOR UPDATE: the check could never fail.
--
-- What the keys' ON DELETE CASCADE did, the engine now does itself: the
-- statement that deletes a session row deletes its entry rows and text
-- pieces in the same statement (src/postgres/pg_write.cc, kDeleteSession).
-- These rows are written only by a checkpoint holding the session row
-- locked, so none can be written for a session that is gone. The head row
-- (`transcripts`, one per session, written once per checkpoint) keeps its
-- key and its cascade.
--
-- The constraints are found by what they are, not by their generated names.
DO $$
DECLARE
  t regclass;
  fk name;
BEGIN
  FOREACH t IN ARRAY ARRAY['transcript_entries'::regclass,
                           'transcript_text'::regclass]
  LOOP
    FOR fk IN
      SELECT c.conname FROM pg_constraint c
      WHERE c.conrelid = t AND c.contype = 'f'
    LOOP
      EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', t, fk);
    END LOOP;
  END LOOP;
END
$$;
