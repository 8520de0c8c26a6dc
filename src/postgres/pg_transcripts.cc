// Transcripts on the postgres engine: see pg_transcripts.h.

#include "postgres/pg_transcripts.h"

#include <algorithm>
#include <map>
#include <utility>
#include <variant>
#include <vector>

#include "engine/state.h"
#include "postgres/pg_rows.h"
#include "transcript/transcript_page.h"

namespace acpstore::postgres {
namespace {

using transcript::Entry;
using transcript::Transcript;

// The head (first row, if any), then the entries a fold may change: the
// newest and the open tools'. The indexes are computed first (an initplan)
// so that they are the primary key's index condition: joined to the head
// row instead, the planner of a small table filtered every entry of the
// session, a cost that grew with the transcript (1.3 ms per append at a
// few hundred entries).
constexpr PgStatement kLoad{
    "tr_load",
    "SELECT 0 AS o, t.head, t.bytes, NULL::bigint AS idx, NULL::bytea AS body, "
    "NULL::bigint AS text_len FROM transcripts t "
    "WHERE t.tenant_id = $1 AND t.session_id = $2 "
    "UNION ALL SELECT 1, NULL, NULL, x.idx, x.body, x.text_len "
    "FROM transcript_entries x WHERE x.tenant_id = $1 AND x.session_id = $2 "
    "AND x.idx = ANY(ARRAY(SELECT unnest(t.open_idx || (t.end_index - 1)) "
    "FROM transcripts t WHERE t.tenant_id = $1 AND t.session_id = $2)) "
    "ORDER BY 1"};
// Bytes of entries the cap drops without having loaded them.
constexpr PgStatement kEntryBytes{
    "tr_entry_bytes",
    "SELECT idx, bytes FROM transcript_entries WHERE tenant_id = $1 AND "
    "session_id = $2 AND idx >= $3 ORDER BY idx LIMIT 1000"};
// A rebuild (no head row yet): the retained events before the append, the
// folded types' rows, and how many are retained at all.
constexpr PgStatement kRetainedFolded{
    "tr_retained",
    "SELECT seq, event_type, occurred_at, payload FROM events WHERE "
    "tenant_id = $1 AND session_id = $2 AND seq < $3 AND "
    "event_type = ANY($4::text[]) ORDER BY seq"};
constexpr PgStatement kRetainedBefore{
    "tr_retained_n",
    "SELECT count(*) FROM events WHERE tenant_id = $1 AND session_id = $2 "
    "AND seq < $3"};
constexpr PgStatement kUpsertEntry{
    "tr_ups_entry",
    "INSERT INTO transcript_entries (tenant_id, session_id, idx, kind, "
    "last_seq, bytes, text_len, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
    "ON CONFLICT (tenant_id, session_id, idx) DO UPDATE SET "
    "kind = EXCLUDED.kind, last_seq = EXCLUDED.last_seq, "
    "bytes = EXCLUDED.bytes, text_len = EXCLUDED.text_len, "
    "body = EXCLUDED.body"};
// A piece of an entry's text. A tool's result replaces what it had (none:
// an open tool has no result), a message's delta adds a piece.
constexpr PgStatement kInsertPiece{
    "tr_ins_piece",
    "INSERT INTO transcript_text (tenant_id, session_id, idx, part, piece) "
    "VALUES ($1, $2, $3, $4, $5)"};
constexpr PgStatement kDropEntries{
    "tr_drop_entries",
    "WITH t AS (DELETE FROM transcript_text WHERE tenant_id = $1 AND "
    "session_id = $2 AND idx < $3) "
    "DELETE FROM transcript_entries WHERE tenant_id = $1 AND "
    "session_id = $2 AND idx < $3"};
constexpr PgStatement kUpsertHead{
    "tr_ups_head",
    "INSERT INTO transcripts (tenant_id, session_id, first_index, "
    "end_index, bytes, complete, open_idx, head) "
    "VALUES ($1, $2, $3, $4, $5, $6::boolean, $7::bigint[], $8) "
    "ON CONFLICT (tenant_id, session_id) DO UPDATE SET "
    "first_index = EXCLUDED.first_index, end_index = EXCLUDED.end_index, "
    "bytes = EXCLUDED.bytes, complete = EXCLUDED.complete, "
    "open_idx = EXCLUDED.open_idx, head = EXCLUDED.head"};
// A page: the session (scope, last seq), the head, and up to $6 entries
// from index $3 (clamped to the first kept) of the kinds $4 changed after
// seq $5, examining at most transcript::kMaxExaminedPerPage indexes; one
// statement, one snapshot.
constexpr PgStatement kReadPage{
    "tr_read",
    "SELECT s.record, s.incarnation, s.first_seq, s.last_seq, s.retained, "
    "s.payload_bytes, t.head, e.idx, e.body, e.text FROM sessions s "
    "LEFT JOIN transcripts t ON t.tenant_id = s.tenant_id AND "
    "t.session_id = s.session_id "
    "LEFT JOIN LATERAL (SELECT x.idx, x.body, (SELECT string_agg(p.piece, "
    "''::bytea ORDER BY p.part) FROM transcript_text p WHERE "
    "p.tenant_id = x.tenant_id AND p.session_id = x.session_id AND "
    "p.idx = x.idx) AS text FROM transcript_entries x "
    "WHERE x.tenant_id = s.tenant_id AND x.session_id = s.session_id AND "
    "x.idx >= GREATEST($3::bigint, t.first_index) AND "
    "x.idx < GREATEST($3::bigint, t.first_index) + $7::bigint AND "
    "x.kind = ANY($4::smallint[]) AND x.last_seq > $5::bigint "
    "ORDER BY x.idx LIMIT $6) e ON true "
    "WHERE s.tenant_id = $1 AND s.session_id = $2 ORDER BY e.idx"};
// The common case, one entry touched and none dropped: the entry and the
// head in one statement.
constexpr PgStatement kUpsertEntryAndHead{
    "tr_ups_both",
    "WITH e AS (INSERT INTO transcript_entries (tenant_id, session_id, idx, "
    "kind, last_seq, bytes, text_len, body) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
    "ON CONFLICT (tenant_id, session_id, idx) DO UPDATE SET "
    "kind = EXCLUDED.kind, last_seq = EXCLUDED.last_seq, "
    "bytes = EXCLUDED.bytes, text_len = EXCLUDED.text_len, "
    "body = EXCLUDED.body) "
    "INSERT INTO transcripts (tenant_id, session_id, first_index, "
    "end_index, bytes, complete, open_idx, head) "
    "VALUES ($1, $2, $9, $10, $11, $12::boolean, $13::bigint[], $14) "
    "ON CONFLICT (tenant_id, session_id) DO UPDATE SET "
    "first_index = EXCLUDED.first_index, end_index = EXCLUDED.end_index, "
    "bytes = EXCLUDED.bytes, complete = EXCLUDED.complete, "
    "open_idx = EXCLUDED.open_idx, head = EXCLUDED.head"};
constexpr PgStatement kTotals{
    "tr_totals",
    "SELECT coalesce(sum(bytes), 0), count(*) FILTER (WHERE NOT complete) "
    "FROM transcripts"};

constexpr const char* kFoldedTypes =
    "{message.delta,thinking.delta,tool.started,tool.completed,"
    "approval.requested,session.error,turn.completed,usage.updated}";

std::string IntArray(const std::vector<uint64_t>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += std::to_string(items[i]);
  }
  out.push_back('}');
  return out;
}

Status DecodeBody(std::string_view body, Entry* e) {
  ACPSTORE_RETURN_IF_ERROR(Transcript::DecodeEntry(&body, e));
  if (!body.empty()) {
    return Status::Corruption("trailing bytes after a transcript entry");
  }
  return Status::OK();
}

// `e`'s text is what this append adds to the `stored` bytes of text
// already in transcript_text (all of it for an entry new in this append).
void EntryParams(const std::string& tenant, const std::string& session,
                 uint64_t index, const Entry& e, uint64_t stored,
                 std::string* body, PgParams* p) {
  Entry textless = e;
  textless.text.clear();
  Transcript::EncodeEntry(textless, body);
  p->Text(tenant)
      .Text(session)
      .Int(static_cast<int64_t>(index))
      .Int(static_cast<int>(e.kind))
      .Int(static_cast<int64_t>(e.last_seq))
      .Int(static_cast<int64_t>(e.Bytes() + stored))
      .Int(static_cast<int64_t>(e.text.size() + stored))
      .Bytes(*body);
}

Status WritePiece(PgConn& conn, const std::string& tenant,
                  const std::string& session, uint64_t index, EventSeq part,
                  const Entry& e) {
  if (e.text.empty()) return Status::OK();
  return conn.Send(kInsertPiece, PgParams()
                                     .Text(tenant)
                                     .Text(session)
                                     .Int(static_cast<int64_t>(index))
                                     .Int(static_cast<int64_t>(part))
                                     .Bytes(e.text));
}

void HeadParams(const Transcript& t, std::string* head, PgParams* p) {
  t.EncodeHead(head);
  p->Int(static_cast<int64_t>(t.first_index()))
      .Int(static_cast<int64_t>(t.end_index()))
      .Int(static_cast<int64_t>(t.bytes()))
      .Text(t.complete() ? "true" : "false")
      .Text(IntArray(t.open_tool_indexes()))
      .Bytes(*head);
}

Status WriteEntry(PgConn& conn, const std::string& tenant,
                  const std::string& session, uint64_t index, const Entry& e,
                  uint64_t stored, EventSeq part) {
  std::string body;
  PgParams p;
  EntryParams(tenant, session, index, e, stored, &body, &p);
  ACPSTORE_RETURN_IF_ERROR(conn.Send(kUpsertEntry, p));
  return WritePiece(conn, tenant, session, index, part, e);
}

// A transcript with no head row: rebuilt from the retained events before
// `before` (incomplete if some of those are gone).
Status Rebuild(PgConn& conn, const std::string& tenant,
               const std::string& session, EventSeq before,
               const transcript::Limits& limits, Transcript* t) {
  *t = Transcript();
  if (before <= 1) return Status::OK();
  const int64_t b = static_cast<int64_t>(before);
  ACPSTORE_ASSIGN_OR_RETURN(
      PgResult n,
      conn.Exec(kRetainedBefore, PgParams().Text(tenant).Text(session).Int(b)));
  ACPSTORE_ASSIGN_OR_RETURN(
      PgResult r, conn.Exec(kRetainedFolded, PgParams()
                                                 .Text(tenant)
                                                 .Text(session)
                                                 .Int(b)
                                                 .Text(kFoldedTypes)));
  for (int i = 0; i < r.rows(); ++i) {
    transcript::EventView v;
    v.seq = static_cast<EventSeq>(r.Int(i, 0));
    v.event_type = r.Text(i, 1);
    v.occurred_at = r.Int(i, 2);
    v.payload = r.Text(i, 3);
    t->Fold(v, limits);
  }
  if (static_cast<uint64_t>(n.Int(0, 0)) != before - 1) t->set_incomplete();
  return Status::OK();
}

Status FoldOne(PgConn& conn, const record::AppendEventsOp& op,
               const transcript::Limits& limits) {
  const std::string& tenant = op.tenant_id;
  const std::string& session = op.session_id;
  const EventSeq first_seq = op.events.front().seq;
  bool folds = false;
  for (const Event& e : op.events) {
    if (transcript::IsFolded(e.event_type)) {
      folds = true;
      break;
    }
  }
  Transcript t;
  bool fresh = true;  // no rows yet: write every entry
  Status lookup_error;
  std::map<uint64_t, uint64_t> known_bytes;  // the cap's lookups
  std::map<uint64_t, uint64_t> stored_text;  // loaded entries' text_len
  if (first_seq == 1) {
    // The session's first append: no transcript yet (a deleted session's
    // went with it). Always create the head, so a later append that folds
    // can tell this session from one that predates transcripts.
  } else if (!folds) {
    return Status::OK();  // nothing changes but folded_seq (see the header)
  } else {
    ACPSTORE_ASSIGN_OR_RETURN(
        PgResult r, conn.Exec(kLoad, PgParams().Text(tenant).Text(session)));
    if (r.rows() == 0 || r.Int(0, 0) != 0) {
      ACPSTORE_RETURN_IF_ERROR(
          Rebuild(conn, tenant, session, first_seq, limits, &t));
    } else {
      fresh = false;
      std::vector<std::pair<uint64_t, Entry>> loaded;
      for (int i = 1; i < r.rows(); ++i) {
        Entry e;
        ACPSTORE_RETURN_IF_ERROR(DecodeBody(r.Bytes(i, 4), &e));
        if (!e.text.empty()) {
          return Status::Corruption("a transcript entry row holds its text");
        }
        stored_text[static_cast<uint64_t>(r.Int(i, 3))] =
            static_cast<uint64_t>(r.Int(i, 5));
        loaded.emplace_back(static_cast<uint64_t>(r.Int(i, 3)), std::move(e));
      }
      auto unloaded_bytes = [&](uint64_t index) -> uint64_t {
        auto it = known_bytes.find(index);
        if (it == known_bytes.end()) {
          Result<PgResult> b =
              conn.Exec(kEntryBytes, PgParams()
                                         .Text(tenant)
                                         .Text(session)
                                         .Int(static_cast<int64_t>(index)));
          if (!b.ok()) {
            if (lookup_error.ok()) lookup_error = b.status();
            return 0;
          }
          for (int i = 0; i < b->rows(); ++i) {
            known_bytes[static_cast<uint64_t>(b->Int(i, 0))] =
                static_cast<uint64_t>(b->Int(i, 1));
          }
          it = known_bytes.find(index);
          if (it == known_bytes.end()) return 0;
        }
        return it->second;
      };
      ACPSTORE_RETURN_IF_ERROR(Transcript::DecodePartial(
          r.Bytes(0, 1), static_cast<uint64_t>(r.Int(0, 2)), std::move(loaded),
          unloaded_bytes, &t));
      for (const auto& [index, n] : stored_text) t.set_hidden_bytes(index, n);
    }
  }
  const uint64_t first_before = t.first_index();
  auto stored = [&](uint64_t index) -> uint64_t {
    auto it = stored_text.find(index);
    return it == stored_text.end() ? 0 : it->second;
  };
  for (const Event& e : op.events) {
    t.Fold(transcript::EventView{.seq = e.seq,
                                 .event_type = e.event_type,
                                 .occurred_at = e.occurred_at,
                                 .payload = e.payload},
           limits);
  }
  ACPSTORE_RETURN_IF_ERROR(lookup_error);

  // Entries: all of a fresh transcript, else those the fold touched and
  // the cap kept; then the head.
  if (fresh) {
    for (uint64_t i = t.first_index(); i < t.end_index(); ++i) {
      ACPSTORE_RETURN_IF_ERROR(
          WriteEntry(conn, tenant, session, i, t.at(i), 0, first_seq));
    }
  } else {
    std::vector<uint64_t> touched = t.touched();
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    if (touched.size() == 1 && touched[0] >= t.first_index() &&
        t.first_index() == first_before) {
      // PgParams keeps pointers into these strings until sent.
      std::string body, head;
      PgParams p;
      const Entry& e = t.at(touched[0]);
      EntryParams(tenant, session, touched[0], e, stored(touched[0]), &body,
                  &p);
      HeadParams(t, &head, &p);
      ACPSTORE_RETURN_IF_ERROR(conn.Send(kUpsertEntryAndHead, p));
      return WritePiece(conn, tenant, session, touched[0], first_seq, e);
    }
    for (uint64_t i : touched) {
      if (i < t.first_index()) continue;
      ACPSTORE_RETURN_IF_ERROR(WriteEntry(conn, tenant, session, i, t.at(i),
                                          stored(i), first_seq));
    }
    if (t.first_index() > first_before) {
      ACPSTORE_RETURN_IF_ERROR(conn.Send(
          kDropEntries, PgParams().Text(tenant).Text(session).Int(
                            static_cast<int64_t>(t.first_index()))));
    }
  }
  std::string head;
  PgParams p;
  p.Text(tenant).Text(session);
  HeadParams(t, &head, &p);
  return conn.Send(kUpsertHead, p);
}

}  // namespace

