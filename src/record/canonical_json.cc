// The canonical JSON writer. Payloads first try the accept-only fast path
// (canonical_fast.h); whatever it declines, and every error, goes through
// one pass of Boost.JSON's SAX parser
// (basic_parser) whose handlers write canonical bytes while they check
// depth, duplicate keys, number range, UTF-8 and size. No DOM is built, so
// a payload costs one parse and one output string.
//
// This is the only translation unit that includes basic_parser_impl.hpp
// (the parser's template definitions), which keeps compile times down.
// Boost may throw (std::bad_alloc from our own appends, or length_error);
// every entry point catches at this edge and returns a Status.
//
// Thread-safety: pure functions; each call owns its parser and handler.

#include "record/canonical_json.h"

#include <algorithm>
#include <cstdint>
#include <new>
#include <string>

#include <boost/json/basic_parser_impl.hpp>

#include "record/canonical_fast.h"
#include "record/field_error.h"
#include "record/utf8.h"
#include "record/validate.h"

namespace acpstore::record {
namespace json = boost::json;

namespace {

// True when `s` ends in \uD800-\uDBFF: Boost reports a leading surrogate
// escape not followed by a trailing one as a plain syntax error just after
// it.
bool EndsWithLeadingSurrogateEscape(std::string_view s) {
  if (s.size() < 6) return false;
  s = s.substr(s.size() - 6);
  return s[0] == '\\' && s[1] == 'u' && (s[2] == 'd' || s[2] == 'D') &&
         std::string_view("89abAB").find(s[3]) != std::string_view::npos;
}

// Maps a parse failure reported by Boost (not by our handler) to a Status.
Status ParseFailure(std::string_view input, std::string_view field,
                    const json::error_code& ec, size_t offset) {
  const std::string at = " at offset " + std::to_string(offset);
  if (ec == json::error::exponent_overflow) {
    return InvalidField(field, "number does not fit a double" + at);
  }
  // Boost reports bad UTF-8 as a plain syntax error at the start of the
  // string; name the real cause and its position.
  const size_t bad = FindInvalidUtf8(input);
  if (bad != std::string_view::npos) {
    return InvalidField(field, "invalid UTF-8 at offset " + std::to_string(bad));
  }
  if (ec == json::error::illegal_leading_surrogate ||
      ec == json::error::illegal_trailing_surrogate ||
      EndsWithLeadingSurrogateEscape(input.substr(0, offset))) {
    return InvalidField(field, "invalid \\u surrogate escape" + at);
  }
  if (input.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return InvalidField(field, "empty JSON text");
  }
  return InvalidField(field, "invalid JSON (" + ec.message() + ")" + at);
}

// Runs one complete parse of `input` and folds every way it can fail into
// a Status: the handler's own verdict first, then Boost's, then trailing
// bytes after the value.
template <typename Handler>
Status Drive(json::basic_parser<Handler>* parser, std::string_view input,
             std::string_view field) {
  json::error_code ec;
  const size_t n = parser->write_some(false, input.data(), input.size(), ec);
  if (!parser->handler().error().ok()) return parser->handler().error();
  if (ec) return ParseFailure(input, field, ec, n);
  if (n != input.size() || !parser->done()) {
    return InvalidField(field, "unexpected data after the JSON value at offset " +
                                   std::to_string(n));
  }
  return Status::OK();
}

Status FromException(std::string_view field) {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    return Status::Unavailable(std::string(field) + ": out of memory");
  } catch (...) {
    return Status::Internal(std::string(field) + ": JSON parser failed");
  }
}

// Members every basic_parser handler must declare, under the names Boost
// gives them (hence no kConstant). Our own limits are enforced in the
// handlers, with better messages than Boost's.
// NOLINTBEGIN(readability-identifier-naming)
struct HandlerLimits {
  static constexpr size_t max_array_size = static_cast<size_t>(-1);
  static constexpr size_t max_object_size = static_cast<size_t>(-1);
  static constexpr size_t max_string_size = static_cast<size_t>(-1);
  static constexpr size_t max_key_size = static_cast<size_t>(-1);
};
// NOLINTEND(readability-identifier-naming)

// ------------------------------------------------------------- payloads

// Writes canonical JSON of any value into out(). Failures are recorded in
// error() and reported to Boost through `ec` to stop the parse.
class PayloadHandler : public HandlerLimits {
 public:
  PayloadHandler(std::string_view field, size_t max_bytes, size_t max_depth,
                 size_t input_size)
      : field_(field), max_bytes_(max_bytes), max_depth_(max_depth) {
    out_.reserve(std::min(input_size, max_bytes_) + 1);
  }

