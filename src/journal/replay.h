// ReplayJournal is recovery's view of the whole journal: it reads every
// segment from a starting position (the one a snapshot covers) to the end,
// hands each record to a visitor, and reports where the journal really
// ends, so JournalWriter::Open can cut a torn tail off and continue there.
//
// Checks beyond each segment's own (JournalReader): segments from the
// starting one on must be consecutive, and the starting position must lie
// inside the journal. Only the newest segment may have a torn tail.
//
// Thread-safety: none needed; runs before the writer starts.

#ifndef ACPSTORE_JOURNAL_REPLAY_H_
#define ACPSTORE_JOURNAL_REPLAY_H_

#include <cstdint>
#include <functional>
#include <string>

#include "acpstore/result.h"
#include "io/file_system.h"
#include "journal/journal_reader.h"
#include "journal/position.h"

namespace acpstore::journal {

struct ReplayResult {
  // Just past the last valid record: pass it to JournalWriter::Open.
  // Equals `from` when no record follows it.
  JournalPosition end;
  uint64_t records = 0;     // records visited
  uint64_t segments = 0;    // segment files read
  uint64_t torn_bytes = 0;  // torn tail found after `end` (to be truncated)
};

// Called once per data record in journal order. A failed Status stops the
// replay and is returned as is.
using RecordVisitor = std::function<Status(const JournalRecord&)>;

// Replays the journal in `dir` from `from` ({0, 0}: from the beginning).
// A missing `dir` is an empty journal when `from` is {0, 0}.
// kCorruption names the file and offset of damage that is not a torn tail,
// a missing segment (`from`'s own included: a snapshot covers up to a
// segment that is never reclaimed), or a `from` past the end of its
// segment.
Result<ReplayResult> ReplayJournal(io::FileSystem& fs, const std::string& dir,
                                   JournalPosition from,
                                   const RecordVisitor& visit);

}  // namespace acpstore::journal

#endif  // ACPSTORE_JOURNAL_REPLAY_H_
