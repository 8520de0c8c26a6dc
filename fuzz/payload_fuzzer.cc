// libFuzzer target for the JSON a client controls: event payloads
// (CanonicalizePayload) and metadata maps (CanonicalizeMetadata).
//
// Beyond "does not crash" (run under ASan/UBSan), it asserts the
// properties the store relies on: the fast path and the full parser agree;
// canonical output is within the limits, valid UTF-8, and a fixed point
// (re-canonicalising it gives the same bytes, so the journal, snapshots and
// replicas agree on one form); a refusal is always a validation error naming
// its field. And the HTTP server's scanner calls a payload canonical only when
// the store would keep exactly its bytes (server/json_reader.h), at the nesting
// it reports. And the transcript fold's backward scan of a canonical object
// (transcript/json_fields.h) visits exactly the forward scan's last members,
// from the last back, up to the last whose value is an object or array;
// its forward scan (64 bytes at a time, transcript/json_blocks.h) splits
// the object exactly into its members, and decodes each string member as
// the full decoder does.
//
// Two sets of limits are used so small inputs reach the size, depth and
// key-count boundaries too.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "acpstore/options.h"
#include "fuzz_check.h"
#include "record/canonical_fast.h"
#include "record/canonical_json.h"
#include "record/validate.h"
#include "server/json_reader.h"
#include "transcript/json_blocks.h"
#include "transcript/json_fields.h"