  const Status& error() const { return error_; }
  std::string& out() { return out_; }

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code& ec) { return Open(true, ec); }
  bool on_object_end(size_t, json::error_code& ec) { return Close(ec); }
  bool on_array_begin(json::error_code& ec) { return Open(false, ec); }
  bool on_array_end(size_t, json::error_code& ec) { return Close(ec); }

  bool on_key_part(json::string_view s, size_t, json::error_code& ec) {
    return KeyPart(s, ec);
  }
  bool on_key(json::string_view s, size_t, json::error_code& ec) {
    if (!KeyPart(s, ec)) return false;
    in_key_ = false;
    const size_t begin = string_begin_ + 1;
    if (!CheckStringUtf8(begin, ec)) return false;
    stack_[depth_ - 1].keys.push_back(KeySpan{begin, out_.size() - begin});
    out_.append("\":");
    return CheckSize(ec);
  }
  bool on_string_part(json::string_view s, size_t, json::error_code& ec) {
    return StringPart(s, ec);
  }
  bool on_string(json::string_view s, size_t, json::error_code& ec) {
    if (!StringPart(s, ec)) return false;
    in_string_ = false;
    if (!CheckStringUtf8(string_begin_ + 1, ec)) return false;
    out_.push_back('"');
    return CheckSize(ec);
  }

  bool on_number_part(json::string_view s, json::error_code&) {
    number_.append(s.data(), s.size());
    return true;
  }
  bool on_int64(int64_t, json::string_view s, json::error_code& ec) {
    return Number(s, true, ec);
  }
  bool on_uint64(uint64_t, json::string_view s, json::error_code& ec) {
    return Number(s, true, ec);
  }
  bool on_double(double, json::string_view s, json::error_code& ec) {
    return Number(s, false, ec);
  }
  bool on_bool(bool b, json::error_code& ec) {
    BeginValue();
    out_.append(b ? "true" : "false");
    return CheckSize(ec);
  }
  bool on_null(json::error_code& ec) {
    BeginValue();
    out_.append("null");
    return CheckSize(ec);
  }
  // Comments are disabled in the parse options; never called.
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  // A key's escaped bytes in out_ (without quotes). Escaping is injective,
  // so equal spans mean equal keys; storing spans avoids copying keys.
  struct KeySpan {
    size_t begin;
    size_t size;
  };
  struct Level {
    bool is_object = false;
    bool has_items = false;
    std::vector<KeySpan> keys;
  };

  bool Fail(Status status, json::error_code& ec) {
    error_ = std::move(status);
    ec = json::error::syntax;
    return false;
  }

  bool CheckSize(json::error_code& ec) {
    if (out_.size() <= max_bytes_) return true;
    return Fail(FieldTooLarge(field_,
                              "canonical size exceeds " +
                                  std::to_string(max_bytes_) + " bytes",
                              static_cast<int64_t>(max_bytes_)),
                ec);
  }

  // Emits the separator an array element needs. Object members get theirs
  // from their key.
  void BeginValue() {
    if (depth_ == 0) return;
    Level& top = stack_[depth_ - 1];
    if (top.is_object) return;
    if (top.has_items) out_.push_back(',');
    top.has_items = true;
  }

  bool Open(bool is_object, json::error_code& ec) {
    BeginValue();
    if (depth_ >= max_depth_) {
      return Fail(InvalidField(field_, "nesting depth exceeds " +
                                           std::to_string(max_depth_)),
                  ec);
    }
    if (stack_.size() == depth_) stack_.emplace_back();
    Level& level = stack_[depth_++];
    level.is_object = is_object;
    level.has_items = false;
    level.keys.clear();
    out_.push_back(is_object ? '{' : '[');
    return CheckSize(ec);
  }

  bool Close(json::error_code& ec) {
    Level& level = stack_[depth_ - 1];
    if (level.is_object && level.keys.size() > 1 &&
        !CheckDuplicateKeys(&level.keys, ec)) {
      return false;
    }
    --depth_;
    out_.push_back(level.is_object ? '}' : ']');
    return CheckSize(ec);
  }

