// libFuzzer target for the SSE resume point and the query strings around
// it: Last-Event-ID / ?after= (ParseEventSeq, ResumePoint), ?limit=
// (ParseLimit), request targets (ParseTarget), and SSE framing of events
// whose strings the client chose.
//
// Invariants: an accepted sequence number is all ASCII digits, at most
// 2^63, and prints back to the input without leading zeros; ResumePoint
// prefers Last-Event-ID; decoded path segments and parameters are valid
// UTF-8 without control characters; an event frame is exactly
// "id: <seq>\ndata: <one line>\n\n" whatever its strings hold, so a client
// can never inject a frame.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "record/utf8.h"
#include "server/query_params.h"
#include "server/router.h"
#include "server/sse_frames.h"

namespace {

using acpstore::EventSeq;

void CheckSeq(std::string_view text) {
  auto r = acpstore::server::ParseEventSeq(text, "Last-Event-ID");
  if (!r.ok()) return;
  FUZZ_CHECK(!text.empty());
  for (char c : text) FUZZ_CHECK(c >= '0' && c <= '9');
  FUZZ_CHECK(*r <= (EventSeq{1} << 63));
  std::string_view trimmed =
      text.substr(std::min(text.find_first_not_of('0'), text.size()));
  if (trimmed.empty()) trimmed = "0";
  FUZZ_CHECK(std::to_string(*r) == trimmed);
}

void CheckTarget(std::string_view text) {
  auto t = acpstore::server::ParseTarget(text);
  if (!t.ok()) return;
  auto clean = [](const std::string& s) {
    FUZZ_CHECK(acpstore::record::FindInvalidUtf8(s) == std::string_view::npos);
    FUZZ_CHECK(!acpstore::record::HasControlChar(s));
  };
  for (const std::string& s : t->segments) clean(s);
  for (const auto& [k, v] : t->query) {
    clean(k);
    clean(v);
  }
  acpstore::server::QueryReader q(t->query);
  acpstore::server::Request req;
  auto plain = acpstore::server::ResumePoint(req, q);
  if (const std::string* after = q.Get("after")) {
    FUZZ_CHECK(plain.ok() ==
               acpstore::server::ParseEventSeq(*after, "after").ok());
  } else {
    FUZZ_CHECK(plain.ok() && *plain == 0);
  }
  // Last-Event-ID wins over ?after=.
  req.has_last_event_id = true;
  req.last_event_id = "7";
  auto header = acpstore::server::ResumePoint(req, q);
  FUZZ_CHECK(header.ok() && *header == 7);
  if (const std::string* limit = q.Get("limit")) {
    auto l = acpstore::server::ParseLimit(*limit, "limit");
    if (l.ok()) FUZZ_CHECK(*l >= 1 && *l <= 1000);
  }
}

void CheckFrame(std::string_view text) {
  // Only valid UTF-8 reaches a stored event (the store validates).
  if (acpstore::record::FindInvalidUtf8(text) != std::string_view::npos) return;
  acpstore::Event e;
  e.session_id = std::string(text);
  e.tenant_id = "t";
  e.owner_key_id = "k";
  e.seq = text.size() + 1;
  e.event_type = std::string(text);
  e.client_event_id = std::string(text);
  e.payload = "null";
  std::string frame;
  acpstore::server::SseFrames::AppendEvent(e, &frame);
  const std::string head = "id: " + std::to_string(e.seq) + "\ndata: ";
  FUZZ_CHECK(frame.rfind(head, 0) == 0);
  FUZZ_CHECK(frame.size() >= head.size() + 2);
  FUZZ_CHECK(frame.compare(frame.size() - 2, 2, "\n\n") == 0);
  const std::string_view data(frame.data() + head.size(),
                              frame.size() - head.size() - 2);
  FUZZ_CHECK(data.find('\n') == std::string_view::npos);
  FUZZ_CHECK(data.find('\r') == std::string_view::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  CheckSeq(input);
  CheckTarget(input);
  CheckFrame(input);
  return 0;
}
