// PgKeyStore: see pg_key_store.h.

#include "postgres/pg_key_store.h"

#include <algorithm>
#include <chrono>
#include <tuple>
#include <utility>

#include "auth/key_file.h"
#include "base/uuid.h"
#include "io/file_system.h"
#include "postgres/pg_migrate.h"

namespace acpstore::postgres {
namespace {

constexpr char kSeparator = '\x1f';  // between tenants (no id contains it)

constexpr PgStatement kSelectKeys{
    "keys_all",
    "SELECT key_id, lookup, digest, tenant_id, role, name, tenants, "
    "created_at, revoked_at FROM keys ORDER BY created_at, key_id"};
constexpr PgStatement kSelectByLookup{
    "keys_by_lookup",
    "SELECT key_id, lookup, digest, tenant_id, role, name, tenants, "
    "created_at, revoked_at FROM keys WHERE lookup = $1"};
constexpr PgStatement kSelectById{
    "keys_by_id",
    "SELECT key_id, lookup, digest, tenant_id, role, name, tenants, "
    "created_at, revoked_at FROM keys WHERE key_id = $1"};
constexpr PgStatement kInsertKey{
    "keys_insert",
    "INSERT INTO keys (key_id, lookup, digest, tenant_id, role, name, "
    "tenants, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"};
constexpr PgStatement kRevokeKey{
    "keys_revoke",
    "UPDATE keys SET revoked_at = coalesce(revoked_at, $3) WHERE key_id = $1 "
    "AND ($2::text IS NULL OR tenant_id = $2) "
    "AND ($4::boolean OR role <> 'service')"};
constexpr PgStatement kCountKeys{"keys_count", "SELECT count(*) FROM keys"};

// How long a caller waits for one of the pool's connections (pg_pool.h).
constexpr std::chrono::milliseconds kMaxBorrowWait{10'000};

std::string JoinTenants(const std::vector<std::string>& tenants) {
  std::string out;
  for (size_t i = 0; i < tenants.size(); ++i) {
    if (i > 0) out.push_back(kSeparator);
    out += tenants[i];
  }
  return out;
}

std::vector<std::string> SplitTenants(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    size_t sep = s.find(kSeparator);
    out.emplace_back(s.substr(0, sep));
    if (sep == std::string_view::npos) break;
    s.remove_prefix(sep + 1);
  }
  return out;
}

Result<std::pair<std::string, auth::Digest>> ParseKeyRow(
    const PgResult& r, int row, auth::KeyInfo* info) {
  info->id = std::string(r.Text(row, 0));
  std::string lookup(r.Text(row, 1));
  std::optional<auth::Digest> digest = auth::DigestFromHex(r.Text(row, 2));
  std::optional<auth::Role> role = auth::ParseRole(r.Text(row, 4));
  if (!digest || !role) {
    return Status::Corruption("a stored key is damaged").With("id", info->id);
  }
  info->tenant_id = std::string(r.Text(row, 3));
  info->role = *role;
  info->name = std::string(r.Text(row, 5));
  info->tenants = SplitTenants(r.Text(row, 6));
  info->created_at = r.Int(row, 7);
  info->revoked_at = r.OptInt(row, 8);
  return std::make_pair(std::move(lookup), *digest);
}

}  // namespace

PgKeyStore::PgKeyStore(const std::string& url, const std::string& schema,
                       const PgKeyStoreOptions& options)
    : schema_(schema),
      clock_(options.clock != nullptr ? options.clock : SystemClock()),
      // Two for callers' lookups and writes, one for Reload. Bounded:
      // with all held for long (a database that stopped answering), a
      // request fails with 503 rather than holding its HTTP thread.
      pool_(url, schema, 2, kMaxBorrowWait),
      reload_pool_(url, schema, 1, kMaxBorrowWait),
      keys_(std::make_shared<const KeyMap>()) {}

Result<std::unique_ptr<PgKeyStore>> PgKeyStore::Open(
    const std::string& url, const std::string& schema,
    const PgKeyStoreOptions& options) {
  std::unique_ptr<PgKeyStore> store(new PgKeyStore(url, schema, options));
  {
    ACPSTORE_ASSIGN_OR_RETURN(PgPool::Lease conn, store->pool_.Borrow());
    ACPSTORE_RETURN_IF_ERROR(Migrate(*conn, schema).status());
  }
  ACPSTORE_RETURN_IF_ERROR(store->Reload());
  if (options.reload_interval_ms > 0) {
    PgKeyStore* self = store.get();
    // A failed reload keeps the keys already loaded: a database outage
    // does not lock every client out of reads that need no database.
    store->reload_ = std::make_unique<engine::PeriodicThread>(
        "acp-keys",
        std::chrono::milliseconds(options.reload_interval_ms),
        [self] { (void)self->Reload(); });
  }
  return store;
}

PgKeyStore::~PgKeyStore() {
  if (reload_) reload_->Stop();
}

std::shared_ptr<const PgKeyStore::KeyMap> PgKeyStore::Current() const {
  base::MutexLock lock(&mu_);
  return keys_;
}

Status PgKeyStore::Reload() {
  ACPSTORE_ASSIGN_OR_RETURN(PgPool::Lease conn, reload_pool_.Borrow());
  ACPSTORE_ASSIGN_OR_RETURN(PgResult r, conn->Exec(kSelectKeys, PgParams()));
  auto map = std::make_shared<KeyMap>();
  for (int i = 0; i < r.rows(); ++i) {
    Key k;
    ACPSTORE_ASSIGN_OR_RETURN(auto parsed, ParseKeyRow(r, i, &k.info));
    k.lookup = parsed.first;
    k.digest = parsed.second;
    std::string lookup = k.lookup;
    map->emplace(std::move(lookup), std::move(k));
  }
  // What a holder of a credential re-checks for: a key added, removed or
  // revoked, or its scope changed.
  auto same = [](const KeyMap& a, const KeyMap& b) {
    if (a.size() != b.size()) return false;
    for (const auto& [lookup, k] : b) {
      auto it = a.find(lookup);
      if (it == a.end() || it->second.info.id != k.info.id ||
          it->second.info.revoked_at != k.info.revoked_at ||
          it->second.info.role != k.info.role ||
          it->second.info.tenant_id != k.info.tenant_id) {
        return false;
      }
    }
    return true;
  };
  bool changed;
  {
    base::MutexLock lock(&mu_);
    changed = keys_ == nullptr || !same(*keys_, *map);
    keys_ = std::move(map);
  }
  if (changed) revision_.fetch_add(1);
  return Status::OK();
}

Result<auth::Principal> PgKeyStore::Authenticate(std::string_view bearer_token) {
  // No message below may quote the token, not even a prefix of it.
  if (bearer_token.empty()) return Status::Unauthenticated("missing API token");
  std::optional<auth::ParsedToken> parsed = auth::ParseToken(bearer_token);
  if (!parsed) return Status::Unauthenticated("malformed API token");
  const auth::Digest digest = auth::Sha256(bearer_token);
  std::shared_ptr<const KeyMap> keys = Current();
  auto it = keys->find(std::string(parsed->lookup));
  std::optional<Key> fetched;
  if (it == keys->end()) {
    // Maybe created on another server since the last reload.
    ACPSTORE_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_.Borrow());
    ACPSTORE_ASSIGN_OR_RETURN(
        PgResult r,
        conn->Exec(kSelectByLookup, PgParams().Text(parsed->lookup)));
    if (r.rows() == 0) return Status::Unauthenticated("unknown API token");
    Key k;
    ACPSTORE_ASSIGN_OR_RETURN(auto row, ParseKeyRow(r, 0, &k.info));
    k.lookup = row.first;
    k.digest = row.second;
    fetched = std::move(k);
  }
  const Key& key = fetched ? *fetched : it->second;
  if (!auth::DigestsEqual(digest, key.digest)) {
    return Status::Unauthenticated("unknown API token");
  }
  if (key.info.revoked_at) {
    return Status::Unauthenticated("revoked API token");
  }
  return auth::Principal{key.info.tenant_id, key.info.id, key.info.role,
                         key.info.tenants};
}

