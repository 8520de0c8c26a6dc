// UUIDv4 and 128-bit hex secrets from the kernel CSPRNG.
//
// Every call reads fresh bytes with getrandom(2): no user-space generator
// state exists, so there is nothing to lock, nothing to reseed after fork,
// and lease tokens stay unguessable. An id costs one syscall, which is
// negligible next to the journal write that follows it.
//
// Thread-safety: safe from any thread.

#include "base/uuid.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace acpstore::base {
namespace {

void FillRandom(uint8_t* buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    ssize_t n = getrandom(buf + got, len - got, 0);
    if (n > 0) {
      got += static_cast<size_t>(n);
    } else if (n < 0 && errno != EINTR) {
      // Without OS randomness we cannot mint ids or lease tokens safely;
      // predictable tokens would be worse than stopping.
      std::perror("acpstore: getrandom");
      std::abort();
    }
  }
}

constexpr char kHex[] = "0123456789abcdef";

void AppendHex(uint8_t byte, std::string* out) {
  out->push_back(kHex[byte >> 4]);
  out->push_back(kHex[byte & 0x0f]);
}

}  // namespace

std::string NewUuidV4() {
  uint8_t b[16];
  FillRandom(b, sizeof(b));
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    AppendHex(b[i], &out);
  }
  return out;
}

std::string RandomHex128() {
  uint8_t b[16];
  FillRandom(b, sizeof(b));
  std::string out;
  out.reserve(32);
  for (uint8_t byte : b) AppendHex(byte, &out);
  return out;
}

}  // namespace acpstore::base
