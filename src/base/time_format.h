// ISO-8601 UTC timestamps with millisecond precision, the HTTP API's only
// time format: "2026-05-23T02:56:00.123Z".
//
// Thread-safety: pure functions.

#ifndef ACPSTORE_BASE_TIME_FORMAT_H_
#define ACPSTORE_BASE_TIME_FORMAT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "acpstore/clock.h"

namespace acpstore::base {

// Always 24 bytes: YYYY-MM-DDTHH:MM:SS.mmmZ. Years 0000-9999 only.
std::string FormatIso8601(TimestampMs ms);

// The latest time a request may carry: 9999-12-31T23:59:59.999Z.
inline constexpr TimestampMs kLatestTimestamp = 253402300799999;

// Accepts "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)"; a fraction
// beyond milliseconds is truncated. std::nullopt for anything else,
// including impossible dates (Feb 30) and years outside 1970..9999.
std::optional<TimestampMs> ParseIso8601(std::string_view text);

// The same grammar with every year JavaScript's Date.toISOString writes
// (0000-9999, or a sign and six digits: "-000001", "+010000"; not
// "-000000") and no range check: milliseconds since the epoch, negative
// before 1970. For reading files other programs wrote (import-aegis), which
// decide themselves what to do with a time acpstore cannot keep.
std::optional<int64_t> ParseIso8601AnyYear(std::string_view text);

}  // namespace acpstore::base

#endif  // ACPSTORE_BASE_TIME_FORMAT_H_
