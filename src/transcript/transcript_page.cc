// Transcript pages: see transcript_page.h.

#include "transcript/transcript_page.h"

#include <algorithm>

namespace acpstore::transcript {

Result<uint32_t> CheckTranscriptQuery(const TranscriptQuery& query) {
  if (query.limit < 1 || query.limit > 1000) {
    return Status::InvalidArgument("limit: must be 1..1000")
        .With("field", "limit");
  }
  if (query.kinds.empty()) return (1u << kMaxEntryKind) - 1;
  uint32_t bits = 0;
  for (const std::string& name : query.kinds) {
    std::optional<EntryKind> kind = EntryKindFromName(name);
    if (!kind) {
      return Status::InvalidArgument(
                 "kind: must be assistant, thought, tool, approval, error, "
                 "turn_end or usage")
          .With("field", "kind");
    }
    bits |= 1u << (static_cast<uint8_t>(*kind) - 1);
  }
  return bits;
}

Status TranscriptsOff() {
  return Status::NotImplemented(
             "transcripts are turned off on this server "
             "(--transcript-max-bytes 0)")
      .With("reason", "transcripts_off");
}

namespace {

// Whether `e` at `index` is the text entry `held` names (HeldText::Names:
// another entry at that index is another session's, deleted and
// re-created) and holds its bytes.
bool Holds(const HeldText& held, const Entry& e, uint64_t index) {
  return (e.kind == EntryKind::kAssistant || e.kind == EntryKind::kThought) &&
         held.Names(index, EntryKindName(e.kind), e.first_seq, e.first_at,
                    e.text.size());
}

}  // namespace

TranscriptEntry ToPublic(const Entry& e, uint64_t index,
                         const HeldText& held) {
  TranscriptEntry out;
  out.index = index;
  out.kind = std::string(EntryKindName(e.kind));
  out.first_seq = e.first_seq;
  out.last_seq = e.last_seq;
  out.first_at = e.first_at;
  out.last_at = e.last_at;
  if (Holds(held, e, index)) {
    // A live stream's wake-up: only what the text gained since it was sent.
    out.text.assign(e.text, held.bytes);
    out.text_offset = held.bytes;
  } else {
    out.text = e.text;
  }
  out.id = e.id;
  out.title = e.title;
  out.tool_kind = e.tool_kind;
  out.status = e.status;
  out.input = e.input;
  out.input_cut = e.input_cut;
  out.text_cut = e.text_cut;
  out.started = e.started;
  out.completed = e.completed;
  out.fields = e.fields;
  return out;
}

uint64_t FirstChangeableAfter(const Transcript& t, EventSeq seq) {
  // Entries are created in seq order, so first_seq ascends with the index:
  // `created` is the first entry created after `seq`.
  uint64_t lo = t.held_index();
  uint64_t hi = t.end_index();
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    if (t.at(mid).first_seq <= seq) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  const uint64_t created = lo;
  // An entry changes after it was created only while it is the newest (a
  // message or thought growing) or an open tool start, which waits through
  // kOpenToolWindow later entries at most and was open at `seq` already:
  // none more than the window before the newest entry at `seq` (created -
  // 1) can have changed since. One more entry of margin.
  const uint64_t reach = Transcript::kOpenToolWindow + 2;
  const uint64_t from = created > reach ? created - reach : 0;
  return std::max(from, t.held_index());
}

uint64_t EntryPageBytes(const TranscriptEntry& e) {
  return e.text.size() + e.input.size() + e.fields.size() + e.title.size() +
         e.id.size() + e.status.size() + e.tool_kind.size();
}

TranscriptPage ReadTranscriptPage(const Transcript& t,
                                  const TranscriptQuery& query, uint32_t kinds,
                                  uint64_t max_bytes) {
  TranscriptPage page;
  page.first_index = t.first_index();
  page.end_index = t.end_index();
  page.complete = t.complete();
  page.folded_seq = t.folded_seq();
  for (const auto& [name, total] : t.usage()) page.usage.emplace_back(name, total);
  for (uint8_t k = 1; k <= kMaxEntryKind; ++k) {
    page.entries_by_kind.emplace_back(
        std::string(EntryKindName(static_cast<EntryKind>(k))),
        t.entries_by_kind()[k - 1]);
  }
  page.next = query.after;
  // A sealed prefix (decision 0021) is read by the caller's choice only:
  // it unseals first when the page needs it.
  uint64_t index = std::max<uint64_t>(query.after + 1, t.held_index());
  // Entries before `index` are gone (the cap dropped them: below
  // first_index) or filtered out (sealed ones no change reaches): examined,
  // so `next` passes them and a reader paging with after=next ends (it
  // stayed at `after` when the cap had dropped every entry: found by a
  // probe, `acpstore transcript` looped forever).
  if (index > query.after + 1) page.next = index - 1;
  if (query.changed_after_seq > 0 && index < t.end_index()) {
    // Entries skipped here count as examined and filtered out.
    const uint64_t from = FirstChangeableAfter(t, query.changed_after_seq);
    if (from > index) {
      index = from;
      page.next = from - 1;
    }
  }
  uint64_t examined = 0;
  uint64_t bytes = 0;
  for (; index < t.end_index() && page.entries.size() < query.limit &&
         examined < kMaxExaminedPerPage;
       ++index, ++examined) {
    const Entry& e = t.at(index);
    if ((kinds & (1u << (static_cast<uint8_t>(e.kind) - 1))) == 0 ||
        e.last_seq <= query.changed_after_seq) {
      page.next = index;
      continue;
    }
    TranscriptEntry entry = ToPublic(e, index, query.held_text);
    const uint64_t size = EntryPageBytes(entry);
    if (!TranscriptPageTakes(page.entries.size(), bytes, size, max_bytes)) {
      break;
    }
    bytes += size;
    page.next = index;
    page.entries.push_back(std::move(entry));
  }
  return page;
}

}  // namespace acpstore::transcript
