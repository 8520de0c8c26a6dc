// Turns an errno from a failed system call into a Status, so every file
// error in acpstore reads the same: "<op> <path>: <strerror>" with details
// "path" and "errno". Shared by the POSIX and fault-injecting file systems.
//
// Thread-safety: pure function.

#ifndef ACPSTORE_IO_POSIX_ERROR_H_
#define ACPSTORE_IO_POSIX_ERROR_H_

#include <string_view>

#include "acpstore/status.h"

namespace acpstore::io {

// ENOSPC and EDQUOT → kInsufficientStorage; every other errno → kIoError.
Status PosixError(std::string_view op, std::string_view path, int err);

}  // namespace acpstore::io

#endif  // ACPSTORE_IO_POSIX_ERROR_H_
