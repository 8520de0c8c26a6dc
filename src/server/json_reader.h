// Reading request bodies: a strict JSON scanner that keeps raw text.
//
// Bodies are checked once for grammar, UTF-8 and nesting depth; then
// ObjectReader hands out typed fields. Payloads and metadata maps are
// handed on as slices of the original text (never re-serialised), so the
// store sees exactly what the client sent and canonicalises it once --
// duplicate keys, number spelling and depth inside a payload are the
// store's to judge.
//
// On the same pass the scanner tells whether each value is already in the
// store's canonical form (JsonValue::canonical), so the store need not
// canonicalise a payload the client sent canonical (issue 14: every
// payload used to be scanned here and then again by the store).
//
// Every failure is kInvalidArgument "<field>: <rule>" with a "field"
// detail, like the store's validation errors (record/field_error.h).
//
// Thread-safety: none; one reader per request. Lifetime: readers and the
// JsonValue slices they return borrow the body text, which must outlive
// them.

#ifndef ACPSTORE_SERVER_JSON_READER_H_
#define ACPSTORE_SERVER_JSON_READER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "acpstore/clock.h"
#include "acpstore/result.h"
#include "acpstore/status.h"

namespace acpstore::server {

enum class JsonKind { kNull, kBool, kNumber, kString, kArray, kObject };
std::string_view ToString(JsonKind kind);  // "null", "a boolean", ...

// Where ScanJson found the strings, arrays and objects of the top levels
// of a document (a request's body, its events array, each event, each
// event's members: payloads included, their insides not). ObjectReader and
// ArrayElements walk accepted text again to find members; with a tape they
// jump over each such value instead of scanning it a second and a third
// time (a payload was scanned three times before the store parsed it:
// issue 14).
class JsonTape {
 public:
  struct Span {
    const char* begin;
    const char* end;  // one past the value
    bool canonical;   // as JsonValue
    int nesting;
  };
  // The recorded value that starts at `begin`, or nullptr if none was
  // recorded there.
  const Span* Find(const char* begin) const;
  // One past the end of the recorded value that starts at `begin`, or
  // nullptr if none was recorded there.
  const char* EndOf(const char* begin) const;

 private:
  friend class JsonTapeWriter;
  std::vector<Span> spans_;  // in document order, so sorted by begin
};

// One JSON value as a slice of the body; `tape`, when set, belongs to the
// ScanJson call that produced it (see JsonTape).
struct JsonValue {
  JsonKind kind = JsonKind::kNull;
  std::string_view raw;
  const JsonTape* tape = nullptr;
  // `raw` is already the canonical form of the value (record/
  // canonical_json.h): CanonicalizePayload(raw) would succeed and return
  // raw itself, given limits of at least raw.size() bytes and `nesting`
  // levels. False only means "not known to be": the scanner says true
  // for exactly what the payload fast path (record/canonical_fast.h)
  // would copy through unchanged -- no whitespace between tokens, strings
  // escaped minimally, integers of at most 18 digits, other numbers in
  // their shortest form, no duplicate keys -- and the differential test
  // (json_reader_test.cc) and the payload fuzzer hold it to that.
  bool canonical = false;
  // Containers nested in the value: 0 for a scalar, 1 for {} or [1], ...
  int nesting = 0;
};

// Checks that `text` is exactly one JSON value (whitespace around it is
// allowed): grammar, valid UTF-8, no raw control characters in strings,
// nesting at most max_depth. `field` names the text in messages. With a
// `tape`, records the top levels' values in it (it must outlive the
// values returned, like `text`).
Result<JsonValue> ScanJson(std::string_view text, std::string_view field,
                           int max_depth, JsonTape* tape = nullptr);

// The elements of an array that ScanJson accepted.
std::vector<JsonValue> ArrayElements(const JsonValue& array);

// Decodes a JSON string token (with its quotes) to UTF-8. Fails on a lone
// surrogate escape.
Result<std::string> DecodeJsonString(std::string_view token,
                                     std::string_view field);

// Typed access to the members of one JSON object. Getters record the first
// failure and return an empty value; Finish() returns that failure, or
// names the first member no getter asked for (unknown fields are refused,
// so a typo never passes silently).
class ObjectReader {
 public:
  // `object` must come from ScanJson (or be an element/member of such a
  // value). `prefix` prefixes field names in messages ("events[2]").
  // A non-object fails at Finish() with "<prefix>: must be an object".
  ObjectReader(const JsonValue& object, std::string prefix);

  bool Has(std::string_view name) const;
  // Present and not null (a null member counts as absent, http_api.md).
  bool HasValue(std::string_view name) const;
  // The member if present, marking it read.
  std::optional<JsonValue> Get(std::string_view name);

  // Absent or null -> nullopt.
  std::optional<std::string> OptString(std::string_view name);
  // Absent, null or wrong type records "<field>: required" / type error.
  std::string ReqString(std::string_view name);
  // PATCH semantics: absent -> nullopt; null -> engaged nullopt.
  std::optional<std::optional<std::string>> PatchString(std::string_view name);
  std::optional<int64_t> OptInt(std::string_view name, int64_t min,
                                int64_t max);
  std::optional<uint64_t> OptUint(std::string_view name);
  std::optional<bool> OptBool(std::string_view name);
  std::optional<TimestampMs> OptTimestamp(std::string_view name);
  // Any JSON value (a payload); null is a value here.
  std::optional<std::string_view> OptRaw(std::string_view name);
  // An object (metadata map) as raw text; null -> nullopt.
  std::optional<std::string> OptObjectText(std::string_view name);
  // PATCH semantics for an object member.
  std::optional<std::optional<std::string>> PatchObjectText(
      std::string_view name);
  // An array; null -> nullopt.
  std::optional<std::vector<JsonValue>> OptArray(std::string_view name);

  // Records `status` unless a failure is already recorded.
  void Fail(Status status);
  // Records "<field>: is immutable" if `name` is present.
  void RefuseImmutable(std::string_view name);
  std::string FieldName(std::string_view name) const;
  bool ok() const { return status_.ok(); }
  Status Finish();

 private:
  struct Member {
    std::string key;
    JsonValue value;
    bool read = false;
  };
  const Member* Find(std::string_view name) const;
  std::string KeyField(std::string_view key) const;
  std::optional<JsonValue> Typed(std::string_view name, JsonKind kind,
                                 bool null_ok);
  // The PATCH form of a reader of an optional string (OptString,
  // OptObjectText): absent -> nullopt, null -> engaged nullopt, else what
  // `read` returns (nullopt when it failed).
  std::optional<std::optional<std::string>> Patch(
      std::string_view name,
      std::optional<std::string> (ObjectReader::*read)(std::string_view));

  std::string prefix_;
  const JsonTape* tape_ = nullptr;
  std::vector<Member> members_;
  Status status_;
};

}  // namespace acpstore::server

#endif  // ACPSTORE_SERVER_JSON_READER_H_
