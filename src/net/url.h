// Where a client connects: "http://host:port/prefix" parsed into its parts,
// and percent-encoding of one path segment. No I/O.
//
// Thread-safety: pure functions.

#ifndef ACPSTORE_NET_URL_H_
#define ACPSTORE_NET_URL_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "acpstore/result.h"

namespace acpstore::net {

struct Url {
  std::string host;  // without brackets ("::1", "127.0.0.1", "localhost")
  uint16_t port = 80;
  std::string base_path;  // "" or "/prefix" (no trailing slash)
};

// "http://127.0.0.1:7700", "http://[::1]:7700/", "http://localhost".
// Only plain http: acpstore serves no TLS (a proxy in front does).
Result<Url> ParseUrl(std::string_view text);

// The Host header value for `host`:`port` (IPv6 literals in brackets).
std::string HostHeader(const std::string& host, uint16_t port);

// Percent-encodes a path segment (RFC 3986 unreserved bytes stay as they are).
std::string EncodePathSegment(std::string_view segment);

}  // namespace acpstore::net

#endif  // ACPSTORE_NET_URL_H_
