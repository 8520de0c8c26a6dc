// The transcript fold: see transcript.h for the rules.

#include "transcript/transcript.h"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <limits>
#include <utility>

#include "base/coding.h"
#include "base/crc32c.h"
#include "record/canonical_json.h"
#include "transcript/json_fields.h"

namespace acpstore::transcript {
namespace {

// Small entries keep at most this many members, each string cut here, so
// a hostile payload cannot make one large.
constexpr size_t kMaxSmallMembers = 32;
constexpr size_t kMaxSmallString = 1024;
// A toolCallId longer than kMaxSmallString is kept as its first
// kLongIdPrefix bytes and a tag of the whole id (ToolCallKey), at most 38
// bytes: the whole stays within kMaxSmallString.
constexpr size_t kLongIdPrefix = 980;
// What an entry costs beyond its strings (the struct, its shared_ptr
// control block and the deque slot), counted so that a flood of empty
// entries is bounded by max_bytes too.
constexpr size_t kEntryOverhead = 160;

enum class Type {
  kNone,
  kMessage,
  kThinking,
  kToolStarted,
  kToolCompleted,
  kApproval,
  kError,
  kTurnCompleted,
  kUsage,
  kPlaceholder  // kImportPlaceholderType
};

Type TypeOf(std::string_view t) {
  // Most events in a busy session are deltas: decide on length and one
  // byte before comparing whole strings.
  switch (t.size()) {
    case 13:
      if (t == "message.delta") return Type::kMessage;
      if (t == "session.error") return Type::kError;
      if (t == "usage.updated") return Type::kUsage;
      return Type::kNone;
    case 14:
      if (t == "thinking.delta") return Type::kThinking;
      if (t == "tool.completed") return Type::kToolCompleted;
      if (t == "turn.completed") return Type::kTurnCompleted;
      return Type::kNone;
    case 12:
      return t == "tool.started" ? Type::kToolStarted : Type::kNone;
    case 18:
      return t == "approval.requested" ? Type::kApproval : Type::kNone;
    case kImportPlaceholderType.size():
      return t == kImportPlaceholderType ? Type::kPlaceholder : Type::kNone;
    default:
      return Type::kNone;
  }
}

// The JSON object of `payload`'s top-level scalar members (not `acp`),
// strings cut at kMaxSmallString.
std::string SmallFields(std::string_view payload) {
  std::string out = "{";
  size_t n = 0;
  ScanTopLevel(payload, [&](std::string_view key, std::string_view value) {
    if (key == "acp" || !IsScalar(value)) return true;
    if (n > 0) out.push_back(',');
    out.push_back('"');
    out.append(key);  // raw, already escaped canonically
    out.append("\":");
    if (value.front() == '"' && value.size() > kMaxSmallString + 2) {
      std::string text;
      if (AppendStringValue(value, &text)) {
        CutUtf8(&text, kMaxSmallString);
        record::AppendJsonString(text, &out);
      } else {
        out.append("null");
      }
    } else {
      out.append(value);
    }
    return ++n < kMaxSmallMembers;
  });
  out.push_back('}');
  return out;
}

// The text of a JSON value for a tool's input or result: a string's
// decoded text, any other value's JSON text.
void ValueText(std::string_view raw, std::string* out) {
  if (!raw.empty() && raw.front() == '"' && AppendStringValue(raw, out)) {
    return;
  }
  out->append(raw);
}

// The id a tool entry keeps, which is also its key among the open tools
// (rebuilt from stored entries after a restart, so it must be the stored
// id): `id` itself up to kMaxSmallString bytes; a longer one cut at
// kLongIdPrefix, then "…(<length> bytes, crc32c <8 hex digits>)" of the
// whole id. A plain cut made two ids that share their first KiB one key,
// and one tool's completion went into another's entry (found by a probe).
// The CRC tells apart any two ids of one length that differ within 32
// consecutive bits; no secret is at stake (the writer chooses the ids).
void ToolCallKey(std::string* id) {
  if (id->size() <= kMaxSmallString) return;
  const size_t length = id->size();
  const uint32_t crc = base::crc32c::Value(*id);
  CutUtf8(id, kLongIdPrefix);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string tag = "\u2026(" + std::to_string(length) + " bytes, crc32c ";
  for (int shift = 28; shift >= 0; shift -= 4) {
    tag.push_back(kHex[(crc >> shift) & 0xF]);
  }
  tag.push_back(')');
  id->append(tag);
}

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t UnZigZag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

}  // namespace

std::string_view EntryKindName(EntryKind kind) {
  switch (kind) {
    case EntryKind::kAssistant:
      return "assistant";
    case EntryKind::kThought:
      return "thought";
    case EntryKind::kTool:
      return "tool";
    case EntryKind::kApproval:
      return "approval";
    case EntryKind::kError:
      return "error";
    case EntryKind::kTurnEnd:
      return "turn_end";
    case EntryKind::kUsage:
      return "usage";
  }
  return "unknown";
}

std::optional<EntryKind> EntryKindFromName(std::string_view name) {
  for (uint8_t k = 1; k <= kMaxEntryKind; ++k) {
    if (EntryKindName(static_cast<EntryKind>(k)) == name) {
      return static_cast<EntryKind>(k);
    }
  }
  return std::nullopt;
}

bool IsFolded(std::string_view event_type) {
  return TypeOf(event_type) != Type::kNone;
}

bool operator==(const Entry& a, const Entry& b) {
  return a.kind == b.kind && a.first_seq == b.first_seq &&
         a.last_seq == b.last_seq && a.first_at == b.first_at &&
         a.last_at == b.last_at && a.text == b.text && a.id == b.id &&
         a.title == b.title && a.tool_kind == b.tool_kind &&
         a.status == b.status && a.input == b.input &&
         a.input_cut == b.input_cut && a.text_cut == b.text_cut &&
         a.started == b.started && a.completed == b.completed &&
         a.fields == b.fields;
}

Transcript::Transcript(const Transcript& other) { *this = other; }

Transcript& Transcript::operator=(const Transcript& other) {
  if (this == &other) return *this;
  // Written only when false: a copy of a copy (all shared already) writes
  // nothing, so it may run without the lock.
  for (const std::shared_ptr<Entry>& e : other.entries_) {
    if (!e->shared) e->shared = true;
  }
  entries_ = other.entries_;
  // base_ too: once the cap (or a seal) moved it, at() indexes from it.
  base_ = other.base_;
  first_index_ = other.first_index_;
  complete_ = other.complete_;
  folded_seq_ = other.folded_seq_;
  bytes_ = other.bytes_;
  usage_ = other.usage_;
  std::copy(std::begin(other.by_kind_), std::end(other.by_kind_),
            std::begin(by_kind_));
  open_tools_ = other.open_tools_;
  open_by_index_ = other.open_by_index_;
  expected_entries_ = other.expected_entries_;
  sealed_ = other.sealed_;
  sealed_bytes_ = other.sealed_bytes_;
  return *this;
}

size_t Entry::Bytes() const {
  return kEntryOverhead + text.size() + id.size() + title.size() +
         tool_kind.size() + status.size() + input.size() + fields.size();
}

Entry* Transcript::MutableAt(uint64_t index) {
  if (partial_) touched_.push_back(index);
  std::shared_ptr<Entry>& p = entries_[index - base_];
  // Shared with a copy (a snapshot being written): change a clone.
  if (p->shared) {
    p = std::make_shared<Entry>(*p);
    p->shared = false;
  }
  return p.get();
}

Entry* Transcript::MutableLast() { return MutableAt(end_index() - 1); }

Entry* Transcript::Add(EntryKind kind, const EventView& event) {
  auto e = std::make_shared<Entry>();
  e->kind = kind;
  e->first_seq = e->last_seq = event.seq;
  e->first_at = e->last_at = event.occurred_at;
  entries_.push_back(std::move(e));
  if (partial_) touched_.push_back(end_index() - 1);
  ++by_kind_[static_cast<uint8_t>(kind) - 1];
  bytes_ += entries_.back()->Bytes();
  CloseStaleTools();
  return entries_.back().get();
}

void Transcript::OpenTool(const std::string& id, uint64_t index) {
  auto [it, added] = open_tools_.try_emplace(id, index);
  if (!added) {
    open_by_index_.erase(it->second);
    it->second = index;
  }
  open_by_index_[index] = id;
}

void Transcript::CloseTool(
    std::unordered_map<std::string, uint64_t>::iterator it) {
  open_by_index_.erase(it->second);
  open_tools_.erase(it);
}

void Transcript::CloseStaleTools() {
  while (!open_by_index_.empty() &&
         open_by_index_.begin()->first + kOpenToolWindow < end_index() - 1) {
    const auto oldest = open_by_index_.begin();
    auto it = open_tools_.find(oldest->second);
    if (it != open_tools_.end() && it->second == oldest->first) {
      CloseTool(it);
    } else {
      open_by_index_.erase(oldest);  // never: the maps are kept in step
    }
  }
}

void Transcript::Touch(Entry* e, const EventView& event) {
  e->last_seq = event.seq;
  e->last_at = event.occurred_at;
}

void Transcript::Grew(size_t before, const Entry& e) {
  bytes_ += e.Bytes();
  bytes_ -= before;
}

void Transcript::Enforce(const Limits& limits) {
  while (bytes_ > limits.max_bytes && first_index_ < end_index()) {
    if (!partial_ && first_index_ < base_) {
      // A sealed entry (decision 0021): only its bytes are here.
      bytes_ -= sealed_.front();
      sealed_bytes_ -= sealed_.front();
      sealed_.pop_front();
    } else if (first_index_ < base_ || entries_.front() == nullptr) {
      // A partial transcript's entry that was not loaded: not the last
      // one, not an open tool's.
      const uint64_t b = unloaded_bytes_ ? unloaded_bytes_(first_index_) : 0;
      bytes_ -= std::min(bytes_, b);
      if (first_index_ == base_) {
        entries_.pop_front();
        ++base_;
      }
    } else {
      const Entry& e = *entries_.front();
      bytes_ -= e.Bytes();
      if (partial_) {
        auto h = hidden_.find(first_index_);
        if (h != hidden_.end()) bytes_ -= std::min(bytes_, h->second);
      }
      if (e.kind == EntryKind::kTool && e.started && !e.completed) {
        auto it = open_tools_.find(e.id);
        if (it != open_tools_.end() && it->second == first_index_) {
          CloseTool(it);
        }
      }
      entries_.pop_front();
      ++base_;
    }
    ++first_index_;
    complete_ = false;
  }
}

bool Transcript::Fold(const EventView& event, const Limits& limits) {
  if (event.seq <= folded_seq_) return false;
  folded_seq_ = event.seq;
  const Type type = TypeOf(event.event_type);
  if (type == Type::kNone) return false;
  if (type == Type::kPlaceholder ||
      event.payload.starts_with(kImportPlaceholderPayload)) {
    // An event an import lost (SPEC §13): what it said is not here.
    const bool was_complete = complete_;
    complete_ = false;
    if (type == Type::kPlaceholder) return was_complete;
  }
  switch (type) {
    case Type::kNone:
    case Type::kPlaceholder:
      return false;
    case Type::kMessage:
    case Type::kThinking: {
      std::string_view text_raw, id_raw;
      auto fields = [&](std::string_view k, std::string_view v) {
        if (k == "text") {
          text_raw = v;
        }
        if (k == "messageId") {
          id_raw = v;
        }
        return text_raw.empty() || id_raw.empty();
      };
      // Both fields are wanted wherever they are (member order means
      // nothing in JSON; 0.1.x read a thought's messageId only before its
      // text, so Aegis's thoughts, id after text, never split), so they are
      // looked for from the end first: Aegis's payloads open with the raw
      // ACP frame, and a delta's fields follow it.
      if (ScanTopLevelBackward(event.payload, fields) ==
          BackwardScan::kNotScalar) {
        text_raw = id_raw = {};
        ScanTopLevel(event.payload, fields);
      }
      std::string id;
      AppendStringValue(id_raw, &id);
      const EntryKind kind = type == Type::kMessage ? EntryKind::kAssistant
                                                    : EntryKind::kThought;
      Entry* e = nullptr;
      size_t before = 0;
      if (!entries_.empty() && entries_.back()->kind == kind &&
          (id.empty() || id == entries_.back()->id)) {
        e = MutableLast();
        before = e->Bytes();
        Touch(e, event);
      } else {
        e = Add(kind, event);
        before = e->Bytes();
        e->id = std::move(id);
      }
      AppendStringValue(text_raw, &e->text);
      Grew(before, *e);
      break;
    }
    case Type::kToolStarted: {
      std::string_view id, title, kind, status, input;
      ScanTopLevel(event.payload, [&](std::string_view k, std::string_view v) {
        if (k == "toolCallId") {
          id = v;
        } else if (k == "title") {
          title = v;
        } else if (k == "kind") {
          kind = v;
        } else if (k == "status") {
          status = v;
        } else if (k == "input") {
          input = v;
        }
        return true;
      });
      Entry* e = Add(EntryKind::kTool, event);
      const size_t before = e->Bytes();
      e->started = true;
      AppendStringValue(id, &e->id);
      AppendStringValue(title, &e->title);
      AppendStringValue(kind, &e->tool_kind);
      AppendStringValue(status, &e->status);
      ToolCallKey(&e->id);
      CutUtf8(&e->title, kMaxSmallString);
      CutUtf8(&e->tool_kind, kMaxSmallString);
      CutUtf8(&e->status, kMaxSmallString);
      e->input.append(input);
      e->input_cut = CutUtf8(&e->input, limits.max_tool_bytes);
      OpenTool(e->id, end_index() - 1);
      Grew(before, *e);
      break;
    }
    case Type::kToolCompleted: {
      std::string_view id_raw, status, text, output;
      ScanTopLevel(event.payload, [&](std::string_view k, std::string_view v) {
        if (k == "toolCallId") {
          id_raw = v;
        } else if (k == "status") {
          status = v;
        } else if (k == "text") {
          text = v;
        } else if (k == "output") {
          output = v;
        }
        return true;
      });
      std::string id;
      AppendStringValue(id_raw, &id);
      std::string legacy;  // the key an older release made of a long id
      if (id.size() > kMaxSmallString) {
        legacy = id;
        CutUtf8(&legacy, kMaxSmallString);
      }
      ToolCallKey(&id);
      Entry* e = nullptr;
      size_t before = 0;
      auto it = open_tools_.find(id);
      // A start stored before ToolCallKey kept the id cut at
      // kMaxSmallString: it still pairs with its completion, as it did.
      if (it == open_tools_.end() && !legacy.empty()) {
        it = open_tools_.find(legacy);
      }
      if (it != open_tools_.end()) {
        e = MutableAt(it->second);
        CloseTool(it);
        before = e->Bytes();
        Touch(e, event);
      } else {
        e = Add(EntryKind::kTool, event);  // a completion without its start
        before = e->Bytes();
        e->id = std::move(id);
      }
      e->completed = true;
      if (!status.empty()) {
        e->status.clear();
        AppendStringValue(status, &e->status);
        CutUtf8(&e->status, kMaxSmallString);
      }
      e->text.clear();
      // An empty or null text is none (an agent that put its result in
      // `output` may still send "text": ""; found by a review).
      if (!text.empty() && text != "null" && text != R"("")") {
        ValueText(text, &e->text);
      } else if (!output.empty()) {
        ValueText(output, &e->text);
      }
      e->text_cut = CutUtf8(&e->text, limits.max_tool_bytes);
      Grew(before, *e);
      break;
    }
    case Type::kApproval:
    case Type::kError:
    case Type::kTurnCompleted:
    case Type::kUsage: {
      const EntryKind kind = type == Type::kApproval ? EntryKind::kApproval
                             : type == Type::kError  ? EntryKind::kError
                             : type == Type::kUsage  ? EntryKind::kUsage
                                                     : EntryKind::kTurnEnd;
      Entry* e = Add(kind, event);
      const size_t before = e->Bytes();
      e->fields = SmallFields(event.payload);
      Grew(before, *e);
      if (type == Type::kUsage) {
        ScanTopLevel(event.payload,
                     [&](std::string_view k, std::string_view v) {
                       int64_t n = 0;
                       auto r = std::from_chars(v.data(), v.data() + v.size(),
                                                n);
                       if (k == "acp" || r.ec != std::errc() ||
                           r.ptr != v.data() + v.size() ||
                           k.find('\\') != std::string_view::npos) {
                         return true;
                       }
                       // Only a few names ever: keep the map small.
                       if (usage_.size() >= kMaxSmallMembers &&
                           usage_.find(std::string(k)) == usage_.end()) {
                         return true;
                       }
                       int64_t& total = usage_[std::string(k)];
                       if (__builtin_add_overflow(total, n, &total)) {
                         total = n > 0 ? std::numeric_limits<int64_t>::max()
                                       : std::numeric_limits<int64_t>::min();
                       }
                       return true;
                     });
      }
      break;
    }
  }
  Enforce(limits);
  return true;
}

// ------------------------------------------------------------ encoding

void Transcript::EncodeHead(std::string* out) const {
  base::PutVarint64(out, first_index_);
  out->push_back(complete_ ? 1 : 0);
  base::PutVarint64(out, folded_seq_);
  base::PutVarint64(out, size());
  for (uint64_t n : by_kind_) base::PutVarint64(out, n);
  base::PutVarint32(out, static_cast<uint32_t>(usage_.size()));
  for (const auto& [name, total] : usage_) {
    base::PutLengthPrefixed(out, name);
    base::PutVarint64(out, ZigZag(total));
  }
}

namespace {
void EncodeEntryWithText(const Entry& e, std::string_view text,
                         std::string* out) {
  out->push_back(static_cast<char>(e.kind));
  out->push_back(static_cast<char>((e.input_cut ? 1 : 0) |
                                   (e.text_cut ? 2 : 0) |
                                   (e.started ? 4 : 0) |
                                   (e.completed ? 8 : 0)));
  base::PutVarint64(out, e.first_seq);
  base::PutVarint64(out, e.last_seq - e.first_seq);
  base::PutVarint64(out, ZigZag(e.first_at));
  base::PutVarint64(out, ZigZag(e.last_at - e.first_at));
  base::PutLengthPrefixed(out, text);
  base::PutLengthPrefixed(out, e.id);
  base::PutLengthPrefixed(out, e.title);
  base::PutLengthPrefixed(out, e.tool_kind);
  base::PutLengthPrefixed(out, e.status);
  base::PutLengthPrefixed(out, e.input);
  base::PutLengthPrefixed(out, e.fields);
}
}  // namespace

void Transcript::EncodeEntry(const Entry& e, std::string* out) {
  EncodeEntryWithText(e, e.text, out);
}

void Transcript::EncodeEntryWithoutText(const Entry& e, std::string* out) {
  EncodeEntryWithText(e, {}, out);
}

Status Transcript::DecodeHead(std::string_view in, Transcript* out) {
  *out = Transcript();
  uint64_t entries = 0;
  uint32_t names = 0;
  if (!base::GetVarint64(&in, &out->first_index_) || in.empty()) {
    return Status::Corruption("transcript head cut short");
  }
  if (static_cast<uint8_t>(in[0]) > 1 || out->first_index_ == 0) {
    return Status::Corruption("transcript head is malformed");
  }
  out->base_ = out->first_index_;
  out->complete_ = in[0] == 1;
  in.remove_prefix(1);
  if (!base::GetVarint64(&in, &out->folded_seq_) ||
      !base::GetVarint64(&in, &entries)) {
    return Status::Corruption("transcript head cut short");
  }
  for (uint64_t& n : out->by_kind_) {
    if (!base::GetVarint64(&in, &n)) {
      return Status::Corruption("transcript head cut short");
    }
  }
  if (!base::GetVarint32(&in, &names)) {
    return Status::Corruption("transcript head cut short");
  }
  for (uint32_t i = 0; i < names; ++i) {
    std::string_view name;
    uint64_t total = 0;
    if (!base::GetLengthPrefixed(&in, &name) ||
        !base::GetVarint64(&in, &total)) {
      return Status::Corruption("transcript usage totals cut short");
    }
    out->usage_[std::string(name)] = UnZigZag(total);
  }
  if (!in.empty()) return Status::Corruption("trailing bytes in a transcript head");
  // The entries follow in their own items; the loader checks the count.
  out->expected_entries_ = entries;
  return Status::OK();
}

Status Transcript::DecodeEntry(std::string_view* in, Entry* e) {
  if (in->size() < 2) return Status::Corruption("transcript entry cut short");
  const uint8_t kind = static_cast<uint8_t>((*in)[0]);
  const uint8_t flags = static_cast<uint8_t>((*in)[1]);
  if (kind == 0 || kind > kMaxEntryKind || flags > 15) {
    return Status::Corruption("transcript entry has an unknown kind or flag");
  }
  in->remove_prefix(2);
  e->kind = static_cast<EntryKind>(kind);
  e->input_cut = (flags & 1) != 0;
  e->text_cut = (flags & 2) != 0;
  e->started = (flags & 4) != 0;
  e->completed = (flags & 8) != 0;
  uint64_t span = 0, first_at = 0, at_span = 0;
  std::string_view text, id, title, tool_kind, status, input, fields;
  if (!base::GetVarint64(in, &e->first_seq) || !base::GetVarint64(in, &span) ||
      !base::GetVarint64(in, &first_at) || !base::GetVarint64(in, &at_span) ||
      !base::GetLengthPrefixed(in, &text) || !base::GetLengthPrefixed(in, &id) ||
      !base::GetLengthPrefixed(in, &title) ||
      !base::GetLengthPrefixed(in, &tool_kind) ||
      !base::GetLengthPrefixed(in, &status) ||
      !base::GetLengthPrefixed(in, &input) ||
      !base::GetLengthPrefixed(in, &fields)) {
    return Status::Corruption("transcript entry cut short");
  }
  e->last_seq = e->first_seq + span;
  e->first_at = UnZigZag(first_at);
  e->last_at = e->first_at + UnZigZag(at_span);
  e->text = text;
  e->id = id;
  e->title = title;
  e->tool_kind = tool_kind;
  e->status = status;
  e->input = input;
  e->fields = fields;
  return Status::OK();
}

void Transcript::AddDecoded(Entry e) {
  bytes_ += e.Bytes();
  // The latest start of a toolCallId decides whether it is open: a fold
  // maps the id to each new start and unmaps it when that one completes.
  if (e.kind == EntryKind::kTool && e.started) {
    if (!e.completed) {
      OpenTool(e.id, end_index());
    } else if (auto it = open_tools_.find(e.id); it != open_tools_.end()) {
      CloseTool(it);
    }
  }
  entries_.push_back(std::make_shared<Entry>(std::move(e)));
  // As the fold closed them, entry by entry.
  CloseStaleTools();
}

Status Transcript::DecodePartial(
    std::string_view head, uint64_t bytes,
    std::vector<std::pair<uint64_t, Entry>> loaded,
    std::function<uint64_t(uint64_t)> unloaded_bytes, Transcript* out) {
  ACPSTORE_RETURN_IF_ERROR(DecodeHead(head, out));
  const uint64_t end = out->first_index_ + out->expected_entries_;
  std::sort(loaded.begin(), loaded.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  if (!loaded.empty() &&
      (loaded.front().first < out->first_index_ ||
       loaded.back().first >= end)) {
    return Status::Corruption("a transcript entry lies outside its head's range");
  }
  if (end > out->first_index_ &&
      (loaded.empty() || loaded.back().first != end - 1)) {
    return Status::Corruption("a partial transcript lacks its last entry");
  }
  out->partial_ = true;
  out->bytes_ = bytes;
  out->unloaded_bytes_ = std::move(unloaded_bytes);
  out->base_ = loaded.empty() ? end : loaded.front().first;
  out->entries_.resize(end - out->base_);
  // Ascending, so the latest start of a toolCallId wins, as in a fold.
  for (auto& [index, e] : loaded) {
    if (e.kind == EntryKind::kTool && e.started && !e.completed) {
      out->OpenTool(e.id, index);
    }
    out->entries_[index - out->base_] = std::make_shared<Entry>(std::move(e));
  }
  // Open starts listed before the window (decision 0031; postgres keeps
  // the list in `transcripts.open_idx`) may include ones it has closed
  // since: the fold would have closed them as it went.
  out->CloseStaleTools();
  out->expected_entries_ = 0;
  return Status::OK();
}

std::vector<uint64_t> Transcript::open_tool_indexes() const {
  std::vector<uint64_t> out;
  out.reserve(open_by_index_.size());
  for (const auto& [index, id] : open_by_index_) out.push_back(index);
  return out;
}

uint64_t Transcript::sealable_end() const {
  if (partial_ || entries_.empty()) return base_;
  // The last entry may grow; an open tool's entry may complete; a later
  // entry may be either, so the prefix stops at the first of them.
  uint64_t end = end_index() - 1;
  if (!open_by_index_.empty()) end = std::min(end, open_by_index_.begin()->first);
  return std::max(end, base_);
}

void Transcript::Seal(uint64_t end) {
  while (base_ < end && !entries_.empty()) {
    const uint32_t b = static_cast<uint32_t>(entries_.front()->Bytes());
    sealed_.push_back(b);
    sealed_bytes_ += b;
    entries_.pop_front();
    ++base_;
  }
}

std::vector<std::shared_ptr<const Entry>> Transcript::ShareHeld(
    uint64_t end) const {
  std::vector<std::shared_ptr<const Entry>> out;
  if (partial_ || end <= base_) return out;
  end = std::min(end, end_index());
  out.reserve(end - base_);
  for (uint64_t i = base_; i < end; ++i) {
    const std::shared_ptr<Entry>& e = entries_[i - base_];
    if (!e->shared) e->shared = true;
    out.push_back(e);
  }
  return out;
}

void Transcript::AddSealedDecoded(uint32_t bytes) {
  // Only at the held boundary: a sealed entry after a held one would not
  // be a prefix.
  if (!entries_.empty()) return;
  sealed_.push_back(bytes);
  sealed_bytes_ += bytes;
  bytes_ += bytes;
  ++base_;
}

Status Transcript::Unseal(std::vector<Entry> sealed) {
  if (sealed.size() != base_ - first_index_) {
    return Status::DataLoss(
        "sealed transcript entries: " + std::to_string(sealed.size()) +
        " read back, " + std::to_string(base_ - first_index_) + " sealed");
  }
  for (size_t i = 0; i < sealed.size(); ++i) {
    if (sealed[i].Bytes() != sealed_[i]) {
      return Status::DataLoss("a sealed transcript entry read back differs");
    }
  }
  for (size_t i = sealed.size(); i-- > 0;) {
    entries_.push_front(std::make_shared<Entry>(std::move(sealed[i])));
  }
  base_ = first_index_;
  sealed_.clear();
  sealed_bytes_ = 0;
  return Status::OK();
}

bool operator==(const Transcript& a, const Transcript& b) {
  if (a.first_index_ != b.first_index_ || a.complete_ != b.complete_ ||
      a.base_ != b.base_ || a.sealed_ != b.sealed_ ||
      a.folded_seq_ != b.folded_seq_ || a.bytes_ != b.bytes_ ||
      a.usage_ != b.usage_ || a.entries_.size() != b.entries_.size() ||
      a.open_tools_ != b.open_tools_ || a.open_by_index_ != b.open_by_index_) {
    return false;
  }
  for (size_t k = 0; k < kMaxEntryKind; ++k) {
    if (a.by_kind_[k] != b.by_kind_[k]) return false;
  }
  for (size_t i = 0; i < a.entries_.size(); ++i) {
    if (!(*a.entries_[i] == *b.entries_[i])) return false;
  }
  return true;
}

}  // namespace acpstore::transcript
