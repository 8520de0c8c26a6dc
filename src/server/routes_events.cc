// Event routes (SPEC §5.2): appendEvents, listEvents, streamEvents. The
// stream handler only opens the subscription; sse_stream.cc writes it.

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <variant>

#include "base/ascii.h"
#include "server/json_codec.h"
#include "server/metrics.h"
#include "server/request_codec.h"
#include "server/routes_util.h"

namespace acpstore::server {
namespace {

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// True when a Prefer header (RFC 7240) asks for return=minimal: the
// preferences are comma-separated, tokens case-insensitive, a value may be
// quoted, and parameters after ';' are ignored.
bool PrefersMinimal(std::string_view prefer) {
  using base::EqualsAsciiLower;
  using base::TrimHttpWhitespace;
  while (!prefer.empty()) {
    const size_t comma = prefer.find(',');
    std::string_view pref = prefer.substr(0, comma);
    prefer = comma == std::string_view::npos ? std::string_view()
                                             : prefer.substr(comma + 1);
    pref = TrimHttpWhitespace(pref.substr(0, pref.find(';')));
    const size_t eq = pref.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view value = TrimHttpWhitespace(pref.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (EqualsAsciiLower(TrimHttpWhitespace(pref.substr(0, eq)), "return") &&
        EqualsAsciiLower(value, "minimal")) {
      return true;
    }
  }
  return false;
}

// 201 when any event was new, 200 for a pure replay (clientEventId). With
// return=minimal, only what the store assigned (SPEC §5.2).
Response Render(const AppendResult& r, bool batch, bool minimal, size_t count,
                Metrics* metrics, int64_t start) {
  metrics->RecordAppend(NowMicros() - start, count);
  const int status = r.any_created ? 201 : 200;
  auto write = minimal ? &WriteEventAssigned : &WriteEvent;
  Response out;
  if (!batch && !r.events.empty()) {
    JsonWriter w;
    write(r.events.front(), &w);
    out = JsonResponse(status, w.Take());
  } else {
    JsonWriter w;
    w.BeginObject().Key("events").BeginArray();
    for (const Event& e : r.events) write(e, &w);
    w.EndArray().EndObject();
    out = JsonResponse(status, w.Take());
  }
  if (minimal) out.headers.emplace_back("Preference-Applied", "return=minimal");
  return out;
}

// The store names fields of a request's events "events[i].x". A body that
// held a single event has no "events" array, so its errors name "x".
Status ForSingleEvent(const Status& s) {
  constexpr std::string_view kPrefix = "events[0].";
  const StatusDetail* field = s.Detail("field");
  const std::string* name =
      field ? std::get_if<std::string>(&field->value) : nullptr;
  if (name == nullptr || name->rfind(kPrefix, 0) != 0) return s;
  std::string message(s.message());
  if (message.rfind(kPrefix, 0) == 0) message.erase(0, kPrefix.size());
  Status out(s.code(), message);
  for (const StatusDetail& d : s.details()) {
    if (d.key == "field") {
      out.With("field", name->substr(kPrefix.size()));
    } else if (const auto* v = std::get_if<std::string>(&d.value)) {
      out.With(d.key, *v);
    } else {
      out.With(d.key, std::get<int64_t>(d.value));
    }
  }
  return out;
}

void AppendEvents(Call& call) {
  Result<ParsedAppend> parsed =
      ParseAppend(call.request.body, call.max_depth());
  if (FailedParse(call, parsed)) return;
  const bool batch = parsed->batch;
  const bool minimal = PrefersMinimal(call.request.prefer);
  // The minimal reply holds no payload: the store need not copy them.
  parsed->request.result_without_payloads = minimal;
  const size_t count = parsed->request.events.size();
  Metrics* metrics = call.ctx.metrics;
  const int64_t start = NowMicros();
  call.ctx.store->AppendEvents(
      call.scope, call.Param(0), std::move(parsed->request),
      [respond = std::move(call.respond), batch, minimal, count, metrics,
       start](Result<AppendResult> result) {
        if (!result.ok()) {
          return respond(ErrorResponse(batch ? result.error()
                                             : ForSingleEvent(result.error())));
        }
        respond(Render(*result, batch, minimal, count, metrics, start));
      });
}

void ListEvents(Call& call) {
  EventSeq after = 0;
  uint32_t limit = 100;
  if (const std::string* a = call.query.Get("after")) {
    Result<EventSeq> r = ParseEventSeq(*a, "after");
    if (FailedParse(call, r)) return;
    after = *r;
  }
  if (Status s = call.query.ReadLimit(&limit); !s.ok()) {
    return call.respond(ErrorResponse(s));
  }
  Result<EventPage> page =
      call.ctx.store->ListEvents(call.scope, call.Param(0), after, limit);
  if (FailedParse(call, page)) return;
  // The body is built once, at its final size: a page of large payloads
  // was held as the events, the body and the body's doubling growth at
  // once (a probe: ~4x the page). Each payload goes as soon as it is in
  // the body.
  size_t estimate = 128;
  for (const Event& e : page->events) estimate += e.payload.size() + 512;
  JsonWriter w;
  w.str().reserve(estimate);
  w.BeginObject().Key("events").BeginArray();
  for (Event& e : page->events) {
    WriteEvent(e, &w);
    std::string().swap(e.payload);
  }
  w.EndArray();
  w.Key("firstSeq").Uint(page->first_seq);
  w.Key("lastSeq").Uint(page->last_seq);
  w.Key("truncated").Bool(page->truncated);
  w.EndObject();
  call.respond(JsonResponse(200, w.Take()));
}

void StreamEvents(Call& call) {
  Result<EventSeq> after = ResumePoint(call.request, call.query);
  if (FailedParse(call, after)) return;
  if (RefusedWhileStopping(call)) return;
  std::shared_ptr<SseStart> start = SubscribeStream(call, *after);
  if (start == nullptr) return;
  RespondWithStream(call, std::move(start));
}

}  // namespace

Result<EventSeq> ResumePoint(const Request& request, const QueryReader& query) {
  // Both are checked whenever present, whichever wins: a bad value is a
  // client's bug even when the header makes it moot, and its stream would
  // otherwise start only as long as it reconnects with Last-Event-ID.
  EventSeq after = 0;
  if (const std::string* text = query.Get("after")) {
    Result<EventSeq> parsed = ParseEventSeq(*text, "after");
    if (!parsed.ok()) return parsed;
    after = *parsed;
  }
  if (request.has_last_event_id) {
    return ParseEventSeq(request.last_event_id, "Last-Event-ID");
  }
  return after;
}

void AddEventRoutes(std::vector<RouteSpec>* r) {
  r->push_back({"POST", "/v1/sessions/{id}/events", "appendEvents",
                &AppendEvents, Access::kWrite, ""});
  r->push_back({"GET", "/v1/sessions/{id}/events", "listEvents", &ListEvents,
                Access::kRead, "after,limit"});
  r->push_back({"GET", "/v1/sessions/{id}/events/stream", "streamEvents",
                &StreamEvents, Access::kRead, "after"});
}

}  // namespace acpstore::server
