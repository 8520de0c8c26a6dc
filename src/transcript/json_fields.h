// Reading a few top-level members of a canonical JSON object without
// parsing the rest: the transcript fold needs two or three fields of a
// payload that may embed a large raw ACP frame. Values are returned as
// their raw JSON text; nested values are skipped by bracket counting
// (strings honoured), never decoded.
//
// Input must be JSON a validator accepted (payloads are canonicalised on
// append); anything else makes the scan stop early without error, having
// reported what it found so far.
//
// Thread-safety: pure functions.

#ifndef ACPSTORE_TRANSCRIPT_JSON_FIELDS_H_
#define ACPSTORE_TRANSCRIPT_JSON_FIELDS_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "base/function_ref.h"

namespace acpstore::transcript {

// Calls visit(raw key, raw value) for each member of the top-level object
// `json` in order, until visit returns false. `raw key` is the text between
// the quotes (escapes not decoded); `raw value` the value's JSON text. Does
// nothing when `json` is not an object.
void ScanTopLevel(std::string_view json,
                  base::FunctionRef<bool(std::string_view key,
                                         std::string_view value)> visit);

// ScanTopLevel from the last member back, for the fold's fields that
// follow a large raw frame (Aegis puts "acp" first): the members at the end
// are reached without stepping over it. Canonical JSON only (no
// whitespace). A backward scan can find where a string or a scalar starts
// (a quote is a delimiter when an even number of backslashes precede it),
// not where an object or array does, so it stops at the first such value.
enum class BackwardScan {
  kStopped,     // visit returned false
  kFirst,       // every member visited
  kNotScalar,   // reached a member whose value is an object or array (not
                // visited), or input that is not a canonical object: the
                // caller scans forward instead
};
BackwardScan ScanTopLevelBackward(
    std::string_view json,
    base::FunctionRef<bool(std::string_view key, std::string_view value)>
        visit);

// The decoded text of the JSON string `raw` (with its quotes), appended to
// *out; false (appending nothing) when `raw` is not a string.
bool AppendStringValue(std::string_view raw, std::string* out);

// True for a JSON string, number, true, false or null.
bool IsScalar(std::string_view raw);

// Cuts `s` to at most `max` bytes at a UTF-8 character boundary; true when
// it cut, and then `s` gives back the capacity it no longer needs.
bool CutUtf8(std::string* s, size_t max);

}  // namespace acpstore::transcript

#endif  // ACPSTORE_TRANSCRIPT_JSON_FIELDS_H_
