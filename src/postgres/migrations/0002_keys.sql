-- acpstore postgres schema, version 2: API keys in the database (SPEC §6,
-- §10), so every server of this schema honours the same keys. Only the
-- SHA-256 of a token is stored (src/auth/token.h); revoked keys stay, so
-- an id is never reused.
CREATE TABLE keys (
  key_id     text COLLATE "C" PRIMARY KEY,
  lookup     text COLLATE "C" NOT NULL UNIQUE,  -- the token's public handle
  digest     text   NOT NULL,                   -- hex SHA-256 of the token
  tenant_id  text COLLATE "C" NOT NULL,
  role       text   NOT NULL,                   -- reader, writer, admin, service
  name       text   NOT NULL,
  -- Service keys: the tenants they may act in, joined by U+001F (ids have
  -- no control characters); '' = every tenant.
  tenants    text   NOT NULL,
  created_at bigint NOT NULL,
  revoked_at bigint
);
