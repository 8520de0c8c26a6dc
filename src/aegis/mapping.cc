// Aegis record -> acpstore record, with repairs. See mapping.h; the field
// list: docs/aegis_format.md.
//
// Member values arrive as compact JSON text rebuilt by the reader, so
// strings use only the escapes record::AppendJsonStringBody writes and
// numbers are the tokens of the file. The common case (a record that is
// already valid) costs one validation, as for a live request; the repair
// paths run only for records that fail it.
//
// Thread-safety: pure functions.

#include "aegis/mapping.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <variant>

#include "base/time_format.h"
#include "base/uuid.h"
#include "record/canonical_json.h"
#include "record/field_error.h"
#include "record/utf8.h"
#include "record/validate.h"

namespace acpstore::aegis {

std::string_view RepairKindName(RepairKind kind) {
  switch (kind) {
    case RepairKind::kLoneSurrogate:
      return "lone surrogate escape replaced by U+FFFD";
    case RepairKind::kPayloadOverLimit:
      return "payload over the live limits, imported as it is";
    case RepairKind::kPlaceholder:
      return "event kept as a placeholder";
    case RepairKind::kHoleFilled:
      return "missing seq filled with a placeholder";
    case RepairKind::kLastEventSeqNotKept:
      return "lastEventSeq above the session's last event not kept";
    case RepairKind::kRescoped:
      return "record moved into its session's scope";
    case RepairKind::kMetadataKeyDropped:
      return "metadata key dropped";
    case RepairKind::kMetadataValueCut:
      return "metadata value cut";
    case RepairKind::kTextCut:
      return "text cut to its limit";
    case RepairKind::kFieldDropped:
      return "invalid optional field dropped";
    case RepairKind::kDefaulted:
      return "missing field filled in";
    case RepairKind::kDateReplaced:
      return "unparseable date replaced";
    case RepairKind::kTimeClamped:
      return "time outside 1970-9999 set to the nearest one kept";
    case RepairKind::kValueReplaced:
      return "invalid value replaced";
    case RepairKind::kIdGenerated:
      return "missing id generated";
    case RepairKind::kWarningsTrimmed:
      return "validationWarnings trimmed";
    case RepairKind::kPermissionMode:
      return "permissionMode kept in backendMetadata";
    case RepairKind::kInterventionDone:
      return "completed intervention recorded as paused";
    case RepairKind::kIdempotencyCleared:
      return "repeated idempotencyKey cleared on the older record";
    case RepairKind::kPauseIdRenamed:
      return "repeated pauseId renamed";
    case RepairKind::kSecondActivePause:
      return "older active pause resumed";
    case RepairKind::kStatusReconciled:
      return "session status reconciled with its latest pause";
  }
  return "?";
}

std::string PlaceholderPayload(std::string_view reason) {
  std::string out = R"({"acpstoreImport":{"placeholder":true,"reason":)";
  record::AppendJsonString(reason, &out);
  out += "}}";
  return out;
}

namespace {

using record::InvalidField;

constexpr TimestampMs kMaxTimestamp = 253402300799999;  // 9999-12-31

std::string_view TypeName(std::string_view v) {
  if (v.empty()) return "nothing";
  switch (v[0]) {
    case '"':
      return "a string";
    case '{':
      return "an object";
    case '[':
      return "an array";
    case 't':
    case 'f':
      return "a boolean";
    case 'n':
      return "null";
    default:
      return "a number";
  }
}

std::string WithCommas(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string FieldOf(const Status& s) {
  const StatusDetail* d = s.Detail("field");
  if (d == nullptr) return std::string();
  const std::string* f = std::get_if<std::string>(&d->value);
  return f != nullptr ? *f : std::string();
}

// The rule of a field error without its leading "<field>: ".
std::string RuleOf(const Status& s) {
  std::string m(s.message());
  const std::string field = FieldOf(s);
  if (!field.empty() && m.rfind(field + ": ", 0) == 0) {
    return m.substr(field.size() + 2);
  }
  return m;
}

// Reads the members of one record. A time outside what acpstore keeps is
// clamped into it and the repair listed in `clamped`.
class Fields {
 public:
  Fields(const RawRecord& r, Repairs* clamped) : r_(r), clamped_(clamped) {}

  // The member's text; std::nullopt when absent or null (Aegis omits
  // undefined fields; a null is read as absent too).
  std::optional<std::string_view> Raw(std::string_view key) const {
    std::optional<std::string_view> v = r_.Get(key);
    if (!v || *v == "null") return std::nullopt;
    return v;
  }

  Result<std::optional<std::string>> OptString(std::string_view key) const {
    std::optional<std::string_view> v = Raw(key);
    if (!v) return std::optional<std::string>();
    ACPSTORE_ASSIGN_OR_RETURN(std::string s, AsString(*v, key));
    return std::optional<std::string>(std::move(s));
  }
  Result<std::string> String(std::string_view key) const {
    ACPSTORE_ASSIGN_OR_RETURN(std::optional<std::string> v, OptString(key));
    if (!v) return InvalidField(key, "missing");
    return std::move(*v);
  }
  static Result<std::string> AsString(std::string_view v,
                                      std::string_view key) {
    if (v.size() < 2 || v.front() != '"') {
      return InvalidField(key,
                          "expected a string, got " + std::string(TypeName(v)));
    }
    std::string_view body = v.substr(1, v.size() - 2);
    if (body.find('\\') == std::string_view::npos) return std::string(body);
    return record::UnescapeJsonStringBody(body, key);
  }

  // An integer; doubles with no fraction count ("3.0", "1e3").
  static Result<int64_t> AsInteger(std::string_view v, std::string_view key) {
    if (v.empty() || !(v[0] == '-' || (v[0] >= '0' && v[0] <= '9'))) {
      return InvalidField(key,
                          "expected a number, got " + std::string(TypeName(v)));
    }
    int64_t n = 0;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec == std::errc() && ptr == v.data() + v.size()) return n;
    const std::string token(v);
    const double d = std::strtod(token.c_str(), nullptr);
    if (!std::isfinite(d)) {
      return InvalidField(key, "not a finite number (" + token + ")");
    }
    if (d != std::floor(d) || std::fabs(d) > 9.007199254740992e15) {
      return InvalidField(key, "not a whole number (" + token + ")");
    }
    return static_cast<int64_t>(d);
  }

  // Aegis writes session times as epoch milliseconds and every other time
  // as ISO-8601; each is read in either form. A time is a time whatever
  // its year (JavaScript's Date reaches 271821 BC and 275760 AD; a client
  // may have sent Go's zero time, 0001-01-01): one outside 1970-9999
  // (SPEC §2) is set to the nearest time acpstore keeps, and the record
  // kept. It was "not an ISO-8601 time", which made an event a
  // placeholder (its payload lost) and skipped a session with all that
  // depends on it.
  Result<std::optional<TimestampMs>> OptTime(std::string_view key) const {
    std::optional<std::string_view> v = Raw(key);
    if (!v) return std::optional<TimestampMs>();
    int64_t ms = 0;
    std::string as_written;
    if ((*v)[0] == '"') {
      ACPSTORE_ASSIGN_OR_RETURN(std::string text, AsString(*v, key));
      std::optional<int64_t> parsed = base::ParseIso8601AnyYear(text);
      if (!parsed) {
        return InvalidField(key, "not an ISO-8601 time: \"" +
                                     record::QuoteForMessage(text) + "\"");
      }
      ms = *parsed;
      as_written = "\"" + record::QuoteForMessage(text) + "\"";
    } else {
      Result<int64_t> n = AsInteger(*v, key);
      if (!n.ok()) return InvalidField(key, "not a time: " + RuleOf(n.error()));
      ms = *n;
      as_written = std::to_string(ms) + " (epoch ms)";
    }
    if (ms < 0 || ms > kMaxTimestamp) {
      const bool before = ms < 0;
      const TimestampMs kept = before ? 0 : kMaxTimestamp;
      if (clamped_ != nullptr) {
        clamped_->push_back(
            {RepairKind::kTimeClamped, std::string(key),
             as_written + (before ? " is before " : " is after ") +
                 base::FormatIso8601(kept) + ", the " +
                 (before ? "earliest" : "latest") +
                 " time acpstore keeps; set to it"});
      }
      ms = kept;
    }
    return std::optional<TimestampMs>(ms);
  }
  // The enumerator the string member `key` names, read by one of
  // records.h's Parse* functions; `what` names the kind in the refusal
  // (unknown status "waiting").
  template <typename Enum>
  Result<Enum> OneOf(std::string_view key, std::string_view what,
                     std::optional<Enum> (*parse)(std::string_view)) const {
    ACPSTORE_ASSIGN_OR_RETURN(std::string text, String(key));
    std::optional<Enum> value = parse(text);
    if (!value) {
      return InvalidField(key, "unknown " + std::string(what) + " \"" +
                                   record::QuoteForMessage(text) + "\"");
    }
    return *value;
  }
  Result<TimestampMs> Time(std::string_view key) const {
    ACPSTORE_ASSIGN_OR_RETURN(std::optional<TimestampMs> t, OptTime(key));
    if (!t) return InvalidField(key, "missing");
    return *t;
  }

 private:
  const RawRecord& r_;
  Repairs* const clamped_;  // may be null
};

// Collects the repairs of one record.
class Repairer {
 public:
  Repairer(const RawRecord& r, const MapOptions& o, Repairs* out,
           std::vector<std::string>* unknown)
      : r_(r), f_(r, out), o_(o), out_(out), unknown_(unknown) {}

