// Transcripts on the postgres engine: see pg_transcripts.h.

#include "postgres/pg_transcripts.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <utility>
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
// The tail: the events of folded types after the session's folded_seq
// (the primary key's range, filtered by type).
constexpr PgStatement kTail{
    "tr_tail",
    "SELECT seq, event_type, occurred_at, payload FROM events WHERE "
    "tenant_id = $1 AND session_id = $2 AND seq > (SELECT folded_seq FROM "
    "sessions WHERE tenant_id = $1 AND session_id = $2) AND "
    "event_type = ANY($3::text[]) ORDER BY seq"};
// The checkpoint's columns and the stream's counters (first_seq: the first
// retained seq, last_seq + 1 when none is); the row version's xmin and
// this transaction's xid, 32-bit as the SessionCache keeps them; the
// unfolded count (a checkpoint named if due).
constexpr PgStatement kCheckpointRow{
    "tr_ck_row",
    "SELECT folded_seq, first_seq, last_seq, xmin::text::bigint, "
    "txid_current() % 4294967296, unfolded FROM sessions WHERE "
    "tenant_id = $1 AND session_id = $2"};
constexpr PgStatement kCheckpointed{
    "tr_ck_done",
    "UPDATE sessions SET folded_seq = last_seq, unfolded = 0 WHERE "
    "tenant_id = $1 AND session_id = $2"};
// Bytes of entries the cap drops without having loaded them.
constexpr PgStatement kEntryBytes{
    "tr_entry_bytes",
    "SELECT idx, bytes FROM transcript_entries WHERE tenant_id = $1 AND "
    "session_id = $2 AND idx >= $3 ORDER BY idx LIMIT 1000"};
constexpr PgStatement kDropEntries{
    "tr_drop_entries",
    "WITH t AS (DELETE FROM transcript_text WHERE tenant_id = $1 AND "
    "session_id = $2 AND idx < $3) "
    "DELETE FROM transcript_entries WHERE tenant_id = $1 AND "
    "session_id = $2 AND idx < $3"};
// A read's session: scope, counters and folded_seq.
constexpr PgStatement kReadSession{
    "tr_read_session",
    "SELECT s.record, s.incarnation, s.first_seq, s.last_seq, s.retained, "
    "s.payload_bytes, s.owner_key_id, s.status, s.updated_at, s.ended_at, "
    "s.tenant_id, s.session_id, s.folded_seq "
    "FROM sessions s WHERE s.tenant_id = $1 "
    "AND s.session_id = $2"};
static_assert(SelectsColumns(kReadSession.sql, kSessionColumns));
// A page's entry rows: indexes [$3, $4) of the kinds $5 changed after seq
// $6, and whatever the tail changed ($7, laid over by the caller), at most
// $8, each with its text (its pieces in order).
constexpr PgStatement kReadRows{
    "tr_read_rows",
    "SELECT x.idx, x.body, (SELECT string_agg(p.piece, ''::bytea ORDER BY "
    "p.part) FROM transcript_text p WHERE p.tenant_id = x.tenant_id AND "
    "p.session_id = x.session_id AND p.idx = x.idx) AS text "
    "FROM transcript_entries x WHERE x.tenant_id = $1 AND "
    "x.session_id = $2 AND x.idx >= $3::bigint AND x.idx < $4::bigint AND "
    "((x.kind = ANY($5::smallint[]) AND x.last_seq > $6::bigint) OR "
    "x.idx = ANY($7::bigint[])) ORDER BY x.idx LIMIT $8"};
