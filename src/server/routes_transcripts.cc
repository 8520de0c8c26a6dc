// Transcript routes (SPEC §13): GET /v1/sessions/{id}/transcript pages a
// session's transcript (docs/http_api.md, "Transcripts").

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/time_format.h"
#include "server/query_params.h"
#include "server/routes_util.h"

namespace acpstore::server {
namespace {

void WriteEntry(const TranscriptEntry& e, JsonWriter* w) {
  w->BeginObject();
  w->Key("index").Uint(e.index);
  w->Key("kind").String(e.kind);
  w->Key("firstSeq").Uint(e.first_seq);
  w->Key("lastSeq").Uint(e.last_seq);
  w->Key("firstAt").String(base::FormatIso8601(e.first_at));
  w->Key("lastAt").String(base::FormatIso8601(e.last_at));
  if (e.kind == "assistant" || e.kind == "thought") {
    w->Key("text").String(e.text);
    if (!e.id.empty()) w->Key("messageId").String(e.id);
  } else if (e.kind == "tool") {
    w->Key("toolCallId").String(e.id);
    w->Key("title").String(e.title);
    if (!e.tool_kind.empty()) w->Key("toolKind").String(e.tool_kind);
    if (!e.status.empty()) w->Key("status").String(e.status);
    if (!e.input.empty()) {
      // Whole, it is the canonical JSON the event carried; cut, a prefix of
      // that text, sent as a string.
      w->Key("input");
      if (e.input_cut) {
        w->String(e.input);
      } else {
        w->Raw(e.input);
      }
      w->Key("inputTruncated").Bool(e.input_cut);
    }
    w->Key("started").Bool(e.started);
    w->Key("completed").Bool(e.completed);
    if (e.completed) {
      w->Key("result").String(e.text);
      w->Key("resultTruncated").Bool(e.text_cut);
    }
  } else {
    const std::string_view fields =
        e.fields.empty() ? std::string_view("{}") : std::string_view{e.fields};
    w->Key("fields").Raw(fields);
  }
  w->EndObject();
}

// Splits "a,b,c" (kind filter); empty parts are refused by the store as
// unknown kinds.
std::vector<std::string> SplitKinds(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    out.emplace_back(text.substr(start, comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

void GetTranscript(Call& call) {
  TranscriptQuery query;
  if (const std::string* a = call.query.Get("after")) {
    Result<EventSeq> r = ParseEventSeq(*a, "after");
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
  for (const TranscriptEntry& e : page->entries) WriteEntry(e, &w);
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

// The frames of every entry that changed after *seq, in ascending lastSeq
// (each entry's id): one event changes at most one entry, so ids strictly
// ascend and a resume from the last id received misses nothing.
Status TranscriptFrames(Store* store, const Scope& scope,
                        const std::string& session, EventSeq* seq,
                        std::string* out) {
  std::vector<TranscriptEntry> changed;
  TranscriptQuery q;
  q.limit = 1000;
  q.changed_after_seq = *seq;
  while (true) {
    Result<TranscriptPage> page = store->ReadTranscript(scope, session, q);
    if (!page.ok()) return page.error();
    for (TranscriptEntry& e : page->entries) changed.push_back(std::move(e));
    q.after = page->next;
    if (page->next + 1 >= page->end_index) break;
  }
  std::sort(changed.begin(), changed.end(),
            [](const TranscriptEntry& a, const TranscriptEntry& b) {
              return a.last_seq < b.last_seq;
            });
  for (const TranscriptEntry& e : changed) {
    JsonWriter w;
    WriteEntry(e, &w);
    *out += "id: " + std::to_string(e.last_seq) + "\nevent: entry\ndata: ";
    *out += w.Take();
    *out += "\n\n";
    *seq = e.last_seq;
  }
  return Status::OK();
}

void StreamTranscript(Call& call) {
  Result<EventSeq> after = ResumePoint(call.request, call.query);
  if (FailedParse(call, after)) return;
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
  start->transcript = [store = call.ctx.store, scope = call.scope,
                       id = std::string(call.Param(0))](EventSeq* seq,
                                                        std::string* out) {
    return TranscriptFrames(store, scope, id, seq, out);
  };
  RespondWithStream(call, std::move(start));
}

}  // namespace

void AddTranscriptRoutes(std::vector<RouteSpec>* r) {
  r->push_back({"GET", "/v1/sessions/{id}/transcript", "getTranscript",
                &GetTranscript, Access::kRead, "after,limit,kind"});
  r->push_back({"GET", "/v1/sessions/{id}/transcript/stream",
                "streamTranscript", &StreamTranscript, Access::kRead,
                "after"});
}

}  // namespace acpstore::server
