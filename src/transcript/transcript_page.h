// Reading a page of a Transcript as the public TranscriptPage (SPEC §13):
// what every engine's Store::ReadTranscript answers once it has found the
// session's transcript.
//
// Thread-safety: pure functions; the caller holds whatever guards the
// transcript.

#ifndef ACPSTORE_TRANSCRIPT_TRANSCRIPT_PAGE_H_
#define ACPSTORE_TRANSCRIPT_TRANSCRIPT_PAGE_H_

#include <cstdint>

#include "acpstore/records.h"
#include "acpstore/result.h"
#include "acpstore/status.h"
#include "transcript/transcript.h"

namespace acpstore::transcript {

// A page examines at most this many entries (so a filtered read of a
// large transcript holds the engine's lock briefly); `next` says where the
// following page starts.
inline constexpr uint64_t kMaxExaminedPerPage = 10000;

// The kinds of `query` as a bit set (bit kind - 1); all bits when empty.
// kInvalidArgument (field "kind") for an unknown name; also checks the
// limit (1..1000, field "limit").
Result<uint32_t> CheckTranscriptQuery(const TranscriptQuery& query);

// What every engine answers for a session it found while transcripts are
// off (StoreOptions::transcript_max_bytes 0): kNotImplemented (HTTP 501,
// never retried) with the detail reason "transcripts_off", not
// kUnavailable, whose 503 tells clients to retry (decision 0036).
Status TranscriptsOff();

// The entries of `t` after query.after of the kinds in `kinds`, changed
// after query.changed_after_seq, at most query.limit, with the totals.
// The page also stops before its entries' bytes (EntryPageBytes) pass
// max_bytes (StoreOptions::max_page_bytes), with at least one entry;
// `next` is then the last entry returned.
TranscriptPage ReadTranscriptPage(const Transcript& t,
                                  const TranscriptQuery& query, uint32_t kinds,
                                  uint64_t max_bytes);

// What an entry counts against a page's byte cap: its variable-size text.
uint64_t EntryPageBytes(const TranscriptEntry& e);

// Whether a page of `entries` entries and `bytes` takes one more of
// `entry_bytes` (as engine::PageTakes for events): the first always.
inline bool TranscriptPageTakes(size_t entries, uint64_t bytes,
                                uint64_t entry_bytes, uint64_t max_bytes) {
  return entries == 0 ||
         (bytes <= max_bytes && entry_bytes <= max_bytes - bytes);
}

// The lowest resident index (>= t.held_index()) whose entry can have
// changed after `seq`: no entry before the newest one at `seq`, less the
// open-tool window, changes later (the fold's rules, transcript.h). A
// page of the entries changed after `seq` starts there, not at the
// beginning: a live stream's wake-up examines what is new, not the whole
// transcript.
uint64_t FirstChangeableAfter(const Transcript& t, EventSeq seq);

// The public form of one entry: when it is the entry `held` names with at
// least held.bytes of text, only its text from that byte on
// (TranscriptQuery::held_text), the rest never copied.
TranscriptEntry ToPublic(const Entry& e, uint64_t index,
                         const HeldText& held = HeldText{});

}  // namespace acpstore::transcript

#endif  // ACPSTORE_TRANSCRIPT_TRANSCRIPT_PAGE_H_
