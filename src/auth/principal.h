// Principal: who an API key says the caller is, and how the server turns
// that into the Scope every store call is confined to (SPEC §6).
//
// Thread-safety: value types; Authenticator implementations are
// thread-safe.

#ifndef ACPSTORE_AUTH_PRINCIPAL_H_
#define ACPSTORE_AUTH_PRINCIPAL_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "acpstore/records.h"
#include "acpstore/result.h"
#include "acpstore/status.h"

namespace acpstore::auth {

enum class Role : uint8_t {
  kReader,  // reads every session of its tenant
  kWriter,  // reads and writes its own scope (tenant, own key id)
  kAdmin,   // reads and writes every session of its tenant; /v1/stats; keys
  // Acts for an orchestrator's own users: each request names its scope in
  // X-Acpstore-Scope and gets a writer's rights there, nothing else.
  kService,
};

std::string_view ToString(Role role);  // "reader", "writer", "admin", "service"
std::optional<Role> ParseRole(std::string_view name);

struct Principal {
  std::string tenant_id;
  std::string key_id;  // = ownerKeyId of records it creates
  Role role = Role::kWriter;
  // Service keys only: the tenants it may act in; empty = every tenant.
  std::vector<std::string> tenants;

  // A service key may act in `tenant` (always false for other roles).
  bool ServesTenant(std::string_view tenant) const {
    if (role != Role::kService) return false;
    if (tenants.empty()) return true;
    for (const std::string& t : tenants) {
      if (t == tenant) return true;
    }
    return false;
  }

  // The scope of a non-service key. A service key's scope comes from each
  // request (server/router.cc); this returns its own-key scope as a
  // placeholder that the router always replaces.
  Scope ToScope() const {
    Scope s{tenant_id, key_id, Scope::Access::kOwner};
    if (role == Role::kReader) s.access = Scope::Access::kTenantRead;
    if (role == Role::kAdmin) s.access = Scope::Access::kTenantWrite;
    return s;
  }
};

// Resolves a bearer token to a Principal. kUnauthenticated for a missing,
// malformed, unknown or revoked token; the message never contains the
// token.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual Result<Principal> Authenticate(std::string_view bearer_token) = 0;
  // The principal of the live key `key_id`, for a credential that stands
  // for a key without holding its token (a browser session, SPEC §12):
  // kUnauthenticated when the key is unknown or revoked, so a revocation
  // ends such credentials as soon as this authenticator learns of it. The
  // default vouches for nothing (browser sessions then never work).
  virtual Result<Principal> PrincipalOfKey(std::string_view key_id) {
    (void)key_id;
    return Status::Unauthenticated("this server cannot check keys by id");
  }
  // Moves whenever the keys this authenticator knows change (a reload that
  // found a difference, a create, a revoke): whoever holds a long-lived
  // credential (an SSE stream) re-checks it when this moves, so a
  // revocation ends it within the reload interval (SPEC §6). Any thread.
  // The default never moves.
  virtual uint64_t revision() const { return 0; }
};

// Public facts about a key (never its secret or hash).
struct KeyInfo {
  std::string id;
  std::string tenant_id;
  Role role = Role::kWriter;
  std::string name;
  TimestampMs created_at = 0;
  std::optional<TimestampMs> revoked_at;
  std::vector<std::string> tenants;  // service keys: empty = every tenant
};

struct NewKey {
  std::string tenant_id;
  Role role = Role::kWriter;
  std::string name;               // optional label, may be empty
  std::optional<std::string> id;  // default: a fresh random id
  std::vector<std::string> tenants;  // service keys only; empty = every tenant
};

struct CreatedKey {
  KeyInfo key;
  std::string token;  // shown once; only its SHA-256 is stored
};

// Key management, used by `acpstore keys` and by POST/DELETE /v1/keys.
class KeyManager {
 public:
  virtual ~KeyManager() = default;
  // kConflict when the id exists (also revoked ones: ids are never reused).
  virtual Result<CreatedKey> CreateKey(const NewKey& req) = 0;
  // Keys of `tenant_id` (all tenants when empty), revoked ones included.
  virtual Result<std::vector<KeyInfo>> ListKeys(std::string_view tenant_id) = 0;
  // kNotFound when the key does not exist in `tenant_id` (any tenant when
  // empty); revoking twice is OK. For the operator (`acpstore keys revoke`).
  virtual Status RevokeKey(std::string_view tenant_id, std::string_view id) = 0;
  // RevokeKey as a tenant's admin may (DELETE /v1/keys/{id}): a service key
  // is kNotFound too, exactly like another tenant's key, whatever tenant it
  // is filed under. A service key acts in many tenants, so no one tenant's
  // admin may end it, as none may create one; and answering otherwise
  // would tell that admin which service-key ids exist.
  virtual Status RevokeTenantKey(std::string_view tenant_id,
                                 std::string_view id) = 0;
};

}  // namespace acpstore::auth

#endif  // ACPSTORE_AUTH_PRINCIPAL_H_
