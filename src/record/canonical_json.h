// Internals of the canonical JSON writer shared by payloads (validate.h:
// CanonicalizePayload) and metadata maps (metadata.cc).
//
// The canonical form (SPEC §2.2, §2.7): no insignificant whitespace;
// strings escape only '"', '\\' and control characters below U+0020 (as
// \b \f \n \r \t or \u00xx), everything else is raw UTF-8; integer tokens
// that fit int64/uint64 stay as written; every other number is printed in
// the shortest form that round-trips to the same double (std::to_chars).
// Canonical text re-canonicalises to itself byte for byte.
//
// Thread-safety: pure functions.

#ifndef ACPSTORE_RECORD_CANONICAL_JSON_H_
#define ACPSTORE_RECORD_CANONICAL_JSON_H_

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "acpstore/options.h"
#include "acpstore/result.h"
#include "acpstore/status.h"

namespace acpstore::record {

// CanonicalizePayload (validate.h) without its fast path: always the
// Boost.JSON parser. The reference the fast path is tested against.
Result<std::string> CanonicalizePayloadWithParser(std::string_view json,
                                                  const Limits& limits,
                                                  std::string_view field);

// Appends `s` (valid UTF-8) as a quoted JSON string with minimal escaping.
void AppendJsonString(std::string_view s, std::string* out);
// As AppendJsonString without the quotes. Escaping is per byte, so a
// string that arrives in parts can be escaped part by part.
void AppendJsonStringBody(std::string_view s, std::string* out);

// Index of the first byte at or after `i` that ends a run of plain string
// text in JSON: a control byte (< 0x20), '"' or '\\'; s.size() when none.
// Writers escape exactly these; scanners stop at them. Word-at-a-time.
size_t NextJsonSpecialByte(std::string_view s, size_t i);

// Decodes the body of a JSON string (the text between its quotes) that a
// JSON parser has accepted: \" \\ \/ \b \f \n \r \t and \uXXXX, a
// surrogate pair joined into one code point. A lone surrogate escape has no
// UTF-8 form and is refused ("<field>: lone ... surrogate escape").
Result<std::string> UnescapeJsonStringBody(std::string_view body,
                                           std::string_view field);

// Appends the canonical text of the JSON number `token`. `integer_token`
// says the token fits int64/uint64 and has no fraction or exponent.
// Returns false, appending nothing, when the value overflows a double
// (1e400); values that underflow (1e-400) become 0 with their sign.
bool AppendCanonicalNumber(std::string_view token, bool integer_token,
                           std::string* out);

// `text` shortened to a bounded quote for an error message, at a character
// boundary, with "..." when cut.
std::string QuoteForMessage(std::string_view text);

// "<field>.<key>" naming one member of a map in error messages; an overlong
// key is shortened (at a character boundary) and marked with "...".
std::string MemberField(std::string_view field, std::string_view key);

// One member of a flat JSON object: its raw key and canonical value.
struct FlatMember {
  std::string key;
  std::string value;  // canonical JSON: null, true, false, number or string
};

struct FlatObjectRules {
  size_t max_members = 0;
  // Longest string value, in raw (unescaped) bytes.
  size_t max_string_bytes = 0;
  // Called with each key before its value is read; a failure stops the
  // parse and is returned as is.
  std::function<Status(std::string_view key)> check_key;
};

// Parses `json` as one flat object (values null, bool, number or string),
// once, refusing invalid JSON or UTF-8, non-objects, nested objects or
// arrays, duplicate keys, too many members and long strings. Members are
// returned in input order. Messages name `field` or "<field>.<key>".
Result<std::vector<FlatMember>> ParseFlatObject(std::string_view json,
                                                std::string_view field,
                                                const FlatObjectRules& rules);

}  // namespace acpstore::record

#endif  // ACPSTORE_RECORD_CANONICAL_JSON_H_