// A checkpoint's writes in one statement, whatever the number of entries
// it touched: the entries' rows upserted from arrays ($3-$8: index, kind,
// last seq, Entry::Bytes, text length, body; one element per entry), the
// pieces of text it added ($9: the part, the seq of the tail's first
// event; $10-$11: index, piece), and the head. One statement per entry
// and piece cost PostgreSQL ~10-20 us each in executor start-up and
// protocol, ~180 of them per checkpoint of tool events.
constexpr PgStatement kWriteCheckpoint{
    "tr_write",
    "WITH e AS (INSERT INTO transcript_entries (tenant_id, session_id, idx, "
    "kind, last_seq, bytes, text_len, body) SELECT $1::text, $2::text, u.idx, "
    "u.kind, u.last_seq, u.bytes, u.text_len, u.body FROM unnest("
    "$3::bigint[], $4::smallint[], $5::bigint[], $6::bigint[], $7::bigint[], "
    "$8::bytea[]) AS u(idx, kind, last_seq, bytes, text_len, body) "
    "ON CONFLICT (tenant_id, session_id, idx) DO UPDATE SET "
    "kind = EXCLUDED.kind, last_seq = EXCLUDED.last_seq, "
    "bytes = EXCLUDED.bytes, text_len = EXCLUDED.text_len, "
    "body = EXCLUDED.body), "
    "p AS (INSERT INTO transcript_text (tenant_id, session_id, idx, part, "
    "piece) SELECT $1::text, $2::text, u.idx, $9::bigint, u.piece FROM "
    "unnest($10::bigint[], $11::bytea[]) AS u(idx, piece)) "
    "INSERT INTO transcripts (tenant_id, session_id, first_index, "
    "end_index, bytes, complete, open_idx, head) "
    "VALUES ($1::text, $2::text, $12, $13, $14, $15::boolean, $16::bigint[], "
    "$17) ON CONFLICT (tenant_id, session_id) DO UPDATE SET "
    "first_index = EXCLUDED.first_index, end_index = EXCLUDED.end_index, "
    "bytes = EXCLUDED.bytes, complete = EXCLUDED.complete, "
    "open_idx = EXCLUDED.open_idx, head = EXCLUDED.head"};
constexpr PgStatement kTotals{
    "tr_totals",
    "SELECT coalesce(sum(bytes), 0), count(*) FILTER (WHERE NOT complete) "
    "FROM transcripts"};

// The types transcript::IsFolded accepts: a tail fold reads only these.
constexpr const char* kFoldedTypes =
    "{message.delta,thinking.delta,tool.started,tool.completed,"
    "approval.requested,session.error,turn.completed,usage.updated,"
    "acpstore.import.placeholder}";

std::string IntArray(const std::vector<uint64_t>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += std::to_string(items[i]);
  }
  out.push_back('}');
  return out;
}

PgParams SessionKey(std::string_view tenant, std::string_view session) {
  PgParams p;
  p.Text(tenant).Text(session);
  return p;
}
PgParams TailParams(std::string_view tenant, std::string_view session) {
  PgParams p;
  p.Text(tenant).Text(session).Text(kFoldedTypes);
  return p;
}

Status DecodeBody(std::string_view body, Entry* e) {
  ACPSTORE_RETURN_IF_ERROR(Transcript::DecodeEntry(&body, e));
  if (!body.empty()) {
    return Status::Corruption("trailing bytes after a transcript entry");
  }
  return Status::OK();
}

// The transcript as of now: the checkpoint (partial, or whole when the
// session has no head row yet) with the tail folded onto it.
struct Current {
  Transcript t;
  // No head row: `t` holds every entry, with its text, and none has a row.
  bool fresh = true;
  // The checkpoint's range, before the tail.
  uint64_t first_before = 1;
  uint64_t end_before = 1;
  // Loaded entries' text length in transcript_text (their text in `t` is
  // only what the tail added).
  std::map<uint64_t, uint64_t> stored_text;
  // The seq of the first folded tail event (0: empty tail).
  EventSeq tail_first = 0;
};

// A stored transcript checkpoint as a fold needs it (kLoad's rows): the
// head row (none before the first checkpoint), the entries a fold can
// change (the newest and the open tools', without their text) and each
// one's stored text length.
struct StoredCheckpoint {
  bool has_head = false;
  std::string head;    // Transcript::EncodeHead
  uint64_t bytes = 0;  // the head row's `bytes`: Transcript::bytes()
  std::vector<std::pair<uint64_t, Entry>> entries;
  std::map<uint64_t, uint64_t> stored_text;  // index -> text_len
};

