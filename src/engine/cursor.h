// Opaque page cursors for ListSessions and ListActions. A cursor names the
// last record of a page by its sort key (a timestamp and an id), so the next
// page starts strictly after it in an ordered index without a scan, and
// stays valid across restarts and concurrent writes (a record that moved
// is simply seen at its new position, or not at all).
//
// Format: base64url, unpadded, of  kind | 8-byte big-endian timestamp | id,
// kind 's' (sessions) or 'a' (actions), so a cursor passed to the other
// listing is refused. 'c', the kind-less cursors of 0.1.x, is still read by
// both listings, so a client paging across an upgrade does not fail.
// Cursors are not signed: a hand-made one is only a position in the
// caller's own scope.
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

enum class CursorKind : char { kSessions = 's', kActions = 'a' };

std::string EncodeCursor(CursorKind kind, TimestampMs time,
                         std::string_view id);
// kInvalidArgument (field "cursor") unless `cursor` could have come from
// EncodeCursor(kind, ...): well-formed, of this kind (or the legacy 'c'),
// a time in 1970..9999 and a non-empty id.
Result<CursorKey> DecodeCursor(CursorKind kind, std::string_view cursor);

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_CURSOR_H_
