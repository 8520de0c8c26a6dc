// The SSE routes' shared steps. See routes_util.h.

#include "server/routes_util.h"

#include <memory>
#include <string>
#include <utility>

#include "server/browser_sessions.h"
#include "server/subscriber_caps.h"

namespace acpstore::server {

bool RefusedWhileStopping(Call& call) {
  if (!call.ctx.stopping->load()) return false;
  call.respond(
      ErrorResponse(Status::Unavailable("the server is shutting down")));
  return true;
}

std::shared_ptr<SseStart> SubscribeStream(Call& call, EventSeq after) {
  auto start = std::make_shared<SseStart>();
  Result<std::unique_ptr<SubscriberSlot>> slot = call.ctx.sse_caps->Acquire(
      call.principal.tenant_id + '\n' + call.principal.key_id);
  if (FailedParse(call, slot)) return nullptr;
  start->slot = std::move(*slot);
  start->ready = std::make_shared<ReadySignal>();
  SubscribeOptions options;
  options.after = after;
  options.on_ready = [ready = start->ready] { ready->Notify(); };
  Result<std::unique_ptr<Subscription>> sub =
      call.ctx.store->Subscribe(call.scope, call.Param(0), std::move(options));
  if (FailedParse(call, sub)) return nullptr;
  start->subscription = std::move(*sub);
  if (call.ctx.authenticator != nullptr && !call.principal.key_id.empty()) {
    // A browser session's stream also ends with the session (sign-out,
    // expiry).
    BrowserSessions* sessions =
        call.by_cookie ? call.ctx.browser_sessions : nullptr;
    start->authorized = [authn = call.ctx.authenticator,
                         key = call.principal.key_id, sessions,
                         secret = call.browser_session]() -> Status {
      if (sessions != nullptr) {
        Result<FoundBrowserSession> s = sessions->FindLive(secret, *authn);
        return s.ok() ? Status::OK() : s.error();
      }
      Result<auth::Principal> p = authn->PrincipalOfKey(key);
      return p.ok() ? Status::OK() : p.error();
    };
  }
  return start;
}

void RespondWithStream(Call& call, std::shared_ptr<SseStart> start) {
  Response r;
  r.status = 200;
  r.content_type = "text/event-stream";
  r.sse = std::move(start);
  call.respond(std::move(r));
}

}  // namespace acpstore::server