Result<auth::Principal> PgKeyStore::PrincipalOfKey(std::string_view key_id) {
  std::optional<auth::KeyInfo> found;
  {
    std::shared_ptr<const KeyMap> keys = Current();
    // By lookup handle, not id: a scan (key tables are small, and a
    // browser session's request makes one).
    for (const auto& [lookup, key] : *keys) {
      if (key.info.id == key_id) {
        found = key.info;
        break;
      }
    }
  }
  if (!found) {
    // Created on another server since the last reload.
    ACPSTORE_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_.Borrow());
    ACPSTORE_ASSIGN_OR_RETURN(
        PgResult r, conn->Exec(kSelectById, PgParams().Text(key_id)));
    if (r.rows() == 0) return Status::Unauthenticated("unknown API key");
    auth::KeyInfo info;
    ACPSTORE_RETURN_IF_ERROR(ParseKeyRow(r, 0, &info).status());
    found = std::move(info);
  }
  if (found->revoked_at) return Status::Unauthenticated("revoked API key");
  return auth::Principal{found->tenant_id, found->id, found->role,
                         found->tenants};
}

Result<auth::CreatedKey> PgKeyStore::Insert(PgConn& conn,
                                            const auth::NewKey& req) {
  ACPSTORE_RETURN_IF_ERROR(auth::CheckKeyIdentifier("tenantId", req.tenant_id));
  ACPSTORE_RETURN_IF_ERROR(auth::CheckKeyName(req.name));
  if (req.id) ACPSTORE_RETURN_IF_ERROR(auth::CheckNewKeyId(*req.id));
  if (!req.tenants.empty() && req.role != auth::Role::kService) {
    return Status::InvalidArgument("tenants applies to service keys only")
        .With("field", "tenants");
  }
  for (const std::string& t : req.tenants) {
    ACPSTORE_RETURN_IF_ERROR(auth::CheckKeyIdentifier("tenants", t));
  }
  auth::CreatedKey created;
  auth::KeyInfo& info = created.key;
  info.id = req.id ? *req.id : "key_" + base::RandomHex128().substr(0, 16);
  info.tenant_id = req.tenant_id;
  info.role = req.role;
  info.name = req.name;
  info.tenants = req.tenants;
  info.created_at = clock_->NowMs();
  const std::string lookup = auth::NewLookup();
  created.token = auth::NewToken(lookup);
  Result<PgResult> r = conn.Exec(
      kInsertKey, PgParams()
                      .Text(info.id)
                      .Text(lookup)
                      .Text(auth::DigestToHex(auth::Sha256(created.token)))
                      .Text(info.tenant_id)
                      .Text(auth::ToString(info.role))
                      .Text(info.name)
                      .Text(JoinTenants(info.tenants))
                      .Int(info.created_at));
  if (!r.ok()) {
    if (conn.last_sqlstate() == kUniqueViolation) {
      // Revoked keys are kept precisely so that this covers them too.
      return Status::Conflict("key id '" + info.id +
                              "' exists (ids are never reused)")
          .With("field", "id");
    }
    return r.status();
  }
  return created;
}

