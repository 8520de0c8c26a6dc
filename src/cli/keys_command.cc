// `acpstore keys create|list|revoke`: API key management on a data
// directory, whether or not a server holds it (SPEC §6). The keys file
// protocol (keys.lock, atomic replace) lives in auth/key_store.h; a running
// server picks up the change within a second. With --postgres-url the keys
// are those of a postgres-engine deployment, in the database
// (postgres/pg_key_store.h), and every server of that schema honours them.
//
// `create` prints the token alone on stdout, so `TOKEN=$(acpstore keys
// create ...)` works; every other message goes to stderr.
//
// Thread-safety: main thread only.

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/key_file.h"
#include "auth/key_store.h"
#ifdef ACPSTORE_WITH_POSTGRES
#include "postgres/pg_key_store.h"
#include "postgres/pg_tools.h"
#endif
#include "base/time_format.h"
#include "cli/command.h"
#include "cli/store_location.h"

namespace acpstore::cli {
namespace {

struct KeysFlags : StoreLocation {
  std::string tenant;
  std::string role;
  std::string name;
  std::string id;
  std::vector<std::string> tenants;
  bool json = false;
};

// `command` ("keys list") names the command in a refusal.
Result<std::unique_ptr<auth::KeyManager>> OpenKeys(const KeysFlags& f,
                                                   bool create,
                                                   const std::string& command) {
  if (!f.postgres_url.empty()) {
#ifdef ACPSTORE_WITH_POSTGRES
    // Opening creates (migrates) the schema. Only `create` may, as only it
    // creates a data directory: `list` and `revoke` of a schema a typo
    // named would create an empty one and answer as if it held no keys
    // (found by a probe).
    // Nor may they migrate an older schema (servers of the older release
    // may still run on it): `acpstore migrate` does that.
    if (!create) {
      ACPSTORE_RETURN_IF_ERROR(postgres::MustHoldCurrentSchema(
          f.postgres_url, f.postgres_schema, command));
    }
    postgres::PgKeyStoreOptions options;
    options.reload_interval_ms = 0;  // one-shot: no reload thread
    ACPSTORE_ASSIGN_OR_RETURN(
        std::unique_ptr<postgres::PgKeyStore> keys,
        postgres::PgKeyStore::Open(f.postgres_url, f.postgres_schema,
                                   options));
    return std::unique_ptr<auth::KeyManager>(std::move(keys));
#else
    return Status::Unavailable(
        "this acpstore was built without libpq: no --postgres-url");
#endif
  }
  auth::KeyStoreOptions options;
  options.create_dir = create;
  options.reload_interval_ms = 0;  // one-shot: no reload thread
  ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<auth::KeyStore> keys,
                            auth::KeyStore::Open(f.data_dir, options));
  return std::unique_ptr<auth::KeyManager>(std::move(keys));
}

int Fail(const Status& s) {
  PrintError(std::string(s.message()));
  return kExitFailure;
}

// What people put around a list's commas. A tab is a control character,
// never part of a tenant id; a space may be, and the list gives it up.
constexpr std::string_view kListBlanks = " \t";

std::string_view TrimBlanks(std::string_view s) {
  const size_t first = s.find_first_not_of(kListBlanks);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kListBlanks) - first + 1);
}

