// Pause routes (SPEC §5.4): pauseSession, startIntervention,
// completeIntervention, resumeSession, getPause. Each mutation answers
// {"session", "pause"}. Only pauseSession creates a record, so only it
// answers 201 (200 on an idempotent replay of its key); the others update
// the active pause and answer 200 whether or not they were replays.

#include <utility>

#include "server/json_codec.h"
#include "server/request_codec.h"
#include "server/routes_util.h"

namespace acpstore::server {
namespace {

Response PauseOk(const PauseResult& r) {
  return JsonResponse(200, PauseResultJson(r.session, r.pause));
}

Response PauseCreated(const PauseResult& r) {
  return JsonResponse(r.created ? 201 : 200,
                      PauseResultJson(r.session, r.pause));
}

void PauseSession(Call& call) {
  Result<PauseRequest> req = ParsePause(call.request.body, call.max_depth());
  if (FailedParse(call, req)) return;
  call.ctx.store->PauseSession(call.scope, call.Param(0), std::move(*req),
                               Reply<PauseResult>(call, PauseCreated));
}

void StartIntervention(Call& call) {
  Result<InterventionStartRequest> req =
      ParseInterventionStart(call.request.body, call.max_depth());
  if (FailedParse(call, req)) return;
  call.ctx.store->StartIntervention(call.scope, call.Param(0), std::move(*req),
                                    Reply<PauseResult>(call, PauseOk));
}

void CompleteIntervention(Call& call) {
  Result<InterventionCompleteRequest> req =
      ParseInterventionComplete(call.request.body, call.max_depth());
  if (FailedParse(call, req)) return;
  call.ctx.store->CompleteIntervention(call.scope, call.Param(0),
                                       std::move(*req),
                                       Reply<PauseResult>(call, PauseOk));
}

void ResumeSession(Call& call) {
  Result<ResumeRequest> req = ParseResume(call.request.body, call.max_depth());
  if (FailedParse(call, req)) return;
  call.ctx.store->ResumeSession(call.scope, call.Param(0), std::move(*req),
                                Reply<PauseResult>(call, PauseOk));
}

void GetPause(Call& call) {
  Result<Pause> p = call.ctx.store->GetPause(call.scope, call.Param(0));
  if (FailedParse(call, p)) return;
  JsonWriter w;
  WritePause(*p, &w);
  call.respond(JsonResponse(200, w.Take()));
}

}  // namespace

void AddPauseRoutes(std::vector<RouteSpec>* r) {
  r->push_back({"POST", "/v1/sessions/{id}/pause", "pauseSession",
                &PauseSession, Access::kWrite, ""});
  r->push_back({"GET", "/v1/sessions/{id}/pause", "getPause", &GetPause,
                Access::kRead, ""});
  r->push_back({"POST", "/v1/sessions/{id}/intervention/start",
                "startIntervention", &StartIntervention, Access::kWrite, ""});
  r->push_back({"POST", "/v1/sessions/{id}/intervention/complete",
                "completeIntervention", &CompleteIntervention, Access::kWrite,
                ""});
  r->push_back({"POST", "/v1/sessions/{id}/resume", "resumeSession",
                &ResumeSession, Access::kWrite, ""});
}

}  // namespace acpstore::server
