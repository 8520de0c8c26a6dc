// Request-target parsing. See query_params.h.

#include "server/query_params.h"

#include <charconv>

#include "record/canonical_json.h"
#include "record/field_error.h"
#include "record/utf8.h"

namespace acpstore::server {
namespace {

using record::InvalidField;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<std::string> PercentDecode(std::string_view in, std::string_view field) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) {
      return InvalidField(field, "bad percent-encoding");
    }
    const int hi = HexValue(in[i + 1]);
    const int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return InvalidField(field, "bad percent-encoding");
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  if (record::FindInvalidUtf8(out) != std::string_view::npos) {
    return InvalidField(field, "invalid UTF-8");
  }
  if (record::HasControlChar(out)) {
    return InvalidField(field, "control character");
  }
  return out;
}

Result<ParsedTarget> ParseTarget(std::string_view target) {
  ParsedTarget out;
  if (target.empty() || target[0] != '/') {
    return InvalidField("target", "must start with '/'");
  }
  const size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query =
      q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  // A fragment is never sent by a client; refuse rather than guess.
  if (target.find('#') != std::string_view::npos) {
    return InvalidField("target", "must not contain '#'");
  }
  path.remove_prefix(1);
  for (;;) {
    const size_t slash = path.find('/');
    Result<std::string> seg = PercentDecode(path.substr(0, slash), "path");
    if (!seg.ok()) return std::move(seg).error();
    out.segments.push_back(std::move(*seg));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view()
                                          : query.substr(amp + 1);
    if (part.empty()) continue;
    // Routes take at most four parameters; the cap bounds the repeat check.
    if (out.query.size() >= 32) {
      return InvalidField("query", "too many parameters");
    }
    const size_t eq = part.find('=');
    Result<std::string> name = PercentDecode(part.substr(0, eq), "query");
    if (!name.ok()) return std::move(name).error();
    Result<std::string> value = PercentDecode(
        eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1),
        record::QuoteForMessage(*name));
    if (!value.ok()) return std::move(value).error();
    for (const auto& [n, v] : out.query) {
      if (n == *name) {
        return InvalidField(record::QuoteForMessage(*name), "given twice");
      }
    }
    out.query.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

namespace {

// A non-negative integer up to 2^63 in digits only; `what` names it in the
// error ("a sequence number", "an entry index"). Leading zeros are allowed:
// only the value counts, so a long all-digit string is "out of range", not
// "digits only".
Result<uint64_t> ParseCounter(std::string_view text, std::string_view field,
                              std::string_view what) {
  constexpr uint64_t kMax = uint64_t{1} << 63;
  if (text.empty()) {
    return InvalidField(field,
                        "must be " + std::string(what) + " (digits only)");
  }
  for (char c : text) {
    if (c < '0' || c > '9') {
      return InvalidField(field,
                          "must be " + std::string(what) + " (digits only)");
    }
  }
  const size_t first = text.find_first_not_of('0');
  const std::string_view digits =
      first == std::string_view::npos ? std::string_view() : text.substr(first);
  uint64_t v = 0;
  auto [end, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (!digits.empty() &&
      (ec != std::errc() || end != digits.data() + digits.size() || v > kMax)) {
    return InvalidField(field, std::string(what.substr(what.find(' ') + 1)) +
                                   " out of range");
  }
  return v;
}

}  // namespace

Result<EventSeq> ParseEventSeq(std::string_view text, std::string_view field) {
  return ParseCounter(text, field, "a sequence number");
}

Result<uint64_t> ParseEntryIndex(std::string_view text,
                                 std::string_view field) {
  return ParseCounter(text, field, "an entry index");
}

std::vector<std::string_view> SplitCommaList(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    out.push_back(text.substr(start, comma - start));
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

Result<uint32_t> ParseLimit(std::string_view text, std::string_view field) {
  uint32_t v = 0;
  const bool digits =
      !text.empty() && text.size() <= 4 &&
      text.find_first_not_of("0123456789") == std::string_view::npos;
  if (digits) std::from_chars(text.data(), text.data() + text.size(), v);
  if (!digits || v < 1 || v > 1000) {
    return InvalidField(field, "must be an integer in 1..1000");
  }
  return v;
}

const std::string* QueryReader::Get(std::string_view name) const {
  for (const auto& [n, v] : query_) {
    if (n == name) return &v;
  }
  return nullptr;
}

Status QueryReader::ReadLimit(uint32_t* limit) const {
  const std::string* text = Get("limit");
  if (text == nullptr) return Status::OK();
  Result<uint32_t> l = ParseLimit(*text, "limit");
  if (!l.ok()) return l.error();
  *limit = *l;
  return Status::OK();
}

Status QueryReader::ReadCursor(std::string* cursor) const {
  const std::string* text = Get("cursor");
  if (text == nullptr) return Status::OK();
  if (text->empty()) {
    return InvalidField("cursor", "is empty (leave it out for the first page)");
  }
  *cursor = *text;
  return Status::OK();
}

const std::string* QueryReader::FirstUnknown(std::string_view allowed) const {
  for (const auto& [n, v] : query_) {
    bool found = false;
    std::string_view rest = allowed;
    while (!rest.empty() && !found) {
      const size_t comma = rest.find(',');
      found = rest.substr(0, comma) == n;
      rest = comma == std::string_view::npos ? std::string_view()
                                             : rest.substr(comma + 1);
    }
    if (!found) return &n;
  }
  return nullptr;
}

}  // namespace acpstore::server
