// Transcript: a session's conversation as a deterministic fold of its event
// sequence (SPEC §13). Every engine keeps one per session beside the
// session and folds each appended event into it in the same mutation as the
// append, so the same events always give the same transcript, and event
// retention (which only drops raw events) never touches it.
//
// Folding rules (payload fields read at the top level only; the raw ACP
// frame `acp` is never read into the transcript):
//  - message.delta [text, messageId?] appends to the last entry when it is
//    an `assistant` entry with the same messageId (or the delta has none);
//    otherwise it starts one. thinking.delta [text, messageId?] likewise,
//    `thought`. Either field counts wherever it stands in the payload.
//  - tool.started [toolCallId, title, kind?, status?, input?] starts a
//    `tool` entry, open until tool.completed [toolCallId, status?, text?,
//    output?] with the same toolCallId completes it (tools may overlap; an
//    id over 1 KiB is kept as its first 980 bytes and a tag of the whole
//    id, so long ids that share a prefix stay apart); a
//    completion without an open start makes a tool entry of its own. A
//    start waits for its completion while at most kOpenToolWindow entries
//    follow it; after that it stays as it is (started, not completed) and
//    a late completion is one without an open start (decision 0031: one
//    tool that never completes must not keep every later entry from being
//    sealed). Input and result are cut at Limits::max_tool_bytes and
//    marked when cut.
//  - approval.requested, session.error, turn.completed, usage.updated: a
//    small entry each, holding the payload's top-level scalar members
//    (strings cut at 1 KiB). usage.updated's integer members add up into
//    the totals.
//  - an import placeholder (SPEC §8: an event an Aegis import could not
//    keep, or a seq its file lacked): of type kImportPlaceholderType it
//    folds nothing, and either that or a folded type whose payload is
//    the placeholder's (kImportPlaceholderPayload) makes complete() false,
//    since conversation may have been lost there. A placeholder that kept
//    a type this fold skips lost nothing of it.
//  - any other event type is skipped on its type string alone.
// Only creating an entry ends a message or thought: a tool completion that
// updates an older tool entry does not.
//
// Entry indexes start at 1 and never change. When the entries' bytes pass
// Limits::max_bytes the oldest are dropped: first_index() advances and
// complete() turns false for good.
//
// Entries are shared immutable values between a fold and whoever copied
// the transcript (a snapshot capture copies pointers, not text): copying
// marks every entry shared, and a fold clones a shared entry before
// changing it (no reference counts are consulted, so no cross-thread
// ordering beyond the owner's lock is needed).
//
// Thread-safety: a plain value; the owner's lock guards it. Copies share
// entries safely (const once shared). No I/O.

#ifndef ACPSTORE_TRANSCRIPT_TRANSCRIPT_H_
#define ACPSTORE_TRANSCRIPT_TRANSCRIPT_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "acpstore/records.h"
#include "acpstore/result.h"
#include "acpstore/status.h"

namespace acpstore::transcript {

// Stored in snapshots: never renumber.
enum class EntryKind : uint8_t {
  kAssistant = 1,
  kThought = 2,
  kTool = 3,
  kApproval = 4,
  kError = 5,
  kTurnEnd = 6,
  kUsage = 7,
};
inline constexpr uint8_t kMaxEntryKind = 7;

// Wire names: assistant, thought, tool, approval, error, turn_end, usage.
std::string_view EntryKindName(EntryKind kind);
std::optional<EntryKind> EntryKindFromName(std::string_view name);

struct Entry {
  EntryKind kind = EntryKind::kAssistant;
  EventSeq first_seq = 0;  // the events it came from
  EventSeq last_seq = 0;
  TimestampMs first_at = 0;  // their occurredAt
  TimestampMs last_at = 0;
  // assistant / thought: the text; tool: the result text (`text` unless
  // empty or null, else the `output` JSON), cut at max_tool_bytes.
  std::string text;
  // assistant / thought: messageId; tool: toolCallId.
  std::string id;
  // tool only.
  std::string title;
  std::string tool_kind;
  std::string status;
  std::string input;  // JSON text of `input` (cut: a prefix of it)
  bool input_cut = false;
  bool text_cut = false;
  bool started = false;    // a tool.started was folded
  bool completed = false;  // a tool.completed was folded
  // approval / error / turn_end / usage: a JSON object of the payload's
  // top-level scalar members (canonical text), "{}" when none.
  std::string fields;

  // What the entry counts against max_bytes.
  size_t Bytes() const;
  // Every field but `shared`.
  friend bool operator==(const Entry& a, const Entry& b);

