// Test helper: a transcript as text, every page and every field, so two
// reads (a store's and a whole fold's, or one before and after eviction)
// compare with one EXPECT_EQ and a readable diff. Test-only; header-only.
//
// Thread-safety: a pure function of what `read` returns. Lifetime: n/a.

#ifndef ACPSTORE_ENGINE_TRANSCRIPT_DUMP_TEST_UTIL_H_
#define ACPSTORE_ENGINE_TRANSCRIPT_DUMP_TEST_UTIL_H_

#include <cstdint>
#include <functional>
#include <string>

#include "acpstore/records.h"
#include "acpstore/result.h"

namespace acpstore::engine {

// Reads pages of `limit` entries through `read` until the last, and prints
// the first page's head (range, completeness, usage, counts by kind) and
// every entry. The first failed read is the result.
inline Result<std::string> DumpTranscript(
    const std::function<Result<TranscriptPage>(const TranscriptQuery&)>& read,
    uint32_t limit) {
  std::string out;
  TranscriptQuery q;
  q.limit = limit;
  for (;;) {
    Result<TranscriptPage> page = read(q);
    if (!page.ok()) return page.error();
    if (q.after == 0) {
      out += "first=" + std::to_string(page->first_index) +
             " end=" + std::to_string(page->end_index) +
             " complete=" + std::to_string(page->complete) +
             " folded=" + std::to_string(page->folded_seq) + "\n";
      for (const auto& [name, n] : page->usage) {
        out += name + "=" + std::to_string(n) + "\n";
      }
      for (const auto& [kind, n] : page->entries_by_kind) {
        out += kind + ":" + std::to_string(n) + "\n";
      }
    }
    for (const TranscriptEntry& e : page->entries) {
      out += std::to_string(e.index) + " " + e.kind + " " + e.id + " " +
             std::to_string(e.first_seq) + "-" + std::to_string(e.last_seq) +
             " " + std::to_string(e.first_at) + "-" +
             std::to_string(e.last_at) + " [" + e.title + "|" + e.tool_kind +
             "|" + e.status + "|" + e.input + "|" + e.fields + "|" +
             std::to_string(e.input_cut) + std::to_string(e.text_cut) +
             std::to_string(e.started) + std::to_string(e.completed) + "] " +
             e.text + "\n";
    }
    if (page->entries.empty() || page->next == q.after) break;
    q.after = page->next;
  }
  return out;
}

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_TRANSCRIPT_DUMP_TEST_UTIL_H_
