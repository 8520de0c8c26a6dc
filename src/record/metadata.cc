// Metadata maps (SPEC §2.6): flat, small, secret-free JSON objects whose
// canonical form has its keys sorted bytewise, so equal maps are equal
// strings (idempotency checks compare metadata by bytes).
//
// Metadata is indexed and logged, which is why keys that look like
// credentials are refused outright rather than redacted.
// Thread-safety: pure functions.

#include <algorithm>
#include <array>
#include <string>

#include "record/canonical_json.h"
#include "record/field_error.h"
#include "record/utf8.h"
#include "record/validate.h"

namespace acpstore::record {
namespace {

// Keys that would shadow JavaScript object internals in clients that
// deserialise into plain objects.
constexpr std::array<std::string_view, 3> kReservedKeys = {
    "__proto__", "constructor", "prototype"};

// The expansion of token|secret|password|api[_-]?key|authorization|cookie,
// matched anywhere in the key, ASCII case-insensitively.
constexpr std::array<std::string_view, 8> kSecretWords = {
    "token",  "secret",  "password",      "apikey",
    "api_key", "api-key", "authorization", "cookie"};

bool LooksLikeSecret(std::string_view key) {
  std::string lower(key);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  for (std::string_view word : kSecretWords) {
    if (lower.find(word) != std::string::npos) return true;
  }
  return false;
}

Status CheckKey(std::string_view key, std::string_view field,
                const Limits& limits) {
  if (key.empty()) return InvalidField(field, "empty key is not allowed");
  const std::string member = MemberField(field, key);
  if (key.size() > limits.max_metadata_key_bytes) {
    return InvalidField(member,
                        "key exceeds " +
                            std::to_string(limits.max_metadata_key_bytes) +
                            " bytes");
  }
  if (HasControlChar(key)) {
    return InvalidField(member, "key contains a control character");
  }
  if (std::find(kReservedKeys.begin(), kReservedKeys.end(), key) !=
      kReservedKeys.end()) {
    return InvalidField(member, "key is reserved");
  }
  if (LooksLikeSecret(key)) {
    return InvalidField(
        member,
        "key matches token|secret|password|api[_-]?key|authorization|cookie; "
        "secrets do not belong in metadata");
  }
  return Status::OK();
}

}  // namespace

Result<std::string> CanonicalizeMetadata(std::string_view json,
                                         const Limits& limits,
                                         std::string_view field) {
  FlatObjectRules rules;
  rules.max_members = limits.max_metadata_keys;
  rules.max_string_bytes = limits.max_metadata_value_bytes;
  rules.check_key = [&](std::string_view key) {
    return CheckKey(key, field, limits);
  };
  ACPSTORE_ASSIGN_OR_RETURN(std::vector<FlatMember> members,
                            ParseFlatObject(json, field, rules));
  std::sort(members.begin(), members.end(),
            [](const FlatMember& a, const FlatMember& b) { return a.key < b.key; });
  std::string out = "{";
  for (const FlatMember& m : members) {
    if (out.size() > 1) out.push_back(',');
    AppendJsonString(m.key, &out);
    out.push_back(':');
    out.append(m.value);
  }
  out.push_back('}');
  return out;
}

}  // namespace acpstore::record