  // Set (under the owner's lock) when a Transcript holding this entry is
  // copied: from then on a fold changes a clone, never this object, which
  // the copy may be reading on another thread. Never cleared.
  mutable bool shared = false;
};

struct Limits {
  uint64_t max_bytes = 16ull << 20;      // per session; SPEC §13
  uint64_t max_tool_bytes = 16ull << 10;  // a tool's input and its result
};

// One event as the fold needs it.
struct EventView {
  EventSeq seq = 0;
  std::string_view event_type;
  TimestampMs occurred_at = 0;
  std::string_view payload;  // canonical JSON
};

// What import-aegis writes for an event it could not keep
// (src/aegis/mapping.h): this type when the event's own could not be kept
// either, and a payload that starts with this (canonical JSON).
inline constexpr std::string_view kImportPlaceholderType =
    "acpstore.import.placeholder";
inline constexpr std::string_view kImportPlaceholderPayload =
    R"({"acpstoreImport":{"placeholder":true,)";

// True when `event_type` can change a transcript (the cheap pre-check);
// kImportPlaceholderType included.
bool IsFolded(std::string_view event_type);

class Transcript {
 public:
  // How many later entries a tool start waits for its completion through
  // (see the rules above). Part of the fold: every engine, every stored
  // transcript, the same value. It may only ever go down: a start the
  // window closed may have been sealed or left out of postgres's open
  // list, so a larger window in a later release would find it open in
  // one engine and closed in another (a format change, decision 0031).
  static constexpr uint64_t kOpenToolWindow = 256;

  Transcript() = default;
  // Copies share entries and mark them shared (see above); the source must
  // be guarded by the same lock as the folds.
  Transcript(const Transcript& other);
  Transcript& operator=(const Transcript& other);
  Transcript(Transcript&&) noexcept = default;
  Transcript& operator=(Transcript&&) noexcept = default;

  // Folds one event; returns true when the transcript changed. Events must
  // come in seq order; one at or below folded_seq() is ignored.
  bool Fold(const EventView& event, const Limits& limits);

  // Entry index of the first kept entry (1 when nothing was dropped) and
  // one past the last.
  uint64_t first_index() const { return first_index_; }
  uint64_t end_index() const { return base_ + entries_.size(); }
  size_t size() const { return end_index() - first_index_; }
  bool empty() const { return size() == 0; }
  // The entry with index `index` (first_index() <= index < end_index();
  // in a partial transcript, one that was loaded).
  const Entry& at(uint64_t index) const { return *entries_[index - base_]; }
  // False once the cap dropped an entry, an import placeholder was folded,
  // or the transcript was rebuilt from a stream that had lost events before
  // it was first folded.
  bool complete() const { return complete_; }
  void set_incomplete() { complete_ = false; }
  // The highest seq folded (types that fold nothing included).
  EventSeq folded_seq() const { return folded_seq_; }
  // usage.updated integer members, summed by name.
  const std::map<std::string, int64_t>& usage() const { return usage_; }
  // Entries per kind ever created (dropped ones included), by kind - 1.
  const uint64_t* entries_by_kind() const { return by_kind_; }
  // Bytes of the kept entries (Entry::Bytes), what the cap bounds.
  uint64_t bytes() const { return bytes_; }

  // Snapshot encoding (docs/recovery.md, "Snapshot contents"): a head and
  // the entries in groups; Decode* rebuild the same value.
  void EncodeHead(std::string* out) const;
  static void EncodeEntry(const Entry& e, std::string* out);
  // EncodeEntry of `e` with an empty text, without copying `e` (postgres
  // keeps an entry's text in rows of its own).
  static void EncodeEntryWithoutText(const Entry& e, std::string* out);
  static Status DecodeHead(std::string_view body, Transcript* out);
  static Status DecodeEntry(std::string_view* in, Entry* out);
  // Appends a decoded entry (the next index); keeps the open-tool map and
  // byte count right.
  void AddDecoded(Entry e);
  // The entry count DecodeHead read, which the AddDecoded calls must reach.
  uint64_t expected_entries() const { return expected_entries_; }

  // Partial transcripts: an engine that keeps each entry in a row of its
  // own (postgres) loads only what a fold can change - the head, the last
  // entry and the open tools' entries (open_tool_indexes()) - and writes
  // back only what the fold touched. `head`: EncodeHead's bytes; `bytes`:
  // bytes() as stored; `loaded`: (index, entry), the last entry among them
  // when there is one. The cap may drop entries that were not loaded:
  // `unloaded_bytes(index)` answers their Entry::Bytes().
  static Status DecodePartial(std::string_view head, uint64_t bytes,
                              std::vector<std::pair<uint64_t, Entry>> loaded,
                              std::function<uint64_t(uint64_t)> unloaded_bytes,
                              Transcript* out);
  // Partial transcripts only: the indexes of the entries folds created or
  // changed since DecodePartial (ascending, possibly repeated; some may
  // have been dropped since: below first_index()).
  const std::vector<uint64_t>& touched() const { return touched_; }
  // Partial transcripts only: a loaded entry whose text the engine keeps
  // apart (loaded with its text empty; a fold then appends to the empty
  // text, which is what the engine appends to the stored text) counts
  // `n` more bytes than its Bytes(), for the cap.
  void set_hidden_bytes(uint64_t index, uint64_t n) { hidden_[index] = n; }
  // The entries of tools started and not completed (what DecodePartial
  // must load besides the last entry).
  std::vector<uint64_t> open_tool_indexes() const;

