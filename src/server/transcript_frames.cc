// Transcript entries as JSON and stream frames: see transcript_frames.h.

#include "server/transcript_frames.h"

#include <algorithm>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "base/time_format.h"

namespace acpstore::server {

void WriteTranscriptEntry(const TranscriptEntry& e, JsonWriter* w) {
  w->BeginObject();
  w->Key("index").Uint(e.index);
  w->Key("kind").String(e.kind);
  w->Key("firstSeq").Uint(e.first_seq);
  w->Key("lastSeq").Uint(e.last_seq);
  w->Key("firstAt").String(base::FormatIso8601(e.first_at));
  w->Key("lastAt").String(base::FormatIso8601(e.last_at));
  if (e.kind == "assistant" || e.kind == "thought") {
    w->Key("text").String(e.text);
    if (!e.id.empty()) w->Key("messageId").String(e.id);
  } else if (e.kind == "tool") {
    w->Key("toolCallId").String(e.id);
    w->Key("title").String(e.title);
    if (!e.tool_kind.empty()) w->Key("toolKind").String(e.tool_kind);
    if (!e.status.empty()) w->Key("status").String(e.status);
    if (!e.input.empty()) {
      // Whole, it is the canonical JSON the event carried; cut, a prefix of
      // that text, sent as a string.
      w->Key("input");
      if (e.input_cut) {
        w->String(e.input);
      } else {
        w->Raw(e.input);
      }
      w->Key("inputTruncated").Bool(e.input_cut);
    }
    w->Key("started").Bool(e.started);
    w->Key("completed").Bool(e.completed);
    if (e.completed) {
      w->Key("result").String(e.text);
      w->Key("resultTruncated").Bool(e.text_cut);
    }
  } else {
    const std::string_view fields =
        e.fields.empty() ? std::string_view("{}") : std::string_view{e.fields};
    w->Key("fields").Raw(fields);
  }
  w->EndObject();
}

namespace {

// Whether the cap dropped entries that events after `seq` made or changed,
// by the first page of changes after `seq`. The entries are created in
// seq order, so every event between `seq` and the first kept entry's
// first seq folded into dropped entries (or into none); after that, only
// a dropped tool's late completion could have changed one, which this
// does not see.
bool MissedDroppedEntries(const TranscriptPage& first_page, EventSeq seq) {
  if (first_page.first_index <= 1) return false;
  if (first_page.first_index == first_page.end_index) {
    return seq < first_page.folded_seq;  // the cap kept nothing
  }
  // The first kept entry changed after `seq` whenever it began after it,
  // so the page holds it then.
  return !first_page.entries.empty() &&
         first_page.entries.front().index == first_page.first_index &&
         first_page.entries.front().first_seq > seq + 1;
}

bool HasText(const TranscriptEntry& e) {
  return e.kind == "assistant" || e.kind == "thought";
}

// Whether `e` is the entry `sent` names, grown (HeldText::Names). The fold
// only appends to such an entry's text and changes nothing else of it but
// lastSeq and lastAt, so the text past sent.bytes is all that changed. A
// read with held_text = `sent` cut `e`'s text at exactly sent.bytes, or
// left it whole.
bool GrewSince(const TranscriptEntry& e, const HeldText& sent) {
  return (e.text_offset == 0 || e.text_offset == sent.bytes) &&
         sent.Names(e.index, e.kind, e.first_seq, e.first_at,
                    e.text_offset + e.text.size());
}

// `event: append`: what `e`'s text gained past the `sent` bytes of it the
// client holds, with the entry's new lastSeq (the frame's id) and lastAt.
void AppendTextFrame(const TranscriptEntry& e, uint64_t sent,
                     std::string* out) {
  const std::string_view added =
      std::string_view{e.text}.substr(sent - e.text_offset);
  JsonWriter w;
  w.BeginObject();
  w.Key("index").Uint(e.index);
  w.Key("lastSeq").Uint(e.last_seq);
  w.Key("lastAt").String(base::FormatIso8601(e.last_at));
  w.Key("text").String(added);
  w.EndObject();
  *out += "id: " + std::to_string(e.last_seq) + "\nevent: append\ndata: ";
  *out += w.Take();
  *out += "\n\n";
}

}  // namespace

Status TranscriptFrames(
    base::FunctionRef<Result<TranscriptPage>(const TranscriptQuery&)> read,
    EventSeq* seq, TranscriptStreamState* state, size_t max_bytes,
    std::string* out, bool* more) {
  *more = false;
  const size_t start = out->size();
  std::vector<TranscriptEntry> changed;
  TranscriptQuery q;
  q.limit = 1000;
  q.changed_after_seq = *seq;
  if (state->text_appends) q.held_text = state->sent;
  std::optional<EventSeq> ceiling;  // the first page's folded_seq
  while (true) {
    Result<TranscriptPage> page = read(q);
    if (!page.ok()) return page.error();
    if (!ceiling) {
      ceiling = page->folded_seq;
      if (MissedDroppedEntries(*page, *seq) &&
          page->first_index > state->told_first_index) {
        state->told_first_index = page->first_index;
        *out += "event: truncated\ndata: {\"firstIndex\":" +
                std::to_string(page->first_index) + "}\n\n";
      }
    }
    for (TranscriptEntry& e : page->entries) {
      // Changed since the first page was read: the next call sends it.
      if (e.last_seq <= *ceiling) changed.push_back(std::move(e));
    }
    q.after = page->next;
    if (page->next + 1 >= page->end_index) break;
  }
  std::sort(changed.begin(), changed.end(),
            [](const TranscriptEntry& a, const TranscriptEntry& b) {
              return a.last_seq < b.last_seq;
            });
  for (const TranscriptEntry& e : changed) {
    if (out->size() - start >= max_bytes) {
      // Each event changes at most one entry, so no entry left has this
      // lastSeq: the next call, from it, sends exactly the rest.
      *more = true;
      return Status::OK();
    }
    if (state->text_appends && GrewSince(e, state->sent)) {
      AppendTextFrame(e, state->sent.bytes, out);
      state->sent.bytes = e.text_offset + e.text.size();
    } else {
      if (e.text_offset != 0) {
        // Never: only the entry `sent` names comes cut, and it grew.
        return Status::Internal(
                   "transcript stream: an entry was read cut at a text "
                   "offset this stream does not hold")
            .With("index", static_cast<int64_t>(e.index));
      }
      JsonWriter w;
      WriteTranscriptEntry(e, &w);
      *out += "id: " + std::to_string(e.last_seq) + "\nevent: entry\ndata: ";
      *out += w.Take();
      *out += "\n\n";
      if (state->text_appends && HasText(e)) {
        state->sent = HeldText{e.index, e.kind, e.first_seq, e.first_at,
                               e.text.size()};
      }
    }
    *seq = std::max(*seq, e.last_seq);
  }
  // Every entry whose change is at or below the ceiling was sent (or has
  // changed again since, past it).
  *seq = std::max(*seq, *ceiling);
  return Status::OK();
}

}  // namespace acpstore::server
