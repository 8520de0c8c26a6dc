// Session routes (SPEC §5.1): createSession, listSessions, getSession,
// updateSession, transitionSession, deleteSession.

#include <string>
#include <utility>

#include "base/time_format.h"
#include "record/field_error.h"
#include "server/json_codec.h"
#include "server/request_codec.h"
#include "server/routes_util.h"

namespace acpstore::server {
namespace {

Response SessionOk(int status, const Session& s) {
  return JsonResponse(status, SessionJson(s));
}

void CreateSession(Call& call) {
  Result<NewSession> req = ParseNewSession(call.request.body, call.max_depth());
  if (FailedParse(call, req)) return;
  if (req->created_at && call.principal.role != auth::Role::kService) {
    // Every other key's records carry the server's clock (SPEC §2.1).
    return call.respond(ErrorResponse(
        Status::Forbidden("createdAt may be given by service keys only")
            .With("field", "createdAt")));
  }
  call.ctx.store->CreateSession(
      call.scope, std::move(*req),
      Reply<Session>(call, [](const Session& s) { return SessionOk(201, s); }));
}

// Parses ?status=a,b&updatedAfter=<ts>&limit=&cursor= into `query`.
Status ReadSessionQuery(const QueryReader& q, SessionQuery* query) {
  if (const std::string* status = q.Get("status")) {
    for (std::string_view name : SplitCommaList(*status)) {
      std::optional<SessionStatus> st = ParseSessionStatus(name);
      if (!st) return record::InvalidField("status", "unknown session status");
      query->statuses.push_back(*st);
    }
  }
  if (const std::string* after = q.Get("updatedAfter")) {
    query->updated_after = base::ParseIso8601(*after);
    if (!query->updated_after) {
      return record::InvalidField("updatedAfter",
                                  "must be an ISO-8601 timestamp");
    }
  }
  if (Status s = q.ReadLimit(&query->limit); !s.ok()) return s;
  return q.ReadCursor(&query->cursor);
}

void ListSessions(Call& call) {
  SessionQuery query;
  if (Status s = ReadSessionQuery(call.query, &query); !s.ok()) {
    return call.respond(ErrorResponse(s));
  }
  Result<SessionPage> page = call.ctx.store->ListSessions(call.scope, query);
  if (FailedParse(call, page)) return;
  call.respond(PageResponse("sessions", page->sessions, page->next_cursor,
                            WriteSession));
}

void GetSession(Call& call) {
  Result<Session> s = call.ctx.store->GetSession(call.scope, call.Param(0));
  if (FailedParse(call, s)) return;
  call.respond(SessionOk(200, *s));
}

void UpdateSession(Call& call) {
  Result<SessionPatch> patch =
      ParseSessionPatch(call.request.body, call.max_depth());
  if (FailedParse(call, patch)) return;
  call.ctx.store->UpdateSession(
      call.scope, call.Param(0), std::move(*patch),
      Reply<Session>(call, [](const Session& s) { return SessionOk(200, s); }));
}

void TransitionSession(Call& call) {
  Result<SessionEvent> event =
      ParseTransition(call.request.body, call.max_depth());
  if (FailedParse(call, event)) return;
  call.ctx.store->TransitionSession(
      call.scope, call.Param(0), *event,
      Reply<Session>(call, [](const Session& s) { return SessionOk(200, s); }));
}

void DeleteSession(Call& call) {
  call.ctx.store->DeleteSession(
      call.scope, call.Param(0),
      [respond = std::move(call.respond)](const Status& s) {
        respond(s.ok() ? NoContent() : ErrorResponse(s));
      });
}

}  // namespace

void AddSessionRoutes(std::vector<RouteSpec>* r) {
  r->push_back({"POST", "/v1/sessions", "createSession", &CreateSession,
                Access::kWrite, ""});
  r->push_back({"GET", "/v1/sessions", "listSessions", &ListSessions,
                Access::kRead, "status,updatedAfter,limit,cursor"});
  r->push_back({"GET", "/v1/sessions/{id}", "getSession", &GetSession,
                Access::kRead, ""});
  r->push_back({"PATCH", "/v1/sessions/{id}", "updateSession", &UpdateSession,
                Access::kWrite, ""});
  r->push_back({"POST", "/v1/sessions/{id}/transitions", "transitionSession",
                &TransitionSession, Access::kWrite, ""});
  r->push_back({"DELETE", "/v1/sessions/{id}", "deleteSession", &DeleteSession,
                Access::kWrite, ""});
}

}  // namespace acpstore::server