// --tenants as given (each occurrence a comma-separated list), split at
// every comma, blanks around each name dropped: "a, b" named a tenant " b"
// that nobody meant. So the list cannot name a tenant whose id begins or
// ends with a space, nor one holding a comma (decision 0038). CLI11's
// delimiter dropped empty names, so "a,,b" made a key for a and b while ""
// was refused (found by a review): every name is checked here, an empty
// one included, before any store is touched.
Result<std::vector<std::string>> SplitTenants(
    const std::vector<std::string>& lists) {
  std::vector<std::string> out;
  for (const std::string& list : lists) {
    const std::string_view text = list;
    size_t start = 0;
    while (true) {
      const size_t comma = text.find(',', start);
      std::string name(TrimBlanks(text.substr(start, comma - start)));
      if (Status s = auth::CheckKeyIdentifier("tenants", name); !s.ok()) {
        std::string hint;
        if (name.empty() && text.find(',') != std::string_view::npos) {
          hint = "; the list holds an empty name (two commas with nothing "
                 "but whitespace between them, or a comma at either end)";
        } else if (name.empty() && !text.empty()) {
          hint = "; the list is only whitespace";
        }
        return Status::InvalidArgument("--tenants: " +
                                       std::string(s.message()) + hint);
      }
      out.push_back(std::move(name));
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

// A key's own tenant is kept byte for byte (SPEC §2.5): a tenant whose id
// begins or ends with a space is reachable (a service key names it
// percent-encoded), and import-aegis prints `keys create --tenant` for
// each tenant it brings. But "acme " is more often a slip than a name, and
// looks like "acme" in a terminal (decision 0038). Only spaces: the other
// blanks are control characters, refused before this.
void WarnOfSpacesAroundTheTenant(std::string_view tenant) {
  if (tenant.empty() || (tenant.front() != ' ' && tenant.back() != ' ')) {
    return;
  }
  PrintError("warning: tenant '" + std::string(tenant) +
             "' begins or ends with a space; tenant ids are compared byte "
             "for byte, so a spelling without those spaces names another "
             "tenant");
}

int RunCreate(const KeysFlags& f, bool id_given) {
  std::optional<auth::Role> role = auth::ParseRole(f.role);
  if (!role) {
    PrintError("--role: expected reader, writer, admin or service, got '" +
               f.role + "'");
    return kExitUsage;
  }
  if (*role != auth::Role::kService && f.tenant.empty()) {
    PrintError("--tenant is required for a " +
               std::string(auth::ToString(*role)) + " key");
    return kExitUsage;
  }
  if (*role != auth::Role::kService && !f.tenants.empty()) {
    PrintError("--tenants applies to service keys only");
    return kExitUsage;
  }
  Result<std::vector<std::string>> tenants = SplitTenants(f.tenants);
  if (!tenants) {
    PrintError(tenants.error().message());
    return kExitUsage;
  }
  auto ks = OpenKeys(f, /*create=*/true, "keys create");
  if (!ks) return Fail(ks.error());
  // A service key acts in the tenants of its requests; its own tenantId
  // only files it for `keys list --tenant`.
  auth::NewKey req{.tenant_id = f.tenant.empty() ? "default" : f.tenant,
                   .role = *role,
                   .name = f.name,
                   .tenants = std::move(*tenants)};
  if (id_given) req.id = f.id;
  Result<auth::CreatedKey> created = (*ks)->CreateKey(req);
  if (!created) {
    const StatusCode code = created.error().code();
    PrintError(std::string(created.error().message()));
    return code == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  std::cout << created->token << std::endl;
  std::cerr << "created key " << created->key.id << " (tenant "
            << created->key.tenant_id << ", role "
            << auth::ToString(created->key.role)
            << "); the token above is shown only once\n";
  WarnOfSpacesAroundTheTenant(created->key.tenant_id);
  return kExitOk;
}

std::string Column(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

int RunList(const KeysFlags& f) {
  auto ks = OpenKeys(f, /*create=*/false, "keys list");
  if (!ks) return Fail(ks.error());
  Result<std::vector<auth::KeyInfo>> keys = (*ks)->ListKeys(f.tenant);
  if (!keys) return Fail(keys.error());
  if (f.json) {
    boost::json::array arr;
    for (const auth::KeyInfo& k : *keys) {
      boost::json::object o;
      o["id"] = k.id;
      o["tenantId"] = k.tenant_id;
      o["role"] = auth::ToString(k.role);
      o["name"] = k.name;
      if (k.role == auth::Role::kService) {
        boost::json::array tenants;
        for (const std::string& t : k.tenants) tenants.emplace_back(t);
        o["tenants"] = std::move(tenants);  // [] = every tenant
      }
      o["createdAt"] = base::FormatIso8601(k.created_at);
      if (k.revoked_at) {
        o["revokedAt"] = base::FormatIso8601(*k.revoked_at);
      } else {
        o["revokedAt"] = nullptr;
      }
      arr.push_back(std::move(o));
    }
    std::cout << boost::json::serialize(arr) << std::endl;
    return kExitOk;
  }
  size_t id_w = 2, tenant_w = 6;
  for (const auth::KeyInfo& k : *keys) {
    id_w = std::max(id_w, k.id.size());
    tenant_w = std::max(tenant_w, k.tenant_id.size());
  }
  std::cout << Column("ID", id_w) << "  " << Column("TENANT", tenant_w)
            << "  ROLE    CREATED                   REVOKED                   "
               "NAME\n";
  for (const auth::KeyInfo& k : *keys) {
    std::cout << Column(k.id, id_w) << "  " << Column(k.tenant_id, tenant_w)
              << "  " << Column(std::string(auth::ToString(k.role)), 6)
              << "  " << base::FormatIso8601(k.created_at) << "  "
              << Column(k.revoked_at ? base::FormatIso8601(*k.revoked_at)
                                     : "-",
                        24)
              << "  " << k.name << "\n";
  }
  std::cout.flush();
  return kExitOk;
}

int RunRevoke(const KeysFlags& f) {
  auto ks = OpenKeys(f, /*create=*/false, "keys revoke");
  if (!ks) return Fail(ks.error());
  Status s = (*ks)->RevokeKey(f.tenant, f.id);
  if (!s.ok()) return Fail(s);
  std::cerr << "revoked key " << f.id << "\n";
  return kExitOk;
}

void AddDataDir(CLI::App* cmd, KeysFlags* f) {
  AddStoreLocationOptions(*cmd, *f, "Data directory holding keys.json",
                          "The keys of a postgres-engine deployment, in this "
                          "database (instead of --data-dir)");
}

}  // namespace

void AddKeysCommand(CLI::App& root, Runner* run) {
  auto flags = std::make_shared<KeysFlags>();
  CLI::App* keys = root.add_subcommand(
      "keys", "Create, list and revoke API keys (works while a server runs)");
  keys->require_subcommand(1);

  CLI::App* create = keys->add_subcommand(
      "create", "Create a key; prints its token alone on stdout, once");
  AddDataDir(create, flags.get());
  create->add_option("--tenant", flags->tenant,
                     "Tenant the key belongs to (required, except for a "
                     "service key: default 'default')")
      ->type_name("TENANT");
  create->add_option("--role", flags->role, "reader, writer, admin or service")
      ->type_name("ROLE")
      ->required();
  create
      ->add_option("--tenants", flags->tenants,
                   "Service keys: the only tenants it may act in "
                   "(comma-separated, blanks around names dropped; default "
                   "every tenant)")
      ->type_name("A,B");
  create->add_option("--name", flags->name, "A label for people")
      ->type_name("NAME");
  CLI::Option* id = create->add_option(
      "--id", flags->id,
      "Key id (= ownerKeyId); default a random key_<16 hex>. Ids are never "
      "reused, not even after revocation");
  id->type_name("ID");
  create->callback([run, flags, id] {
    *run = [flags, id_given = id->count() > 0] {
      if (int chosen = flags->Choose(); chosen != kExitOk) return chosen;
      return RunCreate(*flags, id_given);
    };
  });

  CLI::App* list = keys->add_subcommand(
      "list", "List keys (revoked ones included) on stdout");
  AddDataDir(list, flags.get());
  list->add_option("--tenant", flags->tenant, "Only this tenant's keys")
      ->type_name("TENANT");
  list->add_flag("--json", flags->json, "One JSON array instead of a table");
  list->callback([run, flags] {
    *run = [flags] {
      if (int chosen = flags->Choose(); chosen != kExitOk) return chosen;
      return RunList(*flags);
    };
  });

  CLI::App* revoke = keys->add_subcommand(
      "revoke", "Revoke a key; a running server refuses it within 2 s");
  AddDataDir(revoke, flags.get());
  revoke->add_option("ID", flags->id, "Id of the key to revoke")->required();
  revoke->add_option("--tenant", flags->tenant,
                     "Refuse unless the key belongs to this tenant")
      ->type_name("TENANT");
  revoke->callback([run, flags] {
    *run = [flags] {
      if (int chosen = flags->Choose(); chosen != kExitOk) return chosen;
      return RunRevoke(*flags);
    };
  });
}

}  // namespace acpstore::cli
