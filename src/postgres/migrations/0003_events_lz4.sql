-- acpstore postgres schema, version 3: event payloads are TOAST-compressed
-- with lz4 instead of PostgreSQL's default pglz (decision 0017). A 2.5 KB
-- payload is over the TOAST threshold (~2 KB), so every append compressed
-- it with pglz: ~20% of the PostgreSQL CPU of an append in perf. lz4 is
-- several times cheaper to compress and to decompress; the stored text is
-- the same bytes (decision 0007). Only new values use it: rows written
-- before keep pglz, and PostgreSQL reads both.
--
-- lz4 needs PostgreSQL 14 and a server built with it (Debian's is). On
-- PostgreSQL 13, or a server built without lz4, the column keeps pglz and
-- the schema version still becomes 3.
DO $$
BEGIN
  IF current_setting('server_version_num')::int >= 140000 THEN
    BEGIN
      EXECUTE 'ALTER TABLE events ALTER COLUMN payload SET COMPRESSION lz4';
    EXCEPTION WHEN feature_not_supported THEN
      NULL;  -- "compression method lz4 not supported": built without it
    END;
  END IF;
END
$$;