  const Fields& f() const { return f_; }
  const Limits& limits() const { return o_.limits; }
  const MapOptions& options() const { return o_; }

  void Add(RepairKind kind, std::string field, std::string what) {
    out_->push_back(Repair{kind, std::move(field), std::move(what)});
  }

  // A required time that `read` found absent (`missing` says how) or
  // unparseable, replaced as `outcome` says: reported once, as what it was
  // (an unparseable one is not missing).
  void TimeReplaced(std::string field,
                    const Result<std::optional<TimestampMs>>& read,
                    std::string_view missing, std::string_view outcome) {
    Add(read.ok() ? RepairKind::kDefaulted : RepairKind::kDateReplaced,
        std::move(field),
        (read.ok() ? std::string(missing) : RuleOf(read.error())) + "; " +
            std::string(outcome));
  }

  // A member the reader left out for its size (reader.h): reported; the
  // payload has its own rule (a placeholder).
  void Elided() {
    if (r_.elided && r_.elided->key != "payload") {
      Add(RepairKind::kFieldDropped, r_.elided->key,
          "over " + std::to_string(r_.elided->bytes) +
              " bytes, too large to import; dropped");
    }
  }

  // The record's surrogate rewrites (reader.h), one repair per member.
  void Surrogates() {
    std::string last;
    size_t count = 0;
    auto flush = [&] {
      if (count == 0) return;
      Add(RepairKind::kLoneSurrogate, last,
          count == 1 ? "a lone UTF-16 surrogate escape became U+FFFD"
                     : std::to_string(count) +
                           " lone UTF-16 surrogate escapes became U+FFFD");
    };
    for (const std::string& key : r_.surrogates) {
      if (count > 0 && key != last) {
        flush();
        count = 0;
      }
      last = key;
      ++count;
    }
    flush();
  }

