// Opaque page cursors for ListSessions and ListActions. A cursor names the
// last record of a page by its sort key (a timestamp and an id), so the next
// page starts strictly after it in an ordered index without a scan, and
// stays valid across restarts and concurrent writes (a record that moved
// is simply seen at its new position, or not at all).
//
// Format: base64url, unpadded, of  'c' | 8-byte big-endian timestamp | id.
//
// Thread-safety: pure functions.

#ifndef ACPSTORE_ENGINE_CURSOR_H_
#define ACPSTORE_ENGINE_CURSOR_H_

#include <string>
#include <string_view>

#include "acpstore/clock.h"
#include "acpstore/result.h"

namespace acpstore::engine {

struct CursorKey {
  TimestampMs time = 0;
  std::string id;
};

std::string EncodeCursor(TimestampMs time, std::string_view id);
// kInvalidArgument (field "cursor") unless `cursor` came from EncodeCursor.
Result<CursorKey> DecodeCursor(std::string_view cursor);

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_CURSOR_H_