  // Sorting at the end of the object costs O(k log k) with no per-key
  // allocation; a hash set per object would be cleared per object, which
  // is quadratic for many small objects after one large one.
  bool CheckDuplicateKeys(std::vector<KeySpan>* keys, json::error_code& ec) {
    auto view = [this](const KeySpan& k) {
      return std::string_view(out_.data() + k.begin, k.size);
    };
    std::sort(keys->begin(), keys->end(),
              [&view](const KeySpan& a, const KeySpan& b) {
                return view(a) < view(b);
              });
    for (size_t i = 1; i < keys->size(); ++i) {
      if (view((*keys)[i]) == view((*keys)[i - 1])) {
        return Fail(InvalidField(field_, "duplicate key \"" +
                                             QuoteForMessage(view((*keys)[i])) +
                                             "\""),
                    ec);
      }
    }
    return true;
  }

  bool KeyPart(json::string_view s, json::error_code& ec) {
    if (!in_key_) {
      in_key_ = true;
      Level& top = stack_[depth_ - 1];
      if (top.has_items) out_.push_back(',');
      top.has_items = true;
      string_begin_ = out_.size();
      out_.push_back('"');
    }
    AppendEscaped(std::string_view(s.data(), s.size()));
    return CheckSize(ec);
  }

  bool StringPart(json::string_view s, json::error_code& ec) {
    if (!in_string_) {
      in_string_ = true;
      BeginValue();
      string_begin_ = out_.size();
      out_.push_back('"');
    }
    AppendEscaped(std::string_view(s.data(), s.size()));
    return CheckSize(ec);
  }

  // Boost validates UTF-8 already; this re-check of the finished string
  // (escaping only touches ASCII, so the escaped bytes are valid exactly
  // when the raw ones are) keeps the guarantee independent of Boost.
  bool CheckStringUtf8(size_t begin, json::error_code& ec) {
    if (FindInvalidUtf8(static_cast<std::string_view>(out_).substr(begin)) ==
        std::string_view::npos) {
      return true;
    }
    return Fail(InvalidField(field_, "invalid UTF-8 in a string"), ec);
  }

  bool Number(json::string_view s, bool integer, json::error_code& ec) {
    number_.append(s.data(), s.size());
    BeginValue();
    if (!AppendCanonicalNumber(number_, integer, &out_)) {
      return Fail(InvalidField(field_, "number " + QuoteForMessage(number_) +
                                           " does not fit a double"),
                  ec);
    }
    number_.clear();
    return CheckSize(ec);
  }

  void AppendEscaped(std::string_view s) { AppendJsonStringBody(s, &out_); }

  const std::string_view field_;
  const size_t max_bytes_;
  const size_t max_depth_;
  Status error_;
  std::string out_;
  std::vector<Level> stack_;  // stack_[0, depth_) are the open containers
  size_t depth_ = 0;
  std::string number_;  // a number token split across parts
  bool in_key_ = false;
  bool in_string_ = false;
  size_t string_begin_ = 0;  // offset in out_ of the open quote
};

// ------------------------------------------------------ flat objects

// Collects the members of one flat object (metadata maps).
class FlatObjectHandler : public HandlerLimits {
 public:
  FlatObjectHandler(std::string_view field, const FlatObjectRules* rules)
      : field_(field), rules_(rules) {}