// kLoad's rows as a StoredCheckpoint (no head row: has_head false).
Result<StoredCheckpoint> ParseStored(const PgResult& load) {
  StoredCheckpoint out;
  if (load.rows() == 0 || load.Int(0, 0) != 0) return out;
  out.has_head = true;
  out.head = load.Bytes(0, 1);
  out.bytes = static_cast<uint64_t>(load.Int(0, 2));
  for (int i = 1; i < load.rows(); ++i) {
    Entry e;
    ACPSTORE_RETURN_IF_ERROR(DecodeBody(load.Bytes(i, 4), &e));
    if (!e.text.empty()) {
      return Status::Corruption("a transcript entry row holds its text");
    }
    const auto index = static_cast<uint64_t>(load.Int(i, 3));
    out.stored_text[index] = static_cast<uint64_t>(load.Int(i, 5));
    out.entries.emplace_back(index, std::move(e));
  }
  return out;
}

// kTail's rows as the fold reads them (views into `tail`). A row whose
// payload is not valid JSON (damage: a hand edit, a bad restore; SPEC §10)
// is left out and counted in *damaged: the fold's scans assume JSON the
// server accepted, and a transcript folded from damage would present a
// guess as the conversation. Its caller marks the transcript incomplete.
std::vector<transcript::EventView> TailViews(const PgResult& tail,
                                             size_t* damaged) {
  std::vector<transcript::EventView> out;
  out.reserve(static_cast<size_t>(tail.rows()));
  for (int i = 0; i < tail.rows(); ++i) {
    const std::string_view payload = tail.Text(i, 3);
    if (!IsValidStoredPayload(payload)) {
      ++*damaged;
      continue;
    }
    out.push_back({.seq = static_cast<EventSeq>(tail.Int(i, 0)),
                   .event_type = tail.Text(i, 1),
                   .occurred_at = tail.Int(i, 2),
                   .payload = payload});
  }
  return out;
}

// Builds Current from a stored checkpoint (read by kLoad) and the tail
// (kTail's rows). `lost`: events after the checkpoint are gone unfolded;
// the transcript is then incomplete, as it is when a tail row is damaged
// (TailViews). Entries the cap drops unloaded have their bytes looked up
// on `conn`.
Status BuildCurrent(PgConn& conn, const std::string& tenant,
                    const std::string& session, StoredCheckpoint stored,
                    const PgResult& tail_rows, bool lost,
                    const transcript::Limits& limits, Current* out) {
  size_t damaged = 0;
  const std::vector<transcript::EventView> tail = TailViews(tail_rows, &damaged);
  // Outlives this call inside out->t (never called after the fold).
  struct Lookup {
    std::map<uint64_t, uint64_t> known;
    Status error;
  };
  std::shared_ptr<Lookup> lookup;  // set when a checkpoint is loaded
  if (stored.has_head) {
    out->fresh = false;
    out->stored_text = std::move(stored.stored_text);
    lookup = std::make_shared<Lookup>();
    PgConn* c = &conn;
    auto unloaded_bytes = [c, lookup, tenant,
                           session](uint64_t index) -> uint64_t {
      auto it = lookup->known.find(index);
      if (it == lookup->known.end()) {
        Result<PgResult> b =
            c->Exec(kEntryBytes, PgParams().Text(tenant).Text(session).Int(
                                     static_cast<int64_t>(index)));
        if (!b.ok()) {
          if (lookup->error.ok()) lookup->error = b.status();
          return 0;
        }
        for (int i = 0; i < b->rows(); ++i) {
          lookup->known[static_cast<uint64_t>(b->Int(i, 0))] =
              static_cast<uint64_t>(b->Int(i, 1));
        }
        it = lookup->known.find(index);
        if (it == lookup->known.end()) return 0;
      }
      return it->second;
    };
    ACPSTORE_RETURN_IF_ERROR(Transcript::DecodePartial(
        stored.head, stored.bytes, std::move(stored.entries), unloaded_bytes,
        &out->t));
    for (const auto& [index, n] : out->stored_text) {
      out->t.set_hidden_bytes(index, n);
    }
    out->first_before = out->t.first_index();
    out->end_before = out->t.end_index();
  } else {
    out->fresh = true;
    out->t = Transcript();
  }
  if (lost || damaged > 0) out->t.set_incomplete();
  for (const transcript::EventView& e : tail) out->t.Fold(e, limits);
  if (lookup != nullptr) {
    ACPSTORE_RETURN_IF_ERROR(lookup->error);
  }
  if (!tail.empty()) out->tail_first = tail.front().seq;
  return Status::OK();
}

