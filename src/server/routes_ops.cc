// Operations routes (SPEC §5.5): healthz, readyz, metrics (no
// credentials, for the operator's network: no secrets or records; the only
// tenant ids are its service-request labels, SPEC §6) and getStats (admin,
// confined to the admin's tenant).

#include <string>
#include <utility>

#include "server/json_writer.h"
#include "server/metrics.h"
#include "server/routes_util.h"

namespace acpstore::server {
namespace {

void Healthz(Call& call) {
  call.respond(JsonResponse(200, R"({"status":"ok"})"));
}

void Readyz(Call& call) {
  Status s = call.ctx.stopping->load()
                 ? Status::Unavailable("the server is shutting down")
                 : call.ctx.store->CheckWritable();
  if (s.ok()) {
    // Writable, so ready (SPEC §5.5) -- but damage found on disk by reads
    // is reported here too (SPEC §3), for the operator to run `verify`.
    const StoreStats stats = call.ctx.store->Stats();
    const uint64_t damaged = stats.data_loss_reads;
    if (damaged == 0 && stats.snapshot_failing.empty()) {
      return call.respond(JsonResponse(200, R"({"status":"ready"})"));
    }
    JsonWriter w;
    w.BeginObject().Key("status").String("ready");
    if (damaged > 0) {
      w.Key("damage").BeginObject();
      w.Key("dataLossReads").Uint(damaged);
      w.Key("reason").String(
          "stored records failed their checksum (or, on postgres, did not "
          "decode) on read; run `acpstore verify`");
      w.EndObject();
    }
    if (!stats.snapshot_failing.empty()) {
      // Still ready: every acknowledged write is in the journal.
      w.Key("snapshots").BeginObject();
      w.Key("failed").Uint(stats.snapshots_failed);
      w.Key("reason").String(
          "the latest snapshot could not be written (recovery time and "
          "journal space grow until one is): " + stats.snapshot_failing);
      w.EndObject();
    }
    w.EndObject();
    return call.respond(JsonResponse(200, w.Take()));
  }
  // Not ready is an answer, not a failure: 503 with the reason, whatever
  // the store's code (a failed journal, a full disk, damage found).
  JsonWriter w;
  w.BeginObject().Key("status").String("not_ready");
  w.Key("code").String(StatusCodeName(s.code()));
  w.Key("reason").String(s.message());
  w.EndObject();
  Response r = JsonResponse(503, w.Take());
  r.headers.emplace_back("Retry-After", "1");
  call.respond(std::move(r));
}

void MetricsRoute(Call& call) {
  Response r = JsonResponse(
      200, call.ctx.metrics->RenderPrometheus(call.ctx.store->Stats()));
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  call.respond(std::move(r));
}

void GetStats(Call& call) {
  // An admin key's scope is its one tenant (the router admits no service
  // key here), and SPEC §6 lets it see no other.
  call.respond(
      JsonResponse(200, call.ctx.metrics->RenderJson(call.ctx.store->Stats(),
                                                     call.scope.tenant_id)));
}

}  // namespace

void AddOpsRoutes(std::vector<RouteSpec>* r) {
  r->push_back({"GET", "/healthz", "healthz", &Healthz, Access::kPublic, ""});
  r->push_back({"GET", "/readyz", "readyz", &Readyz, Access::kPublic, ""});
  r->push_back(
      {"GET", "/metrics", "metrics", &MetricsRoute, Access::kPublic, ""});
  r->push_back({"GET", "/v1/stats", "getStats", &GetStats, Access::kAdmin, ""});
  // The console's files are operations routes too: public, no data.
  AddConsoleRoutes(r);
}

}  // namespace acpstore::server