namespace {

using acpstore::Limits;
using acpstore::Status;
using acpstore::StatusCode;

Limits SmallLimits() {
  Limits l;
  l.max_payload_bytes = 64;
  l.max_json_depth = 3;
  l.max_metadata_keys = 3;
  l.max_metadata_key_bytes = 6;
  l.max_metadata_value_bytes = 8;
  return l;
}

bool NamesField(const Status& s, std::string_view prefix) {
  const acpstore::StatusDetail* d = s.Detail("field");
  if (d == nullptr) return false;
  const auto* field = std::get_if<std::string>(&d->value);
  return field != nullptr && field->starts_with(prefix);
}

void CheckBackwardScan(std::string_view canonical) {
  using Member = std::pair<std::string_view, std::string_view>;
  std::vector<Member> forward, backward;
  acpstore::transcript::ScanTopLevel(
      canonical, [&](std::string_view k, std::string_view v) {
        forward.emplace_back(k, v);
        return true;
      });
  const acpstore::transcript::BackwardScan r =
      acpstore::transcript::ScanTopLevelBackward(
          canonical, [&](std::string_view k, std::string_view v) {
            backward.emplace_back(k, v);
            return true;
          });
  FUZZ_CHECK(backward.size() <= forward.size());
  for (size_t i = 0; i < backward.size(); ++i) {
    FUZZ_CHECK(backward[i] == forward[forward.size() - 1 - i]);
  }
  if (r == acpstore::transcript::BackwardScan::kFirst) {
    FUZZ_CHECK(backward.size() == forward.size());
  } else if (canonical.front() == '{') {
    // Stopped at a member whose value is an object or array.
    FUZZ_CHECK(backward.size() < forward.size());
    const char c = forward[forward.size() - 1 - backward.size()].second[0];
    FUZZ_CHECK(c == '{' || c == '[');
  }
}

// The forward scan's members, joined again, are the canonical text byte
// for byte: each value ends exactly where the skip said.
void CheckForwardScan(std::string_view canonical) {
  const char first = canonical.front();
  if (first == '{' || first == '[') {
    FUZZ_CHECK(acpstore::transcript::SkipContainer(canonical, 0) ==
               canonical.size());
  }
  if (first != '{') return;
  std::string joined = "{";
  acpstore::transcript::ScanTopLevel(
      canonical, [&](std::string_view k, std::string_view v) {
        if (joined.size() > 1) joined += ',';
        joined += '"';
        joined += k;
        joined += "\":";
        joined += v;
        if (v.front() == '"') {
          std::string text;
          FUZZ_CHECK(acpstore::transcript::AppendStringValue(v, &text));
          auto ref = acpstore::record::UnescapeJsonStringBody(
              v.substr(1, v.size() - 2), "text");
          FUZZ_CHECK(ref.ok() && *ref == text);
        }
        return true;
      });
  joined += '}';
  FUZZ_CHECK(joined == canonical);
}

void CheckPayload(std::string_view in, const Limits& limits) {
  // Any bytes at all: the skips stay inside them.
  if (!in.empty()) {
    (void)acpstore::transcript::SkipContainer(in, 0);
    (void)acpstore::transcript::SkipStringFrom(in, 0);
  }
  // The fast path accepts only what the Boost.JSON parser accepts, with
  // the same bytes (canonical_fast.h).
  std::string fast;
  if (acpstore::record::TryCanonicalizeFast(in, limits.max_payload_bytes,
                                            limits.max_json_depth, &fast)) {
    auto reference = acpstore::record::CanonicalizePayloadWithParser(
        in, limits, "payload");
    FUZZ_CHECK(reference.ok());
    FUZZ_CHECK(*reference == fast);
  }
  auto r = acpstore::record::CanonicalizePayload(in, limits, "payload");
  if (!r.ok()) {
    const StatusCode code = r.error().code();
    FUZZ_CHECK(code == StatusCode::kInvalidArgument ||
               code == StatusCode::kPayloadTooLarge);
    FUZZ_CHECK(NamesField(r.error(), "payload"));
    return;
  }
  FUZZ_CHECK(!r->empty());
  FUZZ_CHECK(r->size() <= limits.max_payload_bytes);
  FUZZ_CHECK(acpstore::record::CheckUtf8(*r, "payload").ok());
  auto again = acpstore::record::CanonicalizePayload(*r, limits, "payload");
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(*again == *r);
  CheckBackwardScan(*r);
  CheckForwardScan(*r);
}

// The store skips canonicalisation when the scanner says a payload is
// canonical (NewEvent::canonical_payload_nesting), within limits of its
// size and nesting: there the store's own answer must be those bytes.
void CheckScannerVerdict(std::string_view in) {
  auto v = acpstore::server::ScanJson(in, "payload", 256);
  if (!v.ok() || !v->canonical) return;
  Limits at;
  at.max_payload_bytes = static_cast<uint32_t>(v->raw.size());
  at.max_json_depth = static_cast<uint32_t>(std::max(v->nesting, 1));
  auto r = acpstore::record::CanonicalizePayload(v->raw, at, "payload");
  FUZZ_CHECK(r.ok());
  FUZZ_CHECK(*r == v->raw);
  if (v->nesting > 1) {
    at.max_json_depth = static_cast<uint32_t>(v->nesting - 1);
    FUZZ_CHECK(
        !acpstore::record::CanonicalizePayload(v->raw, at, "payload").ok());
  }
}

void CheckMetadata(std::string_view in, const Limits& limits) {
  auto r = acpstore::record::CanonicalizeMetadata(in, limits, "metadata");
  if (!r.ok()) {
    FUZZ_CHECK(r.error().code() == StatusCode::kInvalidArgument);
    FUZZ_CHECK(NamesField(r.error(), "metadata"));
    return;
  }
  FUZZ_CHECK(r->size() >= 2 && r->front() == '{' && r->back() == '}');
  auto again = acpstore::record::CanonicalizeMetadata(*r, limits, "metadata");
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(*again == *r);
  // Sorted metadata is also a canonical payload, unchanged.
  Limits roomy = limits;
  roomy.max_payload_bytes = 1u << 20;
  auto as_payload = acpstore::record::CanonicalizePayload(*r, roomy, "payload");
  FUZZ_CHECK(as_payload.ok());
  FUZZ_CHECK(*as_payload == *r);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Limits kDefault;
  static const Limits kSmall = SmallLimits();
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  for (const Limits* limits : {&kDefault, &kSmall}) {
    CheckPayload(in, *limits);
    CheckMetadata(in, *limits);
  }
  CheckScannerVerdict(in);
  return 0;
}