// Events after the checkpoint that are gone without having been folded.
bool Lost(EventSeq folded_seq, EventSeq first_seq) {
  return first_seq > folded_seq + 1;
}

// The rows one checkpoint writes, as kWriteCheckpoint's arrays.
class CheckpointRows {
 public:
  // Entry `index` as `e` now is; its text is what this checkpoint adds to
  // the `stored` bytes of text already in transcript_text (all of it for
  // an entry new in its tail).
  void Add(uint64_t index, const Entry& e, uint64_t stored) {
    index_.push_back(index);
    kind_.push_back(static_cast<uint64_t>(e.kind));
    last_seq_.push_back(e.last_seq);
    bytes_.push_back(e.Bytes() + stored);
    text_len_.push_back(e.text.size() + stored);
    Transcript::EncodeEntryWithoutText(e, &bodies_.emplace_back());
    if (!e.text.empty()) {
      piece_index_.push_back(index);
      pieces_.push_back(e.text);
    }
  }

  // The statement's parameters: these rows, the pieces' part and `t`'s
  // head.
  PgParams Params(const std::string& tenant, const std::string& session,
                  EventSeq part, const Transcript& t) const {
    std::string head;
    t.EncodeHead(&head);
    PgParams p;
    p.Text(tenant)
        .Text(session)
        .Text(IntArray(index_))
        .Text(IntArray(kind_))
        .Text(IntArray(last_seq_))
        .Text(IntArray(bytes_))
        .Text(IntArray(text_len_))
        .BytesArray(bodies_)
        .Int(static_cast<int64_t>(part))
        .Text(IntArray(piece_index_))
        .BytesArray(pieces_)
        .Int(static_cast<int64_t>(t.first_index()))
        .Int(static_cast<int64_t>(t.end_index()))
        .Int(static_cast<int64_t>(t.bytes()))
        .Text(t.complete() ? "true" : "false")
        .Text(IntArray(t.open_tool_indexes()))
        .Bytes(head);
    return p;
  }

 private:
  std::vector<uint64_t> index_, kind_, last_seq_, bytes_, text_len_;
  std::vector<std::string> bodies_;
  std::vector<uint64_t> piece_index_;
  std::vector<std::string> pieces_;
};

// Writes `cur` back (queued): every entry of a fresh transcript, else
// those the tail touched and the cap kept, and the head, in one
// statement; the rows the cap dropped deleted first.
Status WriteCurrent(PgConn& conn, const std::string& tenant,
                    const std::string& session, const Current& cur) {
  const Transcript& t = cur.t;
  CheckpointRows rows;
  if (cur.fresh) {
    for (uint64_t i = t.first_index(); i < t.end_index(); ++i) {
      rows.Add(i, t.at(i), 0);
    }
  } else {
    std::vector<uint64_t> touched = t.touched();
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    for (uint64_t i : touched) {
      if (i < t.first_index()) continue;
      auto it = cur.stored_text.find(i);
      rows.Add(i, t.at(i), it == cur.stored_text.end() ? 0 : it->second);
    }
    if (t.first_index() > cur.first_before) {
      ACPSTORE_RETURN_IF_ERROR(
          conn.Send(kDropEntries, PgParams().Text(tenant).Text(session).Int(
                                      static_cast<int64_t>(t.first_index()))));
    }
  }
  return conn.Send(kWriteCheckpoint,
                   rows.Params(tenant, session, cur.tail_first, t));
}

}  // namespace

int64_t CountFolded(const std::vector<Event>& events) {
  int64_t n = 0;
  for (const Event& e : events) {
    if (transcript::IsFolded(e.event_type)) ++n;
  }
  return n;
}

