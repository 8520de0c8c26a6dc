// Transcript routes (SPEC §13): GET /v1/sessions/{id}/transcript pages a
// session's transcript (docs/http_api.md, "Transcripts").

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "record/field_error.h"
#include "server/query_params.h"
#include "server/routes_util.h"
#include "server/transcript_frames.h"

namespace acpstore::server {
namespace {

// Splits "a,b,c" (kind filter); empty parts are refused by the store as
// unknown kinds.
std::vector<std::string> SplitKinds(std::string_view text) {
  std::vector<std::string> out;
  for (std::string_view kind : SplitCommaList(text)) out.emplace_back(kind);
  return out;
}

void GetTranscript(Call& call) {
  TranscriptQuery query;
  if (const std::string* a = call.query.Get("after")) {
    Result<uint64_t> r = ParseEntryIndex(*a, "after");
    if (FailedParse(call, r)) return;
    query.after = *r;
  }
  if (Status s = call.query.ReadLimit(&query.limit); !s.ok()) {
    return call.respond(ErrorResponse(s));
  }
  if (const std::string* k = call.query.Get("kind")) query.kinds = SplitKinds(*k);
  Result<TranscriptPage> page =
      call.ctx.store->ReadTranscript(call.scope, call.Param(0), query);
  if (FailedParse(call, page)) return;
  JsonWriter w;
  w.BeginObject().Key("entries").BeginArray();
  for (TranscriptEntry& e : page->entries) {
    WriteTranscriptEntry(e, &w);
    // Held once: the page (up to StoreOptions::max_page_bytes of text)
    // or its JSON, not both.
    std::string().swap(e.text);
    std::string().swap(e.input);
  }
  w.EndArray();
  w.Key("next").Uint(page->next);
  w.Key("firstIndex").Uint(page->first_index);
  w.Key("endIndex").Uint(page->end_index);
  w.Key("complete").Bool(page->complete);
  w.Key("foldedSeq").Uint(page->folded_seq);
  w.Key("totals").BeginObject();
  w.Key("usage").BeginObject();
  for (const auto& [name, total] : page->usage) w.Key(name).Int(total);
  w.EndObject();
  w.Key("entries").BeginObject();
  for (const auto& [kind, n] : page->entries_by_kind) w.Key(kind).Uint(n);
  w.EndObject();
  w.EndObject();
  w.EndObject();
  call.respond(JsonResponse(200, w.Take()));
}

// ?textAppends= of the transcript stream: absent or "false" is the
// default (every change re-sends its entry whole, which clients written
// before the parameter rely on); "true" sends what an assistant's or
// thought's text gained as `event: append`.
Result<bool> ParseTextAppends(const QueryReader& query) {
  const std::string* v = query.Get("textAppends");
  if (v == nullptr || *v == "false") return false;
  if (*v == "true") return true;
  return record::InvalidField("textAppends", "must be true or false");
}

void StreamTranscript(Call& call) {
  Result<EventSeq> after = ResumePoint(call.request, call.query);
  if (FailedParse(call, after)) return;
  Result<bool> text_appends = ParseTextAppends(call.query);
  if (FailedParse(call, text_appends)) return;
  if (RefusedWhileStopping(call)) return;
  // Refuse at once what the stream could never serve (unknown session,
  // transcripts off), before taking a subscriber slot.
  TranscriptQuery probe;
  probe.limit = 1;
  Result<TranscriptPage> first =
      call.ctx.store->ReadTranscript(call.scope, call.Param(0), probe);
  if (FailedParse(call, first)) return;
  // Events only wake the stream: start at the newest so none is replayed.
  Result<Session> session = call.ctx.store->GetSession(call.scope, call.Param(0));
  if (FailedParse(call, session)) return;
  std::shared_ptr<SseStart> start =
      SubscribeStream(call, session->events.last_seq);
  if (start == nullptr) return;
  start->transcript_seq = *after;
  TranscriptStreamState state;
  state.text_appends = *text_appends;
  // The state lives as long as the connection's stream: a reconnect starts
  // afresh, so its first frame of each entry is whole.
  start->transcript = [store = call.ctx.store, scope = call.scope,
                       id = std::string(call.Param(0)),
                       state = std::move(state)](EventSeq* seq,
                                                 size_t max_bytes,
                                                 std::string* out,
                                                 bool* more) mutable {
    return TranscriptFrames(
        [&](const TranscriptQuery& q) {
          return store->ReadTranscript(scope, id, q);
        },
        seq, &state, max_bytes, out, more);
  };
  RespondWithStream(call, std::move(start));
}

}  // namespace

void AddTranscriptRoutes(std::vector<RouteSpec>* r) {
  r->push_back({"GET", "/v1/sessions/{id}/transcript", "getTranscript",
                &GetTranscript, Access::kRead, "after,limit,kind"});
  r->push_back({"GET", "/v1/sessions/{id}/transcript/stream",
                "streamTranscript", &StreamTranscript, Access::kRead,
                "after,textAppends"});
}

}  // namespace acpstore::server