  const Status& error() const { return error_; }
  std::vector<FlatMember>& members() { return members_; }

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code& ec) {
    if (depth_ > 0) return Fail(ValueError("nested objects are not allowed"), ec);
    depth_ = 1;
    return true;
  }
  bool on_object_end(size_t, json::error_code&) {
    depth_ = 0;
    return true;
  }
  bool on_array_begin(json::error_code& ec) {
    if (depth_ == 0) return NotAnObject(ec);
    return Fail(ValueError("arrays are not allowed"), ec);
  }
  bool on_array_end(size_t, json::error_code&) { return true; }

  bool on_key_part(json::string_view s, size_t, json::error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, size_t, json::error_code& ec) {
    key_.append(s.data(), s.size());
    if (FindInvalidUtf8(key_) != std::string_view::npos) {
      return Fail(InvalidField(field_, "invalid UTF-8 in a key"), ec);
    }
    if (members_.size() >= rules_->max_members) {
      return Fail(InvalidField(field_, "more than " +
                                           std::to_string(rules_->max_members) +
                                           " keys"),
                  ec);
    }
    for (const FlatMember& m : members_) {
      if (m.key == key_) {
        return Fail(InvalidField(MemberField(field_, key_), "duplicate key"), ec);
      }
    }
    if (rules_->check_key) {
      Status s = rules_->check_key(key_);
      if (!s.ok()) return Fail(std::move(s), ec);
    }
    members_.push_back(FlatMember{std::move(key_), std::string()});
    key_.clear();
    return true;
  }
  bool on_string_part(json::string_view s, size_t, json::error_code& ec) {
    return StringPart(s, ec);
  }
  bool on_string(json::string_view s, size_t, json::error_code& ec) {
    if (!StringPart(s, ec) || !Value(ec)) return false;
    if (FindInvalidUtf8(string_) != std::string_view::npos) {
      return Fail(ValueError("invalid UTF-8"), ec);
    }
    AppendJsonString(string_, &members_.back().value);
    string_.clear();
    return true;
  }
  bool on_number_part(json::string_view s, json::error_code&) {
    number_.append(s.data(), s.size());
    return true;
  }
  bool on_int64(int64_t, json::string_view s, json::error_code& ec) {
    return Number(s, true, ec);
  }
  bool on_uint64(uint64_t, json::string_view s, json::error_code& ec) {
    return Number(s, true, ec);
  }
  bool on_double(double, json::string_view s, json::error_code& ec) {
    return Number(s, false, ec);
  }
  bool on_bool(bool b, json::error_code& ec) {
    if (!Value(ec)) return false;
    members_.back().value = b ? "true" : "false";
    return true;
  }
  bool on_null(json::error_code& ec) {
    if (!Value(ec)) return false;
    members_.back().value = "null";
    return true;
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  bool Fail(Status status, json::error_code& ec) {
    error_ = std::move(status);
    ec = json::error::syntax;
    return false;
  }
  bool NotAnObject(json::error_code& ec) {
    return Fail(InvalidField(field_, "must be a JSON object"), ec);
  }
  // A failure about the value of the member being read.
  Status ValueError(std::string_view rule) const {
    return InvalidField(MemberField(field_, members_.back().key), rule);
  }
  // Scalars are only allowed as member values.
  bool Value(json::error_code& ec) {
    if (depth_ == 0) return NotAnObject(ec);
    return true;
  }
  bool StringPart(json::string_view s, json::error_code& ec) {
    string_.append(s.data(), s.size());
    if (depth_ > 0 && string_.size() > rules_->max_string_bytes) {
      return Fail(ValueError("string value exceeds " +
                             std::to_string(rules_->max_string_bytes) +
                             " bytes"),
                  ec);
    }
    return true;
  }
  bool Number(json::string_view s, bool integer, json::error_code& ec) {
    number_.append(s.data(), s.size());
    if (!Value(ec)) return false;
    if (!AppendCanonicalNumber(number_, integer, &members_.back().value)) {
      return Fail(ValueError("number does not fit a double"), ec);
    }
    number_.clear();
    return true;
  }

  const std::string_view field_;
  const FlatObjectRules* const rules_;
  Status error_;
  std::vector<FlatMember> members_;
  int depth_ = 0;
  std::string key_;
  std::string string_;
  std::string number_;
};

}  // namespace

Result<std::string> CanonicalizePayload(std::string_view json,
                                        const Limits& limits,
                                        std::string_view field) {
  try {
    std::string out;
    if (TryCanonicalizeFast(json, limits.max_payload_bytes,
                            limits.max_json_depth, &out)) {
      return out;
    }
  } catch (...) {
    return FromException(field);
  }
  return CanonicalizePayloadWithParser(json, limits, field);
}

Result<std::string> CanonicalizePayloadWithParser(std::string_view json,
                                                  const Limits& limits,
                                                  std::string_view field) {
  try {
    json::parse_options options;
    // One more than our limit, so our handler sees the first level too
    // deep and reports it in our words rather than Boost's.
    options.max_depth = static_cast<size_t>(limits.max_json_depth) + 1;
    json::basic_parser<PayloadHandler> parser(options, field,
                                              limits.max_payload_bytes,
                                              limits.max_json_depth,
                                              json.size());
    ACPSTORE_RETURN_IF_ERROR(Drive(&parser, json, field));
    return std::move(parser.handler().out());
  } catch (...) {
    return FromException(field);
  }
}

Result<std::vector<FlatMember>> ParseFlatObject(std::string_view json,
                                                std::string_view field,
                                                const FlatObjectRules& rules) {
  try {
    json::parse_options options;
    options.max_depth = 2;  // the object and one nested value to refuse
    json::basic_parser<FlatObjectHandler> parser(options, field, &rules);
    ACPSTORE_RETURN_IF_ERROR(Drive(&parser, json, field));
    return std::move(parser.handler().members());
  } catch (...) {
    return FromException(field);
  }
}

}  // namespace acpstore::record