Status CheckpointTranscript(PgConn& conn, const std::string& tenant_id,
                            const std::string& session_id, EventSeq through,
                            const transcript::Limits& limits,
                            CheckpointResult* result, uint64_t min_unfolded) {
  // One round trip: the row, the checkpoint's partial load, the tail.
  ACPSTORE_RETURN_IF_ERROR(
      conn.Prefetch(kLoad, SessionKey(tenant_id, session_id)));
  ACPSTORE_RETURN_IF_ERROR(
      conn.Prefetch(kTail, TailParams(tenant_id, session_id)));
  ACPSTORE_ASSIGN_OR_RETURN(
      PgResult row,
      conn.Exec(kCheckpointRow, SessionKey(tenant_id, session_id)));
  ACPSTORE_ASSIGN_OR_RETURN(
      PgResult load, conn.Exec(kLoad, SessionKey(tenant_id, session_id)));
  ACPSTORE_ASSIGN_OR_RETURN(
      PgResult tail, conn.Exec(kTail, TailParams(tenant_id, session_id)));
  CheckpointResult ignored;
  CheckpointResult& out = result != nullptr ? *result : ignored;
  if (row.rows() == 0) return Status::OK();
  const auto folded = static_cast<EventSeq>(row.Int(0, 0));
  const auto first = static_cast<EventSeq>(row.Int(0, 1));
  const auto last = static_cast<EventSeq>(row.Int(0, 2));
  const auto unfolded = row.Int(0, 5);
  out.folded_seq = folded;
  out.current = folded >= last;
  if (folded >= through || folded >= last) return Status::OK();
  if (min_unfolded > 0 &&
      unfolded < static_cast<int64_t>(min_unfolded)) {
    return Status::OK();  // not due (Checkpointer: a job run alone)
  }
  const bool lost = Lost(folded, first);
  if (tail.rows() > 0 || lost) {  // else only skipped types: nothing folds
    ACPSTORE_ASSIGN_OR_RETURN(StoredCheckpoint stored, ParseStored(load));
    Current cur;
    ACPSTORE_RETURN_IF_ERROR(BuildCurrent(conn, tenant_id, session_id,
                                          std::move(stored), tail, lost,
                                          limits, &cur));
    ACPSTORE_RETURN_IF_ERROR(WriteCurrent(conn, tenant_id, session_id, cur));
  }
  out.folded_seq = last;
  out.current = true;
  out.wrote = true;
  out.xmin_before = static_cast<uint32_t>(row.Int(0, 3));
  out.xid = static_cast<uint32_t>(row.Int(0, 4));
  return conn.Send(kCheckpointed, SessionKey(tenant_id, session_id));
}

// ------------------------------------------------------------------ tails

void TranscriptTails::Loaded(const std::string& tenant_id,
                             const std::string& session_id, EventSeq folded_seq,
                             int64_t unfolded) {
  Tail& t = tails_[{tenant_id, session_id}];
  t.known = true;
  t.folded_seq = folded_seq;
  t.unfolded = unfolded;
}

void TranscriptTails::Appended(const std::string& tenant_id,
                               const std::string& session_id, int64_t folded,
                               EventSeq last_seq) {
  Tail& t = tails_[{tenant_id, session_id}];
  t.appended = true;
  t.unfolded += folded;
  t.last_seq = last_seq;
  // As the counter UPDATE does: a tail of skipped types needs no fold.
  if (t.known && t.unfolded == 0) t.folded_seq = last_seq;
}

Status TranscriptTails::Checkpoint(PgConn& conn, const Key& key,
                                   EventSeq through) {
  CheckpointResult r;
  ACPSTORE_RETURN_IF_ERROR(CheckpointTranscript(conn, key.first, key.second,
                                                through, config_.limits, &r));
  if (r.current) {  // folded up to last_seq: the row's unfolded is 0
    Tail& t = tails_[key];
    t.known = true;
    t.folded_seq = r.folded_seq;
    t.unfolded = 0;
  }
  return Status::OK();
}

Status TranscriptTails::BeforeDrop(PgConn& conn, const std::string& tenant_id,
                                   const std::string& session_id,
                                   EventSeq through) {
  if (!on()) return Status::OK();
  auto it = tails_.find({tenant_id, session_id});
  if (it != tails_.end() && it->second.known &&
      it->second.folded_seq >= through) {
    return Status::OK();
  }
  return Checkpoint(conn, {tenant_id, session_id}, through);
}

