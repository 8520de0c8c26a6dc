// Helpers the routes_*.cc files share: building responses and turning a
// store completion into a response.
//
// Thread-safety: the completions they build run on whichever thread the
// store completes on; they only format and call the Responder.

#ifndef ACPSTORE_SERVER_ROUTES_UTIL_H_
#define ACPSTORE_SERVER_ROUTES_UTIL_H_

#include <string>
#include <utility>

#include "acpstore/store.h"
#include "server/error_map.h"
#include "server/http_message.h"
#include "server/router.h"

namespace acpstore::server {

inline Response JsonResponse(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

inline Response NoContent() {
  Response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

// A completion that answers with render(value) on success and with the
// mapped error otherwise. `render` returns a Response.
template <typename T, typename Render>
Completion<T> Reply(Call& call, Render render) {
  return [respond = std::move(call.respond),
          render = std::move(render)](Result<T> r) {
    if (!r.ok()) return respond(ErrorResponse(r.error()));
    respond(render(std::move(*r)));
  };
}

// Answers with the failure of a parse step. Returns true if it failed.
template <typename T>
bool FailedParse(Call& call, const Result<T>& r) {
  if (r.ok()) return false;
  call.respond(ErrorResponse(r.error()));
  return true;
}

}  // namespace acpstore::server

#endif  // ACPSTORE_SERVER_ROUTES_UTIL_H_
