// API key routes (SPEC §6): createKey, revokeKey. Admin only, confined to
// the caller's tenant; service keys are out of every admin's reach (they
// act across tenants: created and revoked only offline, `acpstore keys`).
// Without a KeyManager (an embedded server that manages keys elsewhere)
// both answer 404 with a message saying so.
//
// KeyManager calls are synchronous (a small file rewrite); they are rare
// admin operations, so running them on an I/O thread is acceptable.

#include <optional>
#include <string>
#include <utility>

#include "auth/principal.h"
#include "base/time_format.h"
#include "record/field_error.h"
#include "server/json_writer.h"
#include "server/request_codec.h"
#include "server/routes_util.h"

namespace acpstore::server {
namespace {

Status NoKeyManager() {
  return Status::NotFound(
      "key management over HTTP is not enabled on this server; use "
      "`acpstore keys`");
}

void CreateKey(Call& call) {
  if (call.ctx.key_manager == nullptr) {
    return call.respond(ErrorResponse(NoKeyManager()));
  }
  Result<CreateKeyBody> body =
      ParseCreateKey(call.request.body, call.max_depth());
  if (FailedParse(call, body)) return;
  std::optional<auth::Role> role = auth::ParseRole(body->role);
  if (!role || *role == auth::Role::kService) {
    // Service keys cross tenants, so no tenant's admin may mint one.
    return call.respond(ErrorResponse(record::InvalidField(
        "role",
        "must be reader, writer or admin (service keys are created only "
        "offline, with `acpstore keys create --role service`)")));
  }
  auth::NewKey req;
  req.tenant_id = call.principal.tenant_id;
  req.role = *role;
  req.name = body->name;
  Result<auth::CreatedKey> created = call.ctx.key_manager->CreateKey(req);
  if (FailedParse(call, created)) return;
  const auth::KeyInfo& k = created->key;
  JsonWriter w;
  w.BeginObject().Key("key").BeginObject();
  w.Key("id").String(k.id);
  w.Key("tenantId").String(k.tenant_id);
  w.Key("role").String(auth::ToString(k.role));
  w.Key("name").String(k.name);
  w.Key("createdAt").String(base::FormatIso8601(k.created_at));
  if (k.revoked_at) {
    w.Key("revokedAt").String(base::FormatIso8601(*k.revoked_at));
  }
  w.EndObject();
  // Shown once; the server keeps only its hash.
  w.Key("token").String(created->token);
  w.EndObject();
  Response r = JsonResponse(201, w.Take());
  r.headers.emplace_back("Cache-Control", "no-store");
  call.respond(std::move(r));
}

void RevokeKey(Call& call) {
  if (call.ctx.key_manager == nullptr) {
    return call.respond(ErrorResponse(NoKeyManager()));
  }
  // RevokeKey would reach a service key filed under the admin's tenant
  // ("default" for every one made without --tenant), and end it for every
  // tenant it serves.
  Status s = call.ctx.key_manager->RevokeTenantKey(call.principal.tenant_id,
                                                   call.Param(0));
  call.respond(s.ok() ? NoContent() : ErrorResponse(s));
}

}  // namespace

void AddKeyRoutes(std::vector<RouteSpec>* r) {
  r->push_back(
      {"POST", "/v1/keys", "createKey", &CreateKey, Access::kAdmin, ""});
  r->push_back(
      {"DELETE", "/v1/keys/{id}", "revokeKey", &RevokeKey, Access::kAdmin, ""});
}

}  // namespace acpstore::server
