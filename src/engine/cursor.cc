// Cursor encoding: see cursor.h.

#include "engine/cursor.h"

#include <cstddef>
#include <cstdint>

#include "base/time_format.h"

namespace acpstore::engine {
namespace {

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
// The kind byte of cursors issued before CursorKind (any listing).
constexpr char kLegacyKind = 'c';

int DecodeChar(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// in[i] as an unsigned byte, widened.
uint32_t ByteAt(std::string_view in, size_t i) {
  return static_cast<uint8_t>(in[i]);
}

std::string Base64UrlEncode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (ByteAt(in, i) << 16) | (ByteAt(in, i + 1) << 8) |
                 ByteAt(in, i + 2);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  size_t rest = in.size() - i;
  if (rest == 1) {
    uint32_t v = ByteAt(in, i) << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
  } else if (rest == 2) {
    uint32_t v = (ByteAt(in, i) << 16) | (ByteAt(in, i + 1) << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

// False for anything that is not canonical unpadded base64url (so each
// cursor has exactly one spelling).
bool Base64UrlDecode(std::string_view in, std::string* out) {
  if (in.size() % 4 == 1) return false;
  out->clear();
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int d = DecodeChar(c);
    if (d < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // Leftover bits must be zero, else a second spelling would decode alike.
  return (acc & ((1u << bits) - 1)) == 0;
}

Status BadCursor() {
  return Status::InvalidArgument("cursor is not a cursor this store issued")
      .With("field", "cursor");
}

}  // namespace

std::string EncodeCursor(CursorKind kind, TimestampMs time,
                         std::string_view id) {
  std::string raw;
  raw.reserve(9 + id.size());
  raw.push_back(static_cast<char>(kind));
  uint64_t t = static_cast<uint64_t>(time);
  for (int shift = 56; shift >= 0; shift -= 8) {
    raw.push_back(static_cast<char>((t >> shift) & 0xff));
  }
  raw.append(id);
  return Base64UrlEncode(raw);
}

Result<CursorKey> DecodeCursor(CursorKind kind, std::string_view cursor) {
  std::string raw;
  if (!Base64UrlDecode(cursor, &raw)) return BadCursor();
  if (raw.size() < 10) return BadCursor();
  if (raw[0] != static_cast<char>(kind) && raw[0] != kLegacyKind) {
    return BadCursor();
  }
  uint64_t t = 0;
  for (size_t i = 1; i <= 8; ++i) t = (t << 8) | ByteAt(raw, i);
  // Every stored time is one a request could carry (base/time_format.h).
  if (t > static_cast<uint64_t>(base::kLatestTimestamp)) return BadCursor();
  CursorKey key;
  key.time = static_cast<TimestampMs>(t);
  key.id = raw.substr(9);
  return key;
}

}  // namespace acpstore::engine