Status TranscriptTails::CheckpointOverdue(PgConn& conn) {
  if (!on()) return Status::OK();
  for (auto& [key, t] : tails_) {
    if (!t.known || t.unfolded <= 0) continue;
    if (static_cast<uint64_t>(t.unfolded) < config_.backlog_events()) continue;
    ACPSTORE_RETURN_IF_ERROR(Checkpoint(conn, key, ~EventSeq{0}));
  }
  return Status::OK();
}

std::vector<DueCheckpoint> TranscriptTails::Due() const {
  std::vector<DueCheckpoint> out;
  if (!on()) return out;
  for (const auto& [key, t] : tails_) {
    if (!t.known || t.unfolded <= 0) continue;
    if (static_cast<uint64_t>(t.unfolded) < config_.checkpoint_events) continue;
    // Through what this transaction appended: a checkpoint that finds
    // folded_seq there already (another one ran first) has nothing to do.
    out.push_back({.tenant_id = key.first,
                   .session_id = key.second,
                   .through = t.last_seq > 0 ? t.last_seq : ~EventSeq{0}});
  }
  return out;
}

Status TranscriptTails::CheckpointAppended(PgConn& conn) {
  if (!on()) return Status::OK();
  for (auto& [key, t] : tails_) {
    if (!t.appended) continue;
    ACPSTORE_RETURN_IF_ERROR(Checkpoint(conn, key, ~EventSeq{0}));
  }
  return Status::OK();
}

// --------------------------------------------------------------- reading

