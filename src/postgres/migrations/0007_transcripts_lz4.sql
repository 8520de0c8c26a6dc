-- acpstore postgres schema, version 7: transcript rows are TOAST-compressed
-- with lz4 instead of PostgreSQL's default pglz, as event payloads are since
-- version 3 (decision 0017). An entry row's body (a tool's input, up to
-- --transcript-max-tool-bytes) and a text piece (a tool's result, or what a
-- checkpoint added to a message) are often over the TOAST threshold (~2 KB),
-- so a checkpoint compressed them with pglz: with 2.5 KB tool events,
-- pglz_compress was ~4.5% of PostgreSQL's CPU with transcripts on in perf
-- (decision 0020, "Checkpoints after the COMMIT"). Only new values use it:
-- rows written before keep pglz, and PostgreSQL reads both.
--
-- lz4 needs PostgreSQL 14 and a server built with it (Debian's is). On
-- PostgreSQL 13, or a server built without lz4, the columns keep pglz and
-- the schema version still becomes 7.
DO $$
BEGIN
  IF current_setting('server_version_num')::int >= 140000 THEN
    BEGIN
      EXECUTE 'ALTER TABLE transcript_entries ALTER COLUMN body SET COMPRESSION lz4';
      EXECUTE 'ALTER TABLE transcript_text ALTER COLUMN piece SET COMPRESSION lz4';
      EXECUTE 'ALTER TABLE transcripts ALTER COLUMN head SET COMPRESSION lz4';
    EXCEPTION WHEN feature_not_supported THEN
      NULL;  -- "compression method lz4 not supported": built without it
    END;
  END IF;
END
$$;