  void Unknown(std::initializer_list<std::string_view> known) {
    if (unknown_ == nullptr) return;  // counted by an earlier pass
    for (const RawRecord::Member& m : r_.members) {
      bool found = false;
      for (std::string_view k : known) found = found || m.key == k;
      if (!found) unknown_->push_back(m.key);
    }
  }

  // A required id: refused when it cannot be used as it is.
  Result<std::string> RequiredId(std::string_view key) {
    ACPSTORE_ASSIGN_OR_RETURN(std::string id, f_.String(key));
    ACPSTORE_RETURN_IF_ERROR(
        record::CheckId(id, key, o_.limits.max_id_bytes));
    return id;
  }

  // The scope of a record that belongs to a session: "" when missing or
  // not an id, and then taken from the session (import_check.h).
  std::string ScopeId(std::string_view key) {
    Result<std::optional<std::string>> v = f_.OptString(key);
    if (!v.ok() || !*v ||
        !record::CheckId(**v, key, o_.limits.max_id_bytes).ok()) {
      return std::string();
    }
    return std::move(**v);
  }

  // An optional id: dropped (and reported) when it is not a valid id.
  std::optional<std::string> OptionalId(std::string_view key) {
    Result<std::optional<std::string>> v = f_.OptString(key);
    if (!v.ok()) {
      Add(RepairKind::kFieldDropped, std::string(key),
          RuleOf(v.error()) + "; dropped");
      return std::nullopt;
    }
    if (*v) {
      Status s = record::CheckId(**v, key, o_.limits.max_id_bytes);
      if (!s.ok()) {
        Add(RepairKind::kFieldDropped, std::string(key),
            RuleOf(s) + "; dropped");
        return std::nullopt;
      }
    }
    return std::move(*v);
  }

  // An id acpstore needs where Aegis always writes one: generated when it
  // is absent (kIdGenerated, "<missing>; generated <uuid>") or present but
  // not a valid id (kValueReplaced: it was there, so it is not missing).
  std::string IdOrGenerated(std::string_view key, std::string_view missing) {
    Result<std::optional<std::string>> v = f_.OptString(key);
    Status invalid = v.status();
    if (v.ok() && *v) {
      invalid = record::CheckId(**v, key, o_.limits.max_id_bytes);
      if (invalid.ok()) return std::move(**v);
    }
    std::string id = base::NewUuidV4();
    if (invalid.ok()) {
      Add(RepairKind::kIdGenerated, std::string(key),
          std::string(missing) + "; generated " + id);
    } else {
      Add(RepairKind::kValueReplaced, std::string(key),
          RuleOf(invalid) + "; generated " + id);
    }
    return id;
  }

  // A "who" field acpstore keeps as an id (requestedBy, interventionBy):
  // control characters removed and cut to the id limit, as Aegis allows
  // any text there.
  std::optional<std::string> Who(std::string_view key, bool required) {
    Result<std::optional<std::string>> v = f_.OptString(key);
    std::optional<std::string> who = v.ok() ? std::move(*v) : std::nullopt;
    if (who && record::CheckId(*who, key, o_.limits.max_id_bytes).ok()) {
      return who;
    }
    std::string clean;
    if (who) {
      for (char c : *who) {
        const auto b = static_cast<unsigned char>(c);
        if (b >= 0x20 && b != 0x7F) clean.push_back(c);
      }
      // C1 controls are two-byte sequences C2 80..C2 9F.
      std::string no_c1;
      for (size_t i = 0; i < clean.size(); ++i) {
        if (static_cast<unsigned char>(clean[i]) == 0xC2 &&
            i + 1 < clean.size() &&
            static_cast<unsigned char>(clean[i + 1]) <= 0x9F) {
          ++i;
          continue;
        }
        no_c1.push_back(clean[i]);
      }
      clean = std::string(
          record::TruncateUtf8(no_c1, o_.limits.max_id_bytes));
    }
    if (clean.empty()) {
      if (!required) {
        if (who || !v.ok()) {
          Add(RepairKind::kFieldDropped, std::string(key),
              "not a valid id; dropped");
        }
        return std::nullopt;
      }
      clean = "unknown";
      // Only an absent one is missing: a value that is not a string, or
      // holds no printable character, was there and is replaced.
      if (!v.ok()) {
        Add(RepairKind::kValueReplaced, std::string(key),
            RuleOf(v.error()) + "; set to \"unknown\"");
      } else if (who) {
        Add(RepairKind::kValueReplaced, std::string(key),
            "holds no printable characters; set to \"unknown\"");
      } else {
        Add(RepairKind::kDefaulted, std::string(key),
            "missing; set to \"unknown\"");
      }
      return clean;
    }
    Add(RepairKind::kTextCut, std::string(key),
        "control characters removed and cut to " +
            std::to_string(o_.limits.max_id_bytes) + " bytes");
    return clean;
  }

  // A free text counted in UTF-16 units (pause reason, guidance).
  std::string Text(std::string_view key, std::string text, size_t max_units) {
    const size_t units = record::Utf16Length(text);
    if (units <= max_units) return text;
    Add(RepairKind::kTextCut, std::string(key),
        std::to_string(units) + " UTF-16 code units, over " +
            std::to_string(max_units) + "; cut");
    return std::string(record::TruncateUtf16(text, max_units));
  }