Status FoldTranscripts(PgConn& conn, const record::Mutation& m,
                       const transcript::Limits& limits) {
  if (limits.max_bytes == 0) return Status::OK();
  for (const record::MutationOp& op : m.ops) {
    const auto* a = std::get_if<record::AppendEventsOp>(&op);
    if (a == nullptr || a->events.empty()) continue;
    ACPSTORE_RETURN_IF_ERROR(FoldOne(conn, *a, limits));
  }
  return Status::OK();
}

Status PrefetchTranscript(PgConn& conn, const std::string& tenant_id,
                          const std::string& session_id) {
  return conn.Prefetch(kLoad, PgParams().Text(tenant_id).Text(session_id));
}

Result<TranscriptPage> ReadTranscriptRows(PgConn& conn, const Scope& scope,
                                          std::string_view session_id,
                                          const TranscriptQuery& query,
                                          uint32_t kinds,
                                          const transcript::Limits& limits) {
  std::vector<uint64_t> kind_list;
  for (uint8_t k = 1; k <= transcript::kMaxEntryKind; ++k) {
    if ((kinds & (1u << (k - 1))) != 0) kind_list.push_back(k);
  }
  const uint64_t start = query.after + 1;
  ACPSTORE_ASSIGN_OR_RETURN(
      PgResult r,
      conn.Exec(kReadPage,
                PgParams()
                    .Text(scope.tenant_id)
                    .Text(session_id)
                    .Int(static_cast<int64_t>(start))
                    .Text(IntArray(kind_list))
                    .Int(static_cast<int64_t>(query.changed_after_seq))
                    .Int(query.limit)
                    .Int(static_cast<int64_t>(
                        transcript::kMaxExaminedPerPage))));
  auto not_found = [&] {
    return Status::NotFound("session not found").With("sessionId", session_id);
  };
  if (r.rows() == 0) return not_found();
  ACPSTORE_ASSIGN_OR_RETURN(SessionRow row, ParseSessionRow(r, 0, 0));
  if (!engine::ScopeCanSee(scope, row.session.tenant_id,
                           row.session.owner_key_id)) {
    return not_found();
  }
  // No head row but events (written before schema version 4, or while
  // transcripts were off): the page comes from the retained events, folded
  // here and not stored (the session's next folded append stores them).
  if (r.IsNull(0, 6) && row.session.events.last_seq > 0) {
    Transcript rebuilt;
    ACPSTORE_RETURN_IF_ERROR(Rebuild(conn, scope.tenant_id,
                                     std::string(session_id),
                                     row.session.events.last_seq + 1,
                                     limits, &rebuilt));
    TranscriptPage page = transcript::ReadTranscriptPage(rebuilt, query, kinds);
    page.folded_seq = row.session.events.last_seq;
    return page;
  }
  // The head alone, as an empty transcript with its totals; the page's
  // entries come from the rows.
  Transcript t;
  if (!r.IsNull(0, 6)) {
    ACPSTORE_RETURN_IF_ERROR(Transcript::DecodeHead(r.Bytes(0, 6), &t));
  }
  const uint64_t first = t.first_index();
  const uint64_t end = first + (r.IsNull(0, 6) ? 0 : t.expected_entries());
  // Totals as ReadTranscriptPage gives them, from an empty transcript with
  // this head's counters.
  TranscriptQuery none = query;
  none.after = ~uint64_t{0} - 1;
  TranscriptPage page = transcript::ReadTranscriptPage(t, none, kinds);
  page.first_index = first;
  page.end_index = end;
  page.folded_seq = std::max<EventSeq>(t.folded_seq(),
                                       row.session.events.last_seq);
  page.next = query.after;
  for (int i = 0; i < r.rows(); ++i) {
    if (r.IsNull(i, 7)) continue;
    Entry e;
    ACPSTORE_RETURN_IF_ERROR(DecodeBody(r.Bytes(i, 8), &e));
    if (!r.IsNull(i, 9)) e.text = r.Bytes(i, 9);
    const uint64_t index = static_cast<uint64_t>(r.Int(i, 7));
    page.entries.push_back(transcript::ToPublic(e, index));
  }
  // `next`: the last index examined, as ReadTranscriptPage counts it.
  const uint64_t from = std::max(start, first);
  const uint64_t stop =
      std::min(end, from + transcript::kMaxExaminedPerPage);
  if (page.entries.size() >= query.limit) {
    page.next = page.entries.back().index;
  } else if (from < stop) {
    page.next = stop - 1;
  }
  return page;
}

Result<TranscriptTotals> ReadTranscriptTotals(PgConn& conn) {
  ACPSTORE_ASSIGN_OR_RETURN(PgResult r, conn.Exec(kTotals, PgParams()));
  TranscriptTotals out;
  out.bytes = static_cast<uint64_t>(r.Int(0, 0));
  out.incomplete = static_cast<uint64_t>(r.Int(0, 1));
  return out;
}

}  // namespace acpstore::postgres
