-- acpstore postgres schema, version 5: the events -> sessions foreign key
-- is dropped (issue 12). PostgreSQL checked it with a query per inserted
-- event row (an RI trigger: AfterTriggerEndQuery, SPI, a KEY SHARE lock on
-- the session row), though every append already holds that row FOR UPDATE
-- and reads it in the same transaction: the check could never fail.
--
-- What the key's ON DELETE CASCADE did, the engine now does itself: the
-- statement that deletes a session row deletes its events in the same
-- statement (src/postgres/pg_write.cc, kDeleteSession), and retention
-- already deleted events itself. An event row is written only by an append
-- or an import that holds its session row locked, so no event can be
-- inserted for a session that is gone (the lock waits for the delete, then
-- finds no row).
--
-- The constraint is found by what it is, not by its generated name.
DO $$
DECLARE
  fk name;
BEGIN
  FOR fk IN
    SELECT c.conname FROM pg_constraint c
    WHERE c.conrelid = 'events'::regclass AND c.contype = 'f'
  LOOP
    EXECUTE format('ALTER TABLE events DROP CONSTRAINT %I', fk);
  END LOOP;
END
$$;