  // A time the record does not keep: reported (as dropped) only when it is
  // not a time; one outside 1970-9999 is not clamped, so not reported.
  void UnkeptTime(std::string_view key) {
    Result<std::optional<TimestampMs>> t = Fields(r_, nullptr).OptTime(key);
    if (!t.ok()) {
      Add(RepairKind::kFieldDropped, std::string(key),
          RuleOf(t.error()) + "; dropped");
    }
  }

  // An optional time: dropped when it is not one.
  std::optional<TimestampMs> OptionalTime(std::string_view key) {
    Result<std::optional<TimestampMs>> t = f_.OptTime(key);
    if (t.ok()) return *t;
    Add(RepairKind::kFieldDropped, std::string(key),
        RuleOf(t.error()) + "; dropped");
    return std::nullopt;
  }

  // A metadata map (SPEC §2.6), canonical. Keys acpstore refuses are
  // dropped, long string values cut, keys beyond the count limit dropped;
  // the map stays.
  std::optional<std::string> Metadata(std::string_view key,
                                      std::optional<std::string_view> extra_key
                                      = std::nullopt,
                                      std::string_view extra_value = {}) {
    std::optional<std::string_view> raw = f_.Raw(key);
    if (!raw && !extra_key) return std::nullopt;
    std::string text = raw ? std::string(*raw) : std::string("{}");
    if (!extra_key) {
      Result<std::string> fast =
          record::CanonicalizeMetadata(text, o_.limits, key);
      if (fast.ok()) return std::move(*fast);
    }
    boost::json::error_code ec;
    boost::json::value v = boost::json::parse(text, ec);
    if (ec || !v.is_object()) {
      Add(RepairKind::kFieldDropped, std::string(key),
          "expected an object, got " + std::string(TypeName(text)) +
              "; dropped");
      return std::nullopt;
    }
    boost::json::object in;
    // The extra key (permissionMode) goes first, so the key limit never
    // drops it; it replaces a key of the same name in the map.
    if (extra_key) in[*extra_key] = boost::json::string(extra_value);
    for (auto& [k, value] : v.as_object()) {
      if (!extra_key || std::string_view(k.data(), k.size()) != *extra_key) {
        in[k] = std::move(value);
      }
    }
    boost::json::object kept;
    const Limits& limits = o_.limits;
    for (auto& [k, value] : in) {
      std::string member(key);
      AppendJsonPathKey(std::string_view(k.data(), k.size()), &member);
      if (kept.size() >= limits.max_metadata_keys) {
        Add(RepairKind::kMetadataKeyDropped, member,
            "more than " + std::to_string(limits.max_metadata_keys) +
                " keys; dropped");
        continue;
      }
      if (value.is_string() &&
          value.as_string().size() > limits.max_metadata_value_bytes) {
        const boost::json::string& s = value.as_string();
        value = boost::json::string(record::TruncateUtf8(
            std::string_view(s.data(), s.size()),
            limits.max_metadata_value_bytes));
        Add(RepairKind::kMetadataValueCut, member,
            "value over " + std::to_string(limits.max_metadata_value_bytes) +
                " bytes; cut");
      }
      // The same rules as a live request, one member at a time.
      boost::json::object one;
      one[k] = value;
      Result<std::string> ok = record::CanonicalizeMetadata(
          boost::json::serialize(one), limits, key);
      if (!ok.ok()) {
        Add(RepairKind::kMetadataKeyDropped, member,
            RuleOf(ok.error()) + "; dropped");
        continue;
      }
      kept[k] = std::move(value);
    }
    Result<std::string> out = record::CanonicalizeMetadata(
        boost::json::serialize(kept), limits, key);
    if (!out.ok()) {
      Add(RepairKind::kFieldDropped, std::string(key),
          RuleOf(out.error()) + "; dropped");
      return std::nullopt;
    }
    return std::move(*out);
  }

  const RawRecord& record() const { return r_; }

