// AppendResponseHead: the status line and header lines of one HTTP/1.1
// response, written as bytes for the connection to send before the body.
//
// The connection used to build a Beast message for every reply (a field
// list allocated node by node, a serializer, a cat of a dozen buffers); for
// a single append that was several percent of the server's CPU (issue 14,
// docs/benchmarks.md "Fifth round"). The bytes are the ones Beast wrote:
// Content-Type, the Response's headers (a name given twice keeps its last
// value, as Beast's set() did), Connection as HTTP/1.0 and 1.1 need it for
// keep-alive, and Content-Length, except on a 304 (RFC 9110 §8.6).
//
// Thread-safety: a pure function. No sockets: unit-tested in server_test.

#ifndef ACPSTORE_SERVER_RESPONSE_HEAD_H_
#define ACPSTORE_SERVER_RESPONSE_HEAD_H_

#include <string>
#include <string_view>

#include "server/http_message.h"

namespace acpstore::server {

// The reason phrase of `status` ("OK", "Not Found"); "Unknown" for a code
// RFC 9110 does not name.
std::string_view ReasonPhrase(int status);

// Appends r's head (through the blank line) to *out. `version` is 10 or 11;
// `keep_alive` says whether the connection stays open after this response.
void AppendResponseHead(const Response& r, unsigned version, bool keep_alive,
                        std::string* out);

}  // namespace acpstore::server

#endif  // ACPSTORE_SERVER_RESPONSE_HEAD_H_
