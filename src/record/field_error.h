// Building validation failures that name their field (validate.h).
//
// Every rejection reads "<field>: <rule>" and carries the detail
// {"field", "<field>"}, so clients can point at the offending input and the
// HTTP layer needs no knowledge of individual rules.
// Thread-safety: pure functions.

#ifndef ACPSTORE_RECORD_FIELD_ERROR_H_
#define ACPSTORE_RECORD_FIELD_ERROR_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "acpstore/status.h"

namespace acpstore::record {

// kInvalidArgument "<field>: <rule>" with detail field=<field>.
Status InvalidField(std::string_view field, std::string_view rule);
// kPayloadTooLarge, same shape, plus detail limit=<limit>.
Status FieldTooLarge(std::string_view field, std::string_view rule,
                     int64_t limit);

// "events[2]" + "payload" -> "events[2].payload"; "" + "payload" ->
// "payload".
std::string JoinField(std::string_view prefix, std::string_view name);
// "events", 2 -> "events[2]".
std::string IndexField(std::string_view name, size_t index);

}  // namespace acpstore::record

#endif  // ACPSTORE_RECORD_FIELD_ERROR_H_