 private:
  const RawRecord& r_;
  const Fields f_;
  const MapOptions& o_;
  Repairs* const out_;
  std::vector<std::string>* const unknown_;
};

Status CheckRecord(const RawRecord& r) {
  if (r.bad_group) {
    return Status::InvalidArgument("expected an array of events");
  }
  if (r.too_large) {
    return Status::InvalidArgument(
        "the record is too large to read, even without its largest member");
  }
  if (!r.is_object) return Status::InvalidArgument("not an object");
  if (r.duplicate_key) {
    return InvalidField(*r.duplicate_key, "appears twice in the record");
  }
  return Status::OK();
}

// The record's id: its field, else the member name it was stored under.
Result<std::string> IdOf(Repairer& rp, std::string_view key) {
  const RawRecord& r = rp.record();
  ACPSTORE_ASSIGN_OR_RETURN(std::optional<std::string> id,
                            rp.f().OptString(key));
  if (!id && r.map_key && r.collection != Collection::kEvents) id = r.map_key;
  if (!id) return InvalidField(key, "missing");
  if (r.map_key && r.collection != Collection::kEvents && *id != *r.map_key) {
    return InvalidField(key, "differs from the key it is stored under");
  }
  ACPSTORE_RETURN_IF_ERROR(
      record::CheckId(*id, key, rp.limits().max_id_bytes));
  return std::move(*id);
}

// validationWarnings: an array of {code, message}; Aegis sets no limit, so
// entries are cut to the text limit and the list to its last 50.
std::vector<ValidationWarning> Warnings(Repairer& rp) {
  constexpr std::string_view kField = "validationWarnings";
  std::vector<ValidationWarning> out;
  std::optional<std::string_view> raw = rp.f().Raw(kField);
  if (!raw) return out;
  boost::json::error_code ec;
  boost::json::value v = boost::json::parse(*raw, ec);
  if (ec || !v.is_array()) {
    rp.Add(RepairKind::kFieldDropped, std::string(kField),
           "expected an array, got " + std::string(TypeName(*raw)) +
               "; dropped");
    return out;
  }
  const Limits& limits = rp.limits();
  auto text = [&](const boost::json::value& s, const std::string& field) {
    if (!s.is_string()) return std::string();
    std::string t(s.as_string().data(), s.as_string().size());
    if (t.size() > limits.max_warning_bytes) {
      rp.Add(RepairKind::kTextCut, field,
             std::to_string(t.size()) + " bytes, over " +
                 std::to_string(limits.max_warning_bytes) + "; cut");
      t = std::string(record::TruncateUtf8(t, limits.max_warning_bytes));
    }
    return t;
  };
  const boost::json::array& items = v.as_array();
  const size_t first = items.size() > limits.max_validation_warnings
                           ? items.size() - limits.max_validation_warnings
                           : 0;
  if (first > 0) {
    rp.Add(RepairKind::kWarningsTrimmed, std::string(kField),
           std::to_string(items.size()) + " entries, over " +
               std::to_string(limits.max_validation_warnings) +
               "; the last " + std::to_string(limits.max_validation_warnings) +
               " kept");
  }
  for (size_t i = first; i < items.size(); ++i) {
    const std::string item = record::IndexField(kField, i);
    const boost::json::object* o = items[i].if_object();
    if (o == nullptr || o->find("code") == o->end() ||
        !o->at("code").is_string()) {
      rp.Add(RepairKind::kFieldDropped, item,
             "not an object with a string code; dropped");
      continue;
    }
    ValidationWarning w;
    w.code = text(o->at("code"), record::JoinField(item, "code"));
    if (const auto it = o->find("message"); it != o->end()) {
      w.message = text(it->value(), record::JoinField(item, "message"));
    }
    out.push_back(std::move(w));
  }
  return out;
}

}  // namespace

// ------------------------------------------------------------ sessions

Result<MappedSession> MapSession(const RawRecord& r, const MapOptions& options,
                                 Repairs* repairs,
                                 std::vector<std::string>* unknown) {
  ACPSTORE_RETURN_IF_ERROR(CheckRecord(r));
  Repairer rp(r, options, repairs, unknown);
  const Fields& f = rp.f();
  MappedSession out;
  Session& s = out.session;
  ACPSTORE_ASSIGN_OR_RETURN(s.id, IdOf(rp, "id"));
  ACPSTORE_ASSIGN_OR_RETURN(s.tenant_id, rp.RequiredId("tenantId"));
  ACPSTORE_ASSIGN_OR_RETURN(s.owner_key_id, rp.RequiredId("ownerKeyId"));
  ACPSTORE_ASSIGN_OR_RETURN(s.status,
                            f.OneOf("status", "status", &ParseSessionStatus));
  ACPSTORE_ASSIGN_OR_RETURN(s.created_at, f.Time("createdAt"));
  rp.Unknown({"id", "tenantId", "ownerKeyId", "conversationId", "transcriptId",
              "status", "createdAt", "updatedAt", "closedAt", "failedAt",
              "parentSessionId", "rootSessionId", "correlationId",
              "resumeFromSessionId", "acpAgentSessionId", "claudeSessionId",
              "currentBackendRunId", "backendMetadata", "validationWarnings",
              "permissionMode", "lastEventSeq"});
  rp.Surrogates();
  rp.Elided();

  // acpstore always has these; Aegis always writes them.
  s.conversation_id = rp.IdOrGenerated("conversationId", "missing");
  s.transcript_id = rp.IdOrGenerated("transcriptId", "missing");
  s.parent_session_id = rp.OptionalId("parentSessionId");
  s.root_session_id = rp.OptionalId("rootSessionId");
  s.correlation_id = rp.OptionalId("correlationId");
  s.resume_from_session_id = rp.OptionalId("resumeFromSessionId");
  s.acp_agent_session_id = rp.OptionalId("acpAgentSessionId");
  s.claude_session_id = rp.OptionalId("claudeSessionId");
  s.current_backend_run_id = rp.OptionalId("currentBackendRunId");

  // permissionMode has no field of its own in acpstore: it rides in
  // backendMetadata, and export puts it back.
  Result<std::optional<std::string>> mode = f.OptString("permissionMode");
  if (mode.ok() && *mode) {
    s.backend_metadata = rp.Metadata("backendMetadata", "permissionMode", **mode);
    rp.Add(RepairKind::kPermissionMode, "permissionMode",
           "kept as backendMetadata.permissionMode");
  } else {
    if (!mode.ok()) {
      rp.Add(RepairKind::kFieldDropped, "permissionMode",
             RuleOf(mode.error()) + "; dropped");
    }
    s.backend_metadata = rp.Metadata("backendMetadata");
  }
  s.validation_warnings = Warnings(rp);

  Result<std::optional<TimestampMs>> updated = f.OptTime("updatedAt");
  if (updated.ok() && *updated) {
    s.updated_at = **updated;
  } else {
    s.updated_at = s.created_at;
    // Absent or unparseable: each reported and counted as what it is.
    rp.TimeReplaced("updatedAt", updated, "missing", "set to createdAt");
  }
  s.closed_at = rp.OptionalTime("closedAt");
  s.failed_at = rp.OptionalTime("failedAt");

  if (std::optional<std::string_view> v = f.Raw("lastEventSeq")) {
    Result<int64_t> n = Fields::AsInteger(*v, "lastEventSeq");
    if (n.ok() && *n >= 0) {
      out.last_event_seq = static_cast<EventSeq>(*n);
    } else {
      rp.Add(RepairKind::kFieldDropped, "lastEventSeq",
             "not a seq; dropped");
    }
  }
  return out;
}

// -------------------------------------------------------------- events

namespace {

// Validates and canonicalises the event's stored fields; a payload over the
// live limits is kept when the stored limits allow it. Returns why the
// event cannot be stored as it is, or "" when it can.
std::string FinishEvent(Repairer& rp, NewEvent* check) {
  const MapOptions& o = rp.options();
  for (int attempt = 0; attempt < 8; ++attempt) {
    Status s = record::ValidateNewEvent(check, o.limits);
    if (s.ok()) return "";
    const std::string field = FieldOf(s);
    if (field == "payload") {
      Limits stored = o.limits;
      stored.max_payload_bytes = o.max_stored_payload_bytes;
      stored.max_json_depth = o.max_stored_json_depth;
      Result<std::string> payload =
          record::CanonicalizePayload(check->payload, stored);
      if (!payload.ok()) return RuleOf(payload.error());
      std::string what = RuleOf(s);
      if (payload->size() > o.limits.max_payload_bytes) {
        what = WithCommas(payload->size()) + " bytes, over --max-payload-bytes";
      }
      rp.Add(RepairKind::kPayloadOverLimit, "payload", what + "; imported");
      // Validate the rest with a payload that passes, then put it back.
      check->payload = "null";
      std::string kept = std::move(*payload);
      std::string why = FinishEvent(rp, check);
      check->payload = std::move(kept);
      return why;
    }
    auto drop = [&](std::optional<std::string>* v) {
      rp.Add(RepairKind::kFieldDropped, field, RuleOf(s) + "; dropped");
      v->reset();
    };
    if (field == "clientEventId") {
      drop(&check->client_event_id);
    } else if (field == "backendRunId") {
      drop(&check->backend_run_id);
    } else if (field == "payloadRef") {
      drop(&check->payload_ref);
    } else {
      return std::string(s.message());  // eventType
    }
  }
  return "too many invalid fields";
}

}  // namespace

Result<MappedEvent> MapEvent(const RawRecord& r, const MapOptions& options,
                             Repairs* repairs,
                             std::vector<std::string>* unknown) {
  ACPSTORE_RETURN_IF_ERROR(CheckRecord(r));
  Repairer rp(r, options, repairs, unknown);
  const Fields& f = rp.f();
  MappedEvent out;
  Event& e = out.event;
  // Without a session and a seq there is nothing to keep.
  ACPSTORE_ASSIGN_OR_RETURN(std::optional<std::string> session,
                            f.OptString("sessionId"));
  if (session && r.map_key && *session != *r.map_key) {
    return InvalidField("sessionId",
                        "differs from the session key it is stored under");
  }
  if (!session) session = r.map_key;
  if (!session) return InvalidField("sessionId", "missing");
  ACPSTORE_RETURN_IF_ERROR(
      record::CheckId(*session, "sessionId", options.limits.max_id_bytes));
  e.session_id = std::move(*session);
  std::optional<std::string_view> seq = f.Raw("eventSeq");
  if (!seq) return InvalidField("eventSeq", "missing");
  ACPSTORE_ASSIGN_OR_RETURN(int64_t n, Fields::AsInteger(*seq, "eventSeq"));
  if (n < 1) return InvalidField("eventSeq", "must be at least 1");
  e.seq = static_cast<EventSeq>(n);
  e.tenant_id = rp.ScopeId("tenantId");
  e.owner_key_id = rp.ScopeId("ownerKeyId");
  rp.Unknown({"eventId", "sessionId", "tenantId", "ownerKeyId", "eventSeq",
              "eventType", "occurredAt", "ingestedAt", "payload",
              "backendRunId", "payloadRef", "clientEventId"});
  rp.Surrogates();
  rp.Elided();
  Result<std::optional<std::string>> event_id = f.OptString("eventId");
  if (event_id.ok()) out.event_id = std::move(*event_id);

  // From here on a problem makes a placeholder, never a skip: the seq is
  // kept so the stream has no hole.
  std::string why;
  auto first = [&why](std::string reason) {
    if (why.empty()) why = std::move(reason);
  };
  Result<std::optional<TimestampMs>> occurred = f.OptTime("occurredAt");
  Result<std::optional<TimestampMs>> ingested = f.OptTime("ingestedAt");
  if (!occurred.ok()) first(std::string(occurred.error().message()));
  if (!ingested.ok()) first(std::string(ingested.error().message()));
  // Plain values and flags: GCC 12 misreads optionals here (-Wmaybe-
  // uninitialized).
  const bool has_occ = occurred.ok() && occurred->has_value();
  const bool has_ing = ingested.ok() && ingested->has_value();
  const TimestampMs occ = has_occ ? **occurred : 0;
  const TimestampMs ing = has_ing ? **ingested : 0;
  if (!has_occ && !has_ing) {
    first("occurredAt: missing (and so is ingestedAt)");
    out.times_known = false;
  } else if ((!has_occ && occurred.ok()) || (!has_ing && ingested.ok())) {
    // Only an absent time is "missing": an unparseable one has made the
    // event a placeholder above, and saying it is missing would be false.
    rp.Add(RepairKind::kDefaulted, has_occ ? "ingestedAt" : "occurredAt",
           std::string("missing; set to ") +
               (has_occ ? "occurredAt" : "ingestedAt"));
  }
  e.occurred_at = has_occ ? occ : ing;
  e.ingested_at = has_ing ? ing : e.occurred_at;

  NewEvent check;
  Result<std::string> type = f.String("eventType");
  if (type.ok()) {
    check.event_type = std::move(*type);
  } else {
    first(std::string(type.error().message()));
  }
  if (r.elided && r.elided->key == "payload") {
    first("payload: over " + WithCommas(r.elided->bytes) +
          " bytes, more than the " +
          WithCommas(options.max_stored_payload_bytes) +
          " bytes an import stores");
  }
  std::optional<std::string_view> payload = r.Get("payload");
  if (!payload) first("payload: missing");
  check.payload = payload ? std::string(*payload) : std::string("null");
  check.client_event_id = rp.OptionalId("clientEventId");
  check.backend_run_id = rp.OptionalId("backendRunId");
  check.payload_ref = rp.OptionalId("payloadRef");
  check.occurred_at = e.occurred_at;
  if (why.empty()) {
    std::string reason = FinishEvent(rp, &check);
    if (!reason.empty()) first(std::move(reason));
  }
  if (!why.empty()) {
    // Keep what can be kept of the record around the seq.
    out.placeholder = true;
    if (record::CheckId(check.event_type, "eventType",
                        options.limits.max_event_type_bytes)
            .ok()) {
      e.event_type = std::move(check.event_type);
    } else {
      e.event_type = std::string(kPlaceholderEventType);
    }
    e.payload = PlaceholderPayload(why);
    rp.Add(RepairKind::kPlaceholder, "",
           why + "; kept as a placeholder event with the same seq");
    return out;
  }
  e.event_type = std::move(check.event_type);
  e.payload = std::move(check.payload);
  e.client_event_id = std::move(check.client_event_id);
  e.backend_run_id = std::move(check.backend_run_id);
  e.payload_ref = std::move(check.payload_ref);
  return out;
}

// ------------------------------------------------------------- actions

Result<MappedAction> MapAction(const RawRecord& r, const MapOptions& options,
                               Repairs* repairs,
                               std::vector<std::string>* unknown) {
  ACPSTORE_RETURN_IF_ERROR(CheckRecord(r));
  Repairer rp(r, options, repairs, unknown);
  const Fields& f = rp.f();
  MappedAction out;
  Action& a = out.action;
  ACPSTORE_ASSIGN_OR_RETURN(a.action_id, IdOf(rp, "actionId"));
  ACPSTORE_ASSIGN_OR_RETURN(a.session_id, rp.RequiredId("sessionId"));
  a.tenant_id = rp.ScopeId("tenantId");
  a.owner_key_id = rp.ScopeId("ownerKeyId");
  // Aegis names it actionType; acpstore's exports before this format
  // version wrote type.
  const char* type_key = f.Raw("actionType") || !f.Raw("type") ? "actionType"
                                                                : "type";
  ACPSTORE_ASSIGN_OR_RETURN(a.type,
                            f.OneOf(type_key, "action type", &ParseActionType));
  ACPSTORE_ASSIGN_OR_RETURN(a.status,
                            f.OneOf("status", "status", &ParseActionStatus));
  ACPSTORE_ASSIGN_OR_RETURN(a.created_at, f.Time("createdAt"));
  // A flag and a value rather than an optional: GCC 12 misreads the
  // optional here (-Wmaybe-uninitialized).
  Result<std::optional<TimestampMs>> available_at = f.OptTime("availableAt");
  const bool has_available = available_at.ok() && available_at->has_value();
  const TimestampMs available = has_available ? **available_at : 0;
  rp.Unknown({"actionId", "sessionId", "tenantId", "ownerKeyId", "actionType",
              "type", "status", "createdAt", "availableAt", "updatedAt",
              "leasedUntil", "attemptCount", "metadata", "idempotencyKey",
              "approvalId", "controlRequestId", "resultMetadata",
              "errorMetadata", "completedAt", "failedAt", "cancelledAt"});
  rp.Surrogates();
  rp.Elided();
  if (!has_available) {
    rp.TimeReplaced("availableAt", available_at, "missing",
                    "set to createdAt");
  }
  a.available_at = has_available ? available : a.created_at;
  // Aegis keeps no updatedAt; the latest time the record states stands in.
  a.updated_at = a.created_at;
  a.idempotency_key = rp.OptionalId("idempotencyKey");
  a.approval_id = rp.OptionalId("approvalId");
  a.control_request_id = rp.OptionalId("controlRequestId");
  a.metadata = rp.Metadata("metadata");
  a.result_metadata = rp.Metadata("resultMetadata");
  a.error_metadata = rp.Metadata("errorMetadata");
  a.completed_at = rp.OptionalTime("completedAt");
  a.failed_at = rp.OptionalTime("failedAt");
  a.cancelled_at = rp.OptionalTime("cancelledAt");
  if (a.status == ActionStatus::kLeased) {
    // Required while leased. Absent or not a time, it is already expired:
    // the server's sweeper requeues the action, as Aegis's would. Each is
    // reported once, as what it is (an unparseable one is not missing).
    Result<std::optional<TimestampMs>> leased_until = f.OptTime("leasedUntil");
    if (leased_until.ok() && *leased_until) {
      a.leased_until = **leased_until;
    } else {
      a.leased_until = a.available_at;
      rp.TimeReplaced("leasedUntil", leased_until,
                      "missing on a leased action",
                      "set to availableAt (expired)");
    }
  } else {
    rp.UnkeptTime("leasedUntil");  // not kept; reported if not a time
  }
  // Aegis always writes it: absent is missing, anything but a count was
  // there and is replaced.
  if (std::optional<std::string_view> v = f.Raw("attemptCount")) {
    Result<int64_t> n = Fields::AsInteger(*v, "attemptCount");
    if (n.ok() && *n >= 0 && *n <= 1000000) {
      a.attempt_count = static_cast<uint32_t>(*n);
    } else {
      rp.Add(RepairKind::kValueReplaced, "attemptCount",
             "not a count from 0 to 1000000; set to 0");
    }
  } else {
    rp.Add(RepairKind::kDefaulted, "attemptCount", "missing; set to 0");
  }
  // Not Aegis's (it keeps none); acpstore's own exports before this format
  // version wrote it. An optional time like the others: one that is not a
  // time is dropped and reported (it was ignored without a word: found by
  // a probe), and the latest time the record states stands in.
  if (std::optional<TimestampMs> updated = rp.OptionalTime("updatedAt")) {
    a.updated_at = *updated;
  }
  for (const auto& t2 : {a.completed_at, a.failed_at, a.cancelled_at}) {
    if (t2 && *t2 > a.updated_at) a.updated_at = *t2;
  }
  return out;
}

// -------------------------------------------------------------- pauses

Result<MappedPause> MapPause(const RawRecord& r, const MapOptions& options,
                             Repairs* repairs,
                             std::vector<std::string>* unknown) {
  ACPSTORE_RETURN_IF_ERROR(CheckRecord(r));
  Repairer rp(r, options, repairs, unknown);
  const Fields& f = rp.f();
  const Limits& limits = options.limits;
  MappedPause out;
  Pause& p = out.pause;
  ACPSTORE_ASSIGN_OR_RETURN(p.pause_id, IdOf(rp, "pauseId"));
  ACPSTORE_ASSIGN_OR_RETURN(p.session_id, rp.RequiredId("sessionId"));
  p.tenant_id = rp.ScopeId("tenantId");
  p.owner_key_id = rp.ScopeId("ownerKeyId");
  ACPSTORE_ASSIGN_OR_RETURN(p.status,
                            f.OneOf("status", "status", &ParsePauseStatus));
  ACPSTORE_ASSIGN_OR_RETURN(p.requested_at, f.Time("requestedAt"));
  Result<std::optional<TimestampMs>> updated_at = f.OptTime("updatedAt");
  const bool has_updated = updated_at.ok() && updated_at->has_value();
  const TimestampMs updated = has_updated ? **updated_at : 0;
  rp.Unknown({"pauseId", "sessionId", "tenantId", "ownerKeyId", "status",
              "reason", "requestedBy", "requestedAt", "updatedAt",
              "idempotencyKey", "metadata", "interventionId", "interventionBy",
              "interventionStartedAt", "interventionCompletedBy",
              "interventionCompletedAt", "guidance", "resumeId", "resumedBy",
              "resumedAt", "resumeMetadata"});
  rp.Surrogates();
  rp.Elided();
  if (!has_updated) {
    rp.TimeReplaced("updatedAt", updated_at, "missing", "set to requestedAt");
  }
  p.updated_at = has_updated ? updated : p.requested_at;

  Result<std::optional<std::string>> reason = f.OptString("reason");
  if (reason.ok() && *reason && !(*reason)->empty()) {
    p.reason = rp.Text("reason", std::move(**reason), limits.max_reason_utf16);
  } else {
    // acpstore requires a reason; Aegis's file store does not check. Only
    // an absent one is missing; an empty one, or one that is not a
    // string, was there and is replaced.
    p.reason = "(no reason recorded)";
    const bool missing = reason.ok() && !*reason;
    rp.Add(missing ? RepairKind::kDefaulted : RepairKind::kValueReplaced,
           "reason",
           (missing       ? std::string("missing")
            : reason.ok() ? std::string("empty")
                          : RuleOf(reason.error())) +
               "; set to \"(no reason recorded)\"");
  }
  p.requested_by = *rp.Who("requestedBy", /*required=*/true);
  p.idempotency_key = rp.OptionalId("idempotencyKey");
  p.metadata = rp.Metadata("metadata");
  p.intervention_by = rp.Who("interventionBy", false);
  p.intervention_completed_by = rp.Who("interventionCompletedBy", false);
  p.resume_id = rp.OptionalId("resumeId");
  p.resumed_by = rp.Who("resumedBy", false);
  Result<std::optional<std::string>> guidance = f.OptString("guidance");
  if (guidance.ok() && *guidance) {
    p.guidance =
        rp.Text("guidance", std::move(**guidance), limits.max_guidance_utf16);
  } else if (!guidance.ok()) {
    rp.Add(RepairKind::kFieldDropped, "guidance",
           RuleOf(guidance.error()) + "; dropped");
  }
  p.resume_metadata = rp.Metadata("resumeMetadata");
  p.intervention_started_at = rp.OptionalTime("interventionStartedAt");
  p.intervention_completed_at = rp.OptionalTime("interventionCompletedAt");
  p.resumed_at = rp.OptionalTime("resumedAt");

  if (p.status == PauseStatus::kIntervening && p.intervention_completed_at) {
    // Aegis's file store leaves a completed intervention `intervening`;
    // acpstore returns it to `paused` (SPEC §2.4), as Aegis's Postgres
    // store does.
    p.status = PauseStatus::kPaused;
    rp.Add(RepairKind::kInterventionDone, "status",
           "intervening with interventionCompletedAt; imported as paused");
  }
  // Required on an intervening pause (read once its status is final),
  // optional on any other.
  if (p.status == PauseStatus::kIntervening) {
    p.intervention_id =
        rp.IdOrGenerated("interventionId", "missing on an intervening pause");
  } else {
    p.intervention_id = rp.OptionalId("interventionId");
  }
  return out;
}

}  // namespace acpstore::aegis
