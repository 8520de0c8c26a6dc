// errno → Status. See posix_error.h.

#include "io/posix_error.h"

#include <cerrno>
#include <cstring>
#include <string>

namespace acpstore::io {

Status PosixError(std::string_view op, std::string_view path, int err) {
  std::string message;
  message.append(op).append(" ").append(path).append(": ");
  char buf[256];
  // GNU strerror_r: thread-safe, returns either buf or a static string.
  message.append(strerror_r(err, buf, sizeof(buf)));
  const StatusCode code = (err == ENOSPC || err == EDQUOT)
                              ? StatusCode::kInsufficientStorage
                              : StatusCode::kIoError;
  return Status(code, message).With("path", path).With("errno", int64_t{err});
}

}  // namespace acpstore::io
