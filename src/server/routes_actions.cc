// Action routes (SPEC §5.3): enqueueAction, getAction, listActions,
// leaseAction, heartbeatAction, completeAction, failAction, cancelAction.

#include <optional>
#include <string>
#include <utility>

#include "record/field_error.h"
#include "server/json_codec.h"
#include "server/request_codec.h"
#include "server/routes_util.h"

namespace acpstore::server {
namespace {

Response ActionOk(const Action& a) { return JsonResponse(200, ActionJson(a)); }

// An answer that carries the lease token: like a key's token, it lets its
// holder end the lease, so no cache keeps it.
Response LeaseOk(const Action& a) {
  Response r = ActionOk(a);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

void EnqueueAction(Call& call) {
  Result<NewAction> req = ParseNewAction(call.request.body, call.max_depth());
  if (FailedParse(call, req)) return;
  call.ctx.store->EnqueueAction(
      call.scope, std::move(*req),
      Reply<EnqueueResult>(call, [](const EnqueueResult& r) {
        return JsonResponse(r.created ? 201 : 200, ActionJson(r.action));
      }));
}

void GetAction(Call& call) {
  Result<Action> a = call.ctx.store->GetAction(call.scope, call.Param(0));
  if (FailedParse(call, a)) return;
  call.respond(ActionOk(*a));
}

Status ReadActionQuery(const QueryReader& q, ActionQuery* query) {
  if (const std::string* id = q.Get("sessionId")) query->session_id = *id;
  if (const std::string* status = q.Get("status")) {
    for (std::string_view name : SplitCommaList(*status)) {
      std::optional<ActionStatus> st = ParseActionStatus(name);
      if (!st) return record::InvalidField("status", "unknown action status");
      query->statuses.push_back(*st);
    }
  }
  if (Status s = q.ReadLimit(&query->limit); !s.ok()) return s;
  return q.ReadCursor(&query->cursor);
}

void ListActions(Call& call) {
  ActionQuery query;
  if (Status s = ReadActionQuery(call.query, &query); !s.ok()) {
    return call.respond(ErrorResponse(s));
  }
  Result<ActionPage> page = call.ctx.store->ListActions(call.scope, query);
  if (FailedParse(call, page)) return;
  call.respond(PageResponse("actions", page->actions, page->next_cursor,
                            WriteAction));
}

void LeaseAction(Call& call) {
  Result<LeaseRequest> req = ParseLease(call.request.body, call.max_depth());
  if (FailedParse(call, req)) return;
  call.ctx.store->LeaseAction(
      call.scope, std::move(*req),
      Reply<std::optional<Action>>(call, [](std::optional<Action> a) {
        return a ? LeaseOk(*a) : NoContent();
      }));
}

// The lease a complete or fail names, as Store takes it. attemptCount is
// the service role's (SPEC §6, §11): an orchestrator whose workers hold no
// lease tokens (AttemptLeaseClaim, store.h).
Result<std::string> Claim(const Call& call, const std::string& token,
                          std::optional<int64_t> attempt) {
  if (!attempt) {
    // Only this route may make an attempt claim; a token never is one, so
    // it names no lease: the empty token, which the store checks like any
    // other (404 for a missing action, then 409 stale_lease with its
    // status).
    if (ParseAttemptLeaseClaim(token)) return std::string();
    return token;
  }
  if (call.principal.role != auth::Role::kService) {
    return Status::Forbidden(
        "attemptCount instead of leaseToken is for service keys only");
  }
  if (*attempt > UINT32_MAX) {
    return Status::StaleLease("attemptCount is not the current lease's");
  }
  return AttemptLeaseClaim(static_cast<uint32_t>(*attempt));
}

void HeartbeatAction(Call& call) {
  Result<HeartbeatBody> b = ParseHeartbeat(call.request.body, call.max_depth());
  if (FailedParse(call, b)) return;
  Result<std::string> claim = Claim(call, b->lease_token, std::nullopt);
  if (FailedParse(call, claim)) return;
  call.ctx.store->HeartbeatAction(call.scope, call.Param(0), *claim,
                                  b->lease_ms, Reply<Action>(call, LeaseOk));
}

void CompleteAction(Call& call) {
  Result<CompleteBody> b = ParseComplete(call.request.body, call.max_depth());
  if (FailedParse(call, b)) return;
  Result<std::string> claim = Claim(call, b->lease_token, b->attempt_count);
  if (FailedParse(call, claim)) return;
  call.ctx.store->CompleteAction(call.scope, call.Param(0), *claim,
                                 std::move(b->result_metadata),
                                 Reply<Action>(call, ActionOk));
}

void FailAction(Call& call) {
  Result<FailBody> b = ParseFail(call.request.body, call.max_depth());
  if (FailedParse(call, b)) return;
  Result<std::string> claim = Claim(call, b->lease_token, b->attempt_count);
  if (FailedParse(call, claim)) return;
  call.ctx.store->FailAction(call.scope, call.Param(0), *claim,
                             std::move(b->error_metadata), b->retry,
                             Reply<Action>(call, ActionOk));
}

void CancelAction(Call& call) {
  Result<CancelBody> b = ParseCancel(call.request.body, call.max_depth());
  if (FailedParse(call, b)) return;
  call.ctx.store->CancelAction(call.scope, call.Param(0),
                               std::move(b->error_metadata),
                               Reply<Action>(call, ActionOk));
}

}  // namespace

void AddActionRoutes(std::vector<RouteSpec>* r) {
  r->push_back({"POST", "/v1/actions", "enqueueAction", &EnqueueAction,
                Access::kWrite, ""});
  r->push_back({"GET", "/v1/actions", "listActions", &ListActions,
                Access::kRead, "sessionId,status,limit,cursor"});
  r->push_back({"GET", "/v1/actions/{actionId}", "getAction", &GetAction,
                Access::kRead, ""});
  r->push_back({"POST", "/v1/actions/lease", "leaseAction", &LeaseAction,
                Access::kWrite, ""});
  r->push_back({"POST", "/v1/actions/{actionId}/heartbeat", "heartbeatAction",
                &HeartbeatAction, Access::kWrite, ""});
  r->push_back({"POST", "/v1/actions/{actionId}/complete", "completeAction",
                &CompleteAction, Access::kWrite, ""});
  r->push_back({"POST", "/v1/actions/{actionId}/fail", "failAction",
                &FailAction, Access::kWrite, ""});
  r->push_back({"POST", "/v1/actions/{actionId}/cancel", "cancelAction",
                &CancelAction, Access::kWrite, ""});
}

}  // namespace acpstore::server
