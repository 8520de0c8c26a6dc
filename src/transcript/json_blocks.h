// Finding where a JSON value ends, 64 bytes at a time. The fold reads two
// or three top-level members of each payload and must step over the rest,
// above all the raw ACP frame Aegis puts first (an object holding the
// same text again). Stepping byte by byte, and stopping at every escape in
// its strings, was most of the fold's cost (docs/benchmarks.md, "Values
// skipped 64 bytes at a time").
//
// The method: each 64-byte block becomes four bit masks (bit k for byte k):
// quotes, backslashes, opening and closing brackets. From them, without a
// branch per byte: which bytes an escape makes literal (the byte after a
// backslash that is not itself escaped), which quotes delimit strings
// (the others), which bytes lie inside strings (the parity of the
// delimiting quotes before them: a prefix XOR), and so which brackets are
// structure. Only the structural brackets are then visited one by one to
// count the depth; a payload has a few dozen, against kilobytes of text.
// State crosses blocks in two values: whether the block starts inside a
// string, and whether its first byte is escaped.
//
// Input: JSON a validator accepted (as everywhere in json_fields.h). On
// anything else the functions return npos or a wrong end, never read out
// of bounds.
//
// Thread-safety: pure functions.

#ifndef ACPSTORE_TRANSCRIPT_JSON_BLOCKS_H_
#define ACPSTORE_TRANSCRIPT_JSON_BLOCKS_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace acpstore::transcript {

inline constexpr size_t kJsonBlock = 64;

// Bit k describes byte k of a block.
struct BlockBits {
  uint64_t quote = 0;      // '"'
  uint64_t backslash = 0;  // '\\'
  uint64_t open = 0;       // '{' or '['
  uint64_t close = 0;      // '}' or ']'
};

// The masks of the kJsonBlock bytes at `p`: with SSE2 where the target has
// it (every x86-64), else ClassifyBlockBytewise. The two agree on every
// input (json_blocks_test.cc).
BlockBits ClassifyBlock(const char* p);
BlockBits ClassifyBlockBytewise(const char* p);

// The bytes of a block an escape makes literal: bit k is set when byte k
// follows a backslash that is not itself escaped. `*carry` in: the block's
// first byte is escaped (the last block ended in an escaping backslash);
// out: the next block's first byte is.
uint64_t EscapedBits(uint64_t backslash, bool* carry);

// Bit k of the result is the parity of bits 0..k of `x`: applied to the
// delimiting quotes, the bytes from an opening quote up to (not including)
// its closing one.
uint64_t PrefixXor(uint64_t x);

// Index one past the object or array that opens at s[i] ('{' or '[');
// npos when it does not close within `s`.
size_t SkipContainer(std::string_view s, size_t i);

// Index one past the quote that closes the string `s[i]` is inside of,
// where s[i] is not escaped (an escaping backslash, or any byte of the
// string's text that does not follow one); npos when it does not close.
size_t SkipStringFrom(std::string_view s, size_t i);

}  // namespace acpstore::transcript

#endif  // ACPSTORE_TRANSCRIPT_JSON_BLOCKS_H_