namespace {

// The page, inside the caller's snapshot: the session, the checkpoint and
// the tail (one round trip), then the entry rows (another).
Result<TranscriptPage> ReadIn(PgConn& conn, const Scope& scope,
                              const std::string& session_id,
                              const TranscriptQuery& query, uint32_t kinds,
                              const transcript::Limits& limits,
                              uint64_t max_bytes) {
  const std::string& tenant = scope.tenant_id;
  ACPSTORE_RETURN_IF_ERROR(
      conn.Prefetch(kLoad, SessionKey(tenant, session_id)));
  ACPSTORE_RETURN_IF_ERROR(
      conn.Prefetch(kTail, TailParams(tenant, session_id)));
  ACPSTORE_ASSIGN_OR_RETURN(
      PgResult r, conn.Exec(kReadSession, SessionKey(tenant, session_id)));
  ACPSTORE_ASSIGN_OR_RETURN(PgResult load,
                            conn.Exec(kLoad, SessionKey(tenant, session_id)));
  ACPSTORE_ASSIGN_OR_RETURN(PgResult tail,
                            conn.Exec(kTail, TailParams(tenant, session_id)));
  auto not_found = [&] {
    return Status::NotFound("session not found").With("sessionId", session_id);
  };
  if (r.rows() == 0) return not_found();
  ACPSTORE_ASSIGN_OR_RETURN(SessionRow row, ParseSessionRow(r, 0, 0));
  if (!engine::ScopeCanSee(scope, row.session.tenant_id,
                           row.session.owner_key_id)) {
    return not_found();
  }
  const EventSeq last_seq = row.session.events.last_seq;
  const auto folded = static_cast<EventSeq>(r.Int(0, kSessionColumnCount));
  const bool lost =
      folded < last_seq && Lost(folded, row.session.events.first_seq);
  Current cur;
  ACPSTORE_ASSIGN_OR_RETURN(StoredCheckpoint stored, ParseStored(load));
  ACPSTORE_RETURN_IF_ERROR(BuildCurrent(conn, tenant, session_id,
                                        std::move(stored), tail, lost, limits,
                                        &cur));
  const Transcript& t = cur.t;
  if (cur.fresh) {  // every entry is in memory
    TranscriptPage page =
        transcript::ReadTranscriptPage(t, query, kinds, max_bytes);
    page.folded_seq = std::max<EventSeq>(page.folded_seq, last_seq);
    return page;
  }
  // Totals and range from the transcript as of now (no entry examined).
  TranscriptQuery none = query;
  none.after = ~uint64_t{0} - 1;
  TranscriptPage page =
      transcript::ReadTranscriptPage(t, none, kinds, max_bytes);
  page.folded_seq = std::max<EventSeq>(t.folded_seq(), last_seq);
  const uint64_t start = query.after + 1;
  const uint64_t from = std::max(start, t.first_index());
  page.next = from - 1;  // the entries the cap dropped count as examined
  const uint64_t stop =
      std::min(t.end_index(), from + transcript::kMaxExaminedPerPage);
  if (from >= stop) return page;
  // What the tail created or changed lies over the rows: a changed row's
  // text is its stored pieces followed by what the tail added.
  std::vector<uint64_t> touched = t.touched();
  std::sort(touched.begin(), touched.end());
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
  std::erase_if(touched, [&](uint64_t i) { return i < from || i >= stop; });
  std::vector<uint64_t> kind_list;
  for (uint8_t k = 1; k <= transcript::kMaxEntryKind; ++k) {
    if ((kinds & (1u << (k - 1))) != 0) kind_list.push_back(k);
  }
  std::vector<uint64_t> touched_rows;
  for (uint64_t i : touched) {
    if (i < cur.end_before) touched_rows.push_back(i);
  }
  // Rows of touched entries may fail the filters once laid over, so up to
  // that many more rows are read.
  ACPSTORE_ASSIGN_OR_RETURN(
      PgResult rows,
      conn.Exec(
          kReadRows,
          PgParams()
              .Text(tenant)
              .Text(session_id)
              .Int(static_cast<int64_t>(from))
              .Int(static_cast<int64_t>(std::min(stop, cur.end_before)))
              .Text(IntArray(kind_list))
              .Int(static_cast<int64_t>(query.changed_after_seq))
              .Text(IntArray(touched_rows))
              .Int(static_cast<int64_t>(query.limit + touched_rows.size()))));
  auto wanted = [&](const Entry& e) {
    return (kinds & (1u << (static_cast<uint8_t>(e.kind) - 1))) != 0 &&
           e.last_seq > query.changed_after_seq;
  };
  std::map<uint64_t, TranscriptEntry> out;
  const std::set<uint64_t> over(touched.begin(), touched.end());
  for (int i = 0; i < rows.rows(); ++i) {
    const auto index = static_cast<uint64_t>(rows.Int(i, 0));
    std::string text = rows.IsNull(i, 2) ? std::string() : rows.Bytes(i, 2);
    Entry e;
    if (over.count(index) != 0) {
      e = t.at(index);
      e.text = std::move(text) + e.text;
    } else {
      ACPSTORE_RETURN_IF_ERROR(DecodeBody(rows.Bytes(i, 1), &e));
      e.text = std::move(text);
    }
    if (wanted(e)) {
      out.emplace(index, transcript::ToPublic(e, index, query.held_text));
    }
  }
  for (uint64_t index : touched) {
    if (index < cur.end_before) continue;  // had a row: above
    const Entry& e = t.at(index);
    if (wanted(e)) {
      out.emplace(index, transcript::ToPublic(e, index, query.held_text));
    }
  }
  bool full = false;  // stopped at the byte cap
  uint64_t bytes = 0;
  for (auto& [index, e] : out) {
    if (page.entries.size() >= query.limit) break;
    const uint64_t size = transcript::EntryPageBytes(e);
    if (!transcript::TranscriptPageTakes(page.entries.size(), bytes, size,
                                         max_bytes)) {
      full = true;
      break;
    }
    bytes += size;
    page.entries.push_back(std::move(e));
  }
  // `next`: the last index examined, as ReadTranscriptPage counts it.
  page.next = full || page.entries.size() >= query.limit
                  ? page.entries.back().index
                  : stop - 1;
  return page;
}

}  // namespace

Result<TranscriptPage> ReadTranscriptRows(PgConn& conn, const Scope& scope,
                                          std::string_view session_id,
                                          const TranscriptQuery& query,
                                          uint32_t kinds,
                                          const transcript::Limits& limits,
                                          uint64_t max_bytes) {
  // One snapshot for the checkpoint, the tail and the rows: a checkpoint
  // committing between them would otherwise count its tail twice.
  ACPSTORE_RETURN_IF_ERROR(
      conn.SendCommand("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  Result<TranscriptPage> page =
      ReadIn(conn, scope, std::string(session_id), query, kinds, limits,
             max_bytes);
  if (conn.healthy()) {
    Result<PgResult> end = conn.Run(page.ok() ? "COMMIT" : "ROLLBACK");
    if (page.ok() && !end.ok()) return end.status();
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
