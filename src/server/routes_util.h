// Helpers the routes_*.cc files share: building responses and turning a
// store completion into a response.
//
// Thread-safety: the completions they build run on whichever thread the
// store completes on; they only format and call the Responder.

#ifndef ACPSTORE_SERVER_ROUTES_UTIL_H_
#define ACPSTORE_SERVER_ROUTES_UTIL_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "acpstore/store.h"
#include "server/error_map.h"
#include "server/http_message.h"
#include "server/json_writer.h"
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

// A 200 with one page of a list route: {"<key>": [...], "nextCursor":
// "<opaque>" or null} (docs/http_api.md, paging). `write(record, &w)`
// writes one record.
template <typename Record, typename Write>
Response PageResponse(std::string_view key, const std::vector<Record>& records,
                      const std::optional<std::string>& next_cursor,
                      Write write) {
  JsonWriter w;
  w.BeginObject().Key(key).BeginArray();
  for (const Record& r : records) write(r, &w);
  w.EndArray().Key("nextCursor");
  if (next_cursor) {
    w.String(*next_cursor);
  } else {
    w.Null();
  }
  w.EndObject();
  return JsonResponse(200, w.Take());
}

// The SSE routes (streamEvents, streamTranscript), in this order:
//
// A new stream while the server stops would be cut at once: answers 503
// then. Returns true when it responded.
bool RefusedWhileStopping(Call& call);
// Takes the caller's subscriber slot (429 at its caps) and subscribes to
// session Param(0) from `after`; the subscription's on_ready wakes the
// stream. Returns nullptr after responding with the refusal.
std::shared_ptr<SseStart> SubscribeStream(Call& call, EventSeq after);
// Answers 200 text/event-stream: the connection writes `start`'s frames.
void RespondWithStream(Call& call, std::shared_ptr<SseStart> start);

}  // namespace acpstore::server

#endif  // ACPSTORE_SERVER_ROUTES_UTIL_H_
