// UTF-8 checks shared by validation and the canonical JSON writer.
//
// Strict RFC 3629: no overlong forms, no surrogates (U+D800-U+DFFF), nothing
// above U+10FFFF. Thread-safety: pure functions.

#ifndef ACPSTORE_RECORD_UTF8_H_
#define ACPSTORE_RECORD_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace acpstore::record {

// Offset of the first byte that does not start a valid sequence, or
// std::string_view::npos when all of `s` is valid UTF-8.
size_t FindInvalidUtf8(std::string_view s);

// True when `s` (valid UTF-8) holds a control character: C0 (U+0000-
// U+001F), DEL (U+007F) or C1 (U+0080-U+009F).
bool HasControlChar(std::string_view s);

// Appends code point `cp` (not a surrogate, at most U+10FFFF) as UTF-8.
void AppendUtf8(uint32_t cp, std::string* out);

// The longest prefix of `s` (valid UTF-8) of at most `max_bytes` bytes that
// ends on a character boundary. For quoting user input in messages.
std::string_view TruncateUtf8(std::string_view s, size_t max_bytes);

// The length of `s` (valid UTF-8) in UTF-16 code units, as JavaScript's
// String.length counts it: a character above U+FFFF counts 2.
size_t Utf16Length(std::string_view s);

// The longest prefix of `s` (valid UTF-8) of at most `max_units` UTF-16
// code units that ends on a character boundary.
std::string_view TruncateUtf16(std::string_view s, size_t max_units);

}  // namespace acpstore::record

#endif  // ACPSTORE_RECORD_UTF8_H_
