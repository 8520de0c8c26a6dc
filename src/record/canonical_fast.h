// The fast path of CanonicalizePayload (validate.h): one hand-written pass
// over the input for the common case, valid JSON within the limits.
//
// It only ever accepts. On anything it does not handle, or anything wrong
// with the input (a syntax error, bad UTF-8, a duplicate key, a limit, an
// unusual number), it returns false and the caller runs the Boost.JSON
// path, which produces the same bytes or the precise error. So the fast
// path needs no error messages, and its one obligation is: whatever it
// accepts, the Boost path accepts with the same output. The differential
// test (canonical_fast_test.cc) and the payload fuzzer check exactly that.
//
// Why it exists: payload canonicalisation was ~22% of the file engine's
// CPU at 64 writers and ~23% of the server's on batches (docs/
// benchmarks.md). Boost's parser walks escaped strings byte by byte and
// the handler then re-escapes every piece; this pass copies runs of plain
// string bytes whole, found 8 bytes at a time (NextJsonSpecialByte), and
// validates UTF-8 once over the whole input.
//
// Thread-safety: pure function.

#ifndef ACPSTORE_RECORD_CANONICAL_FAST_H_
#define ACPSTORE_RECORD_CANONICAL_FAST_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace acpstore::record {

// Writes the canonical form of `json` into *out and returns true, or
// returns false (with *out unspecified) to hand the input to the full
// parser. Declines: invalid JSON or UTF-8; nesting deeper than max_depth;
// duplicate keys; canonical output over max_bytes; lone surrogate escapes;
// integers of 19 or more digits and numbers longer than 40 bytes or with
// exponents of more than 4 digits (rare, and their int64/uint64/double
// classification and overflow report are the parser's business).
bool TryCanonicalizeFast(std::string_view json, size_t max_bytes,
                         size_t max_depth, std::string* out);

// The number limits above, shared with the HTTP request scanner's
// "already canonical" verdict (server/json_reader.cc, decision 0023): a
// number beyond them is the full parser's business on both paths, so the
// two must agree.
inline constexpr size_t kFastMaxNumberBytes = 40;
inline constexpr size_t kFastMaxIntegerDigits = 18;  // always fits int64
inline constexpr size_t kFastMaxExponentDigits = 4;

}  // namespace acpstore::record

#endif  // ACPSTORE_RECORD_CANONICAL_FAST_H_