Result<auth::CreatedKey> PgKeyStore::CreateKey(const auth::NewKey& req) {
  Result<auth::CreatedKey> created = [&]() -> Result<auth::CreatedKey> {
    ACPSTORE_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_.Borrow());
    return Insert(*conn, req);
  }();
  // Reloaded once the connection is back: Reload borrows one too, and two
  // creates each holding one of the two while waiting for the other would
  // wait for ever (pg_pool.h).
  if (created.ok()) {
    (void)Reload();  // this server sees it at once; the others look it up
  }
  return created;
}

Result<std::vector<auth::KeyInfo>> PgKeyStore::ListKeys(
    std::string_view tenant_id) {
  // Exact, not up to one reload late.
  ACPSTORE_RETURN_IF_ERROR(Reload());
  std::vector<auth::KeyInfo> out;
  std::shared_ptr<const KeyMap> keys = Current();
  for (const auto& kv : *keys) {
    if (tenant_id.empty() || kv.second.info.tenant_id == tenant_id) {
      out.push_back(kv.second.info);
    }
  }
  std::sort(out.begin(), out.end(), [](const auth::KeyInfo& a,
                                       const auth::KeyInfo& b) {
    return std::tie(a.created_at, a.id) < std::tie(b.created_at, b.id);
  });
  return out;
}

