// libFuzzer target for the JSON a client controls: event payloads
// (CanonicalizePayload) and metadata maps (CanonicalizeMetadata).
//
// Beyond "does not crash" (run under ASan/UBSan), it asserts the
// properties the store relies on: the fast path and the full parser agree; canonical output is within the limits,
// valid UTF-8, and a fixed point (re-canonicalising it gives the same
// bytes, so the journal, snapshots and replicas agree on one form); a
// refusal is always a validation error naming its field.
//
// Two sets of limits are used so small inputs reach the size, depth and
// key-count boundaries too.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "acpstore/options.h"
#include "fuzz_check.h"
#include "record/canonical_fast.h"
#include "record/canonical_json.h"
#include "record/validate.h"

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

void CheckPayload(std::string_view in, const Limits& limits) {
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
  return 0;
}
