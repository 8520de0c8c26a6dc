// PgKeyStore: the API keys of a postgres-engine deployment, in the
// database (SPEC §6, §10) rather than in a data directory's keys.json, so
// that `acpstore keys ... --postgres-url` and POST/DELETE /v1/keys on any
// server take effect on every server. Same contract as auth::KeyStore
// (auth/key_store.h): tokens are checked against their SHA-256 in constant
// time, ids are never reused, revoked keys are kept.
//
// Every server keeps the table in memory and reloads it every
// reload_interval_ms (default 1 s): a revocation reaches every server
// within that. A token whose lookup handle is not in memory is looked up
// in the database at once, so a new key works on every server at once.
//
// Connections: a pool of two (the reload thread and one caller, more wait),
// each borrowed for one statement or transaction and returned before
// anything else borrows (no method holds one while it reloads: two callers
// doing so would each wait for the other's for ever). A caller that finds
// both lent out for 10 s fails with kUnavailable instead of waiting on.
//
// Thread-safety: every method may be called from any thread. Lifetime: the
// destructor stops the reload thread.

#ifndef ACPSTORE_POSTGRES_PG_KEY_STORE_H_
#define ACPSTORE_POSTGRES_PG_KEY_STORE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "acpstore/clock.h"
#include "acpstore/result.h"
#include "auth/key_store.h"
#include "auth/principal.h"
#include "auth/token.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "engine/periodic_thread.h"
#include "postgres/pg_pool.h"

namespace acpstore::postgres {

struct PgKeyStoreOptions {
  // 0: no reload thread (one-shot tools such as `acpstore keys`).
  int64_t reload_interval_ms = 1000;
  Clock* clock = nullptr;  // nullptr: SystemClock()
};

class PgKeyStore final : public auth::Authenticator, public auth::KeyManager {
 public:
  // Connects and migrates the schema (pg_migrate.h), then loads the keys.
  static Result<std::unique_ptr<PgKeyStore>> Open(
      const std::string& url, const std::string& schema,
      const PgKeyStoreOptions& options = {});
  ~PgKeyStore() override;

  Result<auth::Principal> Authenticate(std::string_view bearer_token) override;
  // From memory (reloaded every reload_interval_ms, so a revocation on
  // another server ends browser sessions here within that); a key id not
  // in memory yet is read from the database at once.
  Result<auth::Principal> PrincipalOfKey(std::string_view key_id) override;
  Result<auth::CreatedKey> CreateKey(const auth::NewKey& req) override;
  Result<std::vector<auth::KeyInfo>> ListKeys(
      std::string_view tenant_id) override;
  Status RevokeKey(std::string_view tenant_id, std::string_view id) override;
  Status RevokeTenantKey(std::string_view tenant_id,
                         std::string_view id) override;

  // With no key in the table, creates the first admin key (tenant
  // "default") and writes its token to <data_dir>/bootstrap-admin.token;
  // of several servers starting together exactly one does (an advisory
  // lock). std::nullopt when keys exist.
  Result<std::optional<auth::BootstrapKey>> EnsureBootstrapKey(
      const std::string& data_dir);

  // Reads the whole table into memory.
  Status Reload();
  // Moves when a Reload finds the keys changed (one added, revoked or
  // removed), not at every poll.
  uint64_t revision() const override { return revision_.load(); }

 private:
  struct Key {
    std::string lookup;
    auth::Digest digest{};
    auth::KeyInfo info;
  };
  using KeyMap = std::unordered_map<std::string, Key>;  // by lookup

  PgKeyStore(const std::string& url, const std::string& schema,
             const PgKeyStoreOptions& options);
  // RevokeKey, and with `service_keys` false RevokeTenantKey.
  Status Revoke(std::string_view tenant_id, std::string_view id,
                bool service_keys);
  // EnsureBootstrapKey's transaction, on a connection it returns before
  // EnsureBootstrapKey reloads.
  Result<std::optional<auth::BootstrapKey>> MakeBootstrapKey(
      const std::string& data_dir);
  // Inserts a new key in the open transaction.
  Result<auth::CreatedKey> Insert(PgConn& conn, const auth::NewKey& req);
  std::shared_ptr<const KeyMap> Current() const EXCLUDES(mu_);

  const std::string schema_;
  Clock* const clock_;
  // Lookups and writes (callers' threads).
  PgPool pool_;
  // Reload's own: a flood of unknown tokens, each looked up in pool_ on an
  // HTTP thread, must not delay the reload that makes a revocation made
  // on another server take effect here.
  PgPool reload_pool_;
  mutable base::Mutex mu_;
  std::shared_ptr<const KeyMap> keys_ GUARDED_BY(mu_);
  std::atomic<uint64_t> revision_{0};
  std::unique_ptr<engine::PeriodicThread> reload_;
};

}  // namespace acpstore::postgres

#endif  // ACPSTORE_POSTGRES_PG_KEY_STORE_H_