Status PgKeyStore::RevokeKey(std::string_view tenant_id, std::string_view id) {
  return Revoke(tenant_id, id, /*service_keys=*/true);
}

Status PgKeyStore::RevokeTenantKey(std::string_view tenant_id,
                                   std::string_view id) {
  return Revoke(tenant_id, id, /*service_keys=*/false);
}

Status PgKeyStore::Revoke(std::string_view tenant_id, std::string_view id,
                          bool service_keys) {
  {
    ACPSTORE_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_.Borrow());
    PgParams p;
    p.Text(id);
    if (tenant_id.empty()) {
      p.Null();
    } else {
      p.Text(tenant_id);
    }
    p.Int(clock_->NowMs());
    p.Text(service_keys ? "true" : "false");
    ACPSTORE_ASSIGN_OR_RETURN(PgResult r, conn->Exec(kRevokeKey, p));
    if (r.Affected() == 0) {
      return Status::NotFound("no key '" + std::string(id) + "'");
    }
  }
  return Reload();
}

Result<std::optional<auth::BootstrapKey>> PgKeyStore::EnsureBootstrapKey(
    const std::string& data_dir) {
  // As CreateKey: the connection goes back before Reload borrows one.
  ACPSTORE_ASSIGN_OR_RETURN(std::optional<auth::BootstrapKey> made,
                            MakeBootstrapKey(data_dir));
  ACPSTORE_RETURN_IF_ERROR(Reload());
  return made;
}

Result<std::optional<auth::BootstrapKey>> PgKeyStore::MakeBootstrapKey(
    const std::string& data_dir) {
  ACPSTORE_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_.Borrow());
  ACPSTORE_RETURN_IF_ERROR(conn->Run("BEGIN").status());
  auto body = [&]() -> Result<std::optional<auth::BootstrapKey>> {
    // Servers starting together: one makes the key, the others see it.
    ACPSTORE_RETURN_IF_ERROR(
        conn->Query("SELECT pg_advisory_xact_lock(hashtext('acpstore.keys:' "
                    "|| $1))",
                    PgParams().Text(schema_))
            .status());
    ACPSTORE_ASSIGN_OR_RETURN(PgResult n, conn->Exec(kCountKeys, PgParams()));
    if (n.Int(0, 0) > 0) return std::optional<auth::BootstrapKey>();
    auth::NewKey req{.tenant_id = "default",
                     .role = auth::Role::kAdmin,
                     .name = "bootstrap"};
    ACPSTORE_ASSIGN_OR_RETURN(auth::CreatedKey created, Insert(*conn, req));
    // Written before COMMIT: a key whose token nobody has must not exist.
    ACPSTORE_RETURN_IF_ERROR(io::PosixFileSystem().CreateDir(data_dir));
    const std::string path =
        io::JoinPath(data_dir, auth::kBootstrapTokenFileName);
    ACPSTORE_RETURN_IF_ERROR(io::WriteFileAtomically(
        io::PosixFileSystem(), path, created.token + "\n"));
    return std::optional<auth::BootstrapKey>(
        auth::BootstrapKey{std::move(created.key), path});
  };
  Result<std::optional<auth::BootstrapKey>> made = body();
  if (!made.ok()) {
    if (conn->healthy()) (void)conn->Run("ROLLBACK");
    return made;
  }
  ACPSTORE_RETURN_IF_ERROR(conn->Run("COMMIT").status());
  return made;
}

}  // namespace acpstore::postgres
