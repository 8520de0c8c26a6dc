// API tokens: their text format, their SHA-256 digest and the
// constant-time comparison of digests (SPEC §6).
//
//   acp_<lookup>_<secret>
//   lookup: 16 lowercase hex characters (64 random bits). Not secret: it
//           only finds the key record in O(1), so the secret is compared
//           against one digest instead of every key's.
//   secret: 64 lowercase hex characters (256 random bits from getrandom).
//
// Only SHA-256(whole token) is stored. A token is 85 bytes of [a-z0-9_],
// safe in an HTTP header and in a shell.
//
// Thread-safety: pure functions (NewToken reads getrandom).

#ifndef ACPSTORE_AUTH_TOKEN_H_
#define ACPSTORE_AUTH_TOKEN_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace acpstore::auth {

inline constexpr std::string_view kTokenPrefix = "acp_";
inline constexpr size_t kLookupHexChars = 16;
inline constexpr size_t kSecretHexChars = 64;
inline constexpr size_t kTokenBytes =
    kTokenPrefix.size() + kLookupHexChars + 1 + kSecretHexChars;

using Digest = std::array<uint8_t, 32>;

struct ParsedToken {
  std::string_view lookup;  // points into the parsed token
};

// A fresh token for `lookup` (16 lowercase hex characters).
std::string NewToken(std::string_view lookup);
// A fresh random lookup handle.
std::string NewLookup();

// True for 16 lowercase hex characters.
bool IsLookup(std::string_view s);

// std::nullopt unless `token` has exactly the shape above.
std::optional<ParsedToken> ParseToken(std::string_view token);

Digest Sha256(std::string_view data);
std::string DigestToHex(const Digest& digest);
std::optional<Digest> DigestFromHex(std::string_view hex);

// Compares in time independent of where the digests differ (CRYPTO_memcmp).
bool DigestsEqual(const Digest& a, const Digest& b);

}  // namespace acpstore::auth

#endif  // ACPSTORE_AUTH_TOKEN_H_
