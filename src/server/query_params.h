// Parsing request targets: path segments, query parameters and the strict
// numeric forms the API accepts (event sequence numbers, page limits).
//
// Percent-decoding follows RFC 3986: "%2F" inside a segment is a '/' that
// belongs to the id, and '+' is a literal plus (not a space), so cursors
// and timestamps with offsets survive. Decoded text must be valid UTF-8
// without control characters; anything else is a 400.
//
// Thread-safety: pure functions; QueryReader is one per request.

#ifndef ACPSTORE_SERVER_QUERY_PARAMS_H_
#define ACPSTORE_SERVER_QUERY_PARAMS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "acpstore/records.h"
#include "acpstore/result.h"
#include "acpstore/status.h"

namespace acpstore::server {

struct ParsedTarget {
  std::vector<std::string> segments;  // decoded; "/v1/a%2Fb" -> {"v1","a/b"}
  std::vector<std::pair<std::string, std::string>> query;  // decoded
};

// kInvalidArgument for a target that is not origin-form ("/..."), bad
// percent-encoding, invalid UTF-8 or control characters, or a parameter
// given twice.
Result<ParsedTarget> ParseTarget(std::string_view target);

// Percent-decodes `in` (RFC 3986, '+' stays a plus). kInvalidArgument
// naming `field` for bad escapes, invalid UTF-8 or control characters.
Result<std::string> PercentDecode(std::string_view in, std::string_view field);

// Strict event sequence number: ASCII digits only, at most 2^63. Used for
// ?after= and the Last-Event-ID header.
Result<EventSeq> ParseEventSeq(std::string_view text, std::string_view field);
// The same for a transcript entry index (GET .../transcript?after=).
Result<uint64_t> ParseEntryIndex(std::string_view text,
                                 std::string_view field);

// A page size: digits only, 1..1000.
Result<uint32_t> ParseLimit(std::string_view text, std::string_view field);

// The items of a comma-separated value, empty ones included ("" is one
// empty item, "a," two), so that a filter naming nothing is refused as an
// unknown name rather than read as no filter.
std::vector<std::string_view> SplitCommaList(std::string_view text);

// Hands out query parameters by name.
class QueryReader {
 public:
  QueryReader() = default;
  explicit QueryReader(std::vector<std::pair<std::string, std::string>> query)
      : query_(std::move(query)) {}

  const std::string* Get(std::string_view name) const;
  // The first parameter whose name is not in `allowed` (comma-separated),
  // or nullptr.
  const std::string* FirstUnknown(std::string_view allowed) const;
  // ?limit= (ParseLimit) into *limit when given; *limit keeps the
  // route's default otherwise.
  Status ReadLimit(uint32_t* limit) const;
  // ?cursor= into *cursor when given; an empty one is 400 (a first page
  // is asked for by leaving the parameter out).
  Status ReadCursor(std::string* cursor) const;

 private:
  std::vector<std::pair<std::string, std::string>> query_;
};

}  // namespace acpstore::server

#endif  // ACPSTORE_SERVER_QUERY_PARAMS_H_