  // Sealed prefixes (decision 0021, the file engine's hot transcripts):
  // entries that no later event can change - every one before the last
  // entry and before the first open tool's - may leave memory while the
  // transcript stays foldable. Entries [first_index(), held_index()) are
  // sealed: not held (at() must not be asked for them), their bytes still
  // counted by bytes() and dropped first by the cap. The engine keeps
  // their encoded copy; Unseal puts them back for a reader.
  uint64_t held_index() const { return base_; }
  // One past the last entry that may be sealed now (held_index() when
  // none may).
  uint64_t sealable_end() const;
  // Seals entries [held_index(), end); end <= sealable_end().
  void Seal(uint64_t end);
  // The held entries [held_index(), end) (end <= end_index()), each marked
  // shared as a copy marks it: what a seal pass writes, taken without
  // copying the whole transcript (the entry list, the open-tool maps, the
  // sealed sizes), so the entries a fold still changes - the last one, the
  // open tools' - stay unshared and are not cloned by the next fold.
  std::vector<std::shared_ptr<const Entry>> ShareHeld(uint64_t end) const;
  // Bytes of the held entries: bytes() less the sealed ones'.
  uint64_t resident_bytes() const { return bytes_ - sealed_bytes_; }
  // Bytes of the sealed entries (Entry::Bytes, kept ones).
  uint64_t sealed_bytes() const { return sealed_bytes_; }
  // Puts the sealed entries back: `sealed` must be exactly entries
  // [first_index(), held_index()) (kDataLoss otherwise, unchanged then).
  Status Unseal(std::vector<Entry> sealed);
  // Entry::Bytes of sealed entry `index` (first_index() <= index <
  // held_index()): what a snapshot's reference item records for the cap
  // (decision 0027).
  uint32_t sealed_entry_bytes(uint64_t index) const {
    return sealed_[index - first_index_];
  }
  // Decoding a snapshot whose sealed part lies in another file (decision
  // 0027): appends one more sealed entry of `bytes`, not held. Every entry
  // decoded so far must be sealed (Seal(end_index()) first).
  void AddSealedDecoded(uint32_t bytes);

  friend bool operator==(const Transcript& a, const Transcript& b);

 private:
  Entry* MutableLast();
  Entry* MutableAt(uint64_t index);
  Entry* Add(EntryKind kind, const EventView& event);
  void Touch(Entry* e, const EventView& event);
  void Grew(size_t before, const Entry& e);
  void Enforce(const Limits& limits);
  // The open-tool maps: a start of `id` at `index` is open (a start of
  // the same id before it is not any more); one of them closes; starts
  // more than kOpenToolWindow entries behind the last entry close.
  void OpenTool(const std::string& id, uint64_t index);
  void CloseTool(std::unordered_map<std::string, uint64_t>::iterator it);
  void CloseStaleTools();

  // entries_[i] is entry base_ + i. base_ == first_index_ except in a
  // partial transcript, where entries before base_ are not held and those
  // after it that were not loaded are null.
  std::deque<std::shared_ptr<Entry>> entries_;
  uint64_t base_ = 1;
  uint64_t first_index_ = 1;
  bool complete_ = true;
  EventSeq folded_seq_ = 0;
  uint64_t bytes_ = 0;
  std::map<std::string, int64_t> usage_;
  uint64_t by_kind_[kMaxEntryKind] = {};
  // toolCallId -> index of its open (started, not completed) entry, and
  // the same pairs by index (the oldest first: what stops a seal, and what
  // goes stale first).
  std::unordered_map<std::string, uint64_t> open_tools_;
  std::map<uint64_t, std::string> open_by_index_;
  uint64_t expected_entries_ = 0;  // decoding only
  // Sealed entries [first_index_, base_) of a transcript that is not
  // partial: each one's Entry::Bytes (for the cap), and their sum.
  std::deque<uint32_t> sealed_;
  uint64_t sealed_bytes_ = 0;
  // Partial transcripts only (DecodePartial).
  bool partial_ = false;
  std::vector<uint64_t> touched_;
  std::map<uint64_t, uint64_t> hidden_;
  std::function<uint64_t(uint64_t)> unloaded_bytes_;
};

}  // namespace acpstore::transcript

#endif  // ACPSTORE_TRANSCRIPT_TRANSCRIPT_H_
