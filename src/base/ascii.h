// ASCII text helpers for protocol fields (HTTP header names and values,
// cookie pairs, media types). They are ASCII-only on purpose: HTTP's
// case-insensitivity and its optional whitespace (RFC 9110 §5.6.3: space
// and horizontal tab) are defined over ASCII, and a locale-aware
// std::tolower could fold bytes of UTF-8 text differently per machine.
#ifndef ACPSTORE_BASE_ASCII_H_
#define ACPSTORE_BASE_ASCII_H_

#include <string>
#include <string_view>

namespace acpstore::base {

constexpr char AsciiLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

inline std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

// True when `text` equals `lower` ignoring ASCII case; `lower` must
// already be lower case.
constexpr bool EqualsAsciiLower(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (AsciiLower(text[i]) != lower[i]) return false;
  }
  return true;
}

// Strips HTTP optional whitespace (space, tab) from both ends.
constexpr std::string_view TrimHttpWhitespace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace acpstore::base

#endif  // ACPSTORE_BASE_ASCII_H_
