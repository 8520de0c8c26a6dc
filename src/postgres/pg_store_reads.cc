// PgStore's reads: single SQL statements (one snapshot each), scope checked
// with the same rule as every engine (engine::ScopeCanSee); the pause and
// paging rules reuse engine/queries.h over a small WorkingSet. Also
// subscriptions, stats and the health check.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "engine/cursor.h"
#include "engine/event_log.h"
#include "engine/queries.h"
#include "engine/state.h"
#include "postgres/pg_rows.h"
#include "postgres/pg_store.h"
#include "postgres/pg_transcripts.h"
#include "transcript/transcript_page.h"
#include "record/validate.h"

namespace acpstore::postgres {
namespace {

constexpr PgStatement kGetSession{
    "rd_session",
    "SELECT s.record, s.incarnation, s.first_seq, s.last_seq, s.retained, "
    "s.payload_bytes, s.owner_key_id, s.status, s.updated_at, s.ended_at, "
    "s.tenant_id, s.session_id "
    "FROM sessions s WHERE s.tenant_id = $1 AND "
    "s.session_id = $2"};
constexpr PgStatement kGetPauses{
    "rd_pauses",
    "SELECT p.record, p.status, p.tenant_id, p.session_id, p.pause_id "
    "FROM pauses p WHERE p.tenant_id = $1 AND "
    "p.session_id = $2 ORDER BY p.position"};
// The session with up to $4 events after $3 in one statement, so the
// counters and the rows come from one snapshot.
constexpr PgStatement kReadEvents{
    "rd_events",
    "SELECT s.record, s.incarnation, s.first_seq, s.last_seq, s.retained, "
    "s.payload_bytes, s.owner_key_id, s.status, s.updated_at, s.ended_at, "
    "s.tenant_id, s.session_id, e.seq, e.client_event_id, "
    "e.event_type, e.occurred_at, "
    "e.ingested_at, e.backend_run_id, e.payload_ref, e.payload "
    "FROM sessions s LEFT JOIN LATERAL (SELECT * FROM ("
    "SELECT p.*, row_number() OVER w AS page_n, "
    "sum(octet_length(p.payload)) OVER w AS page_bytes FROM ("
    "SELECT * FROM events e "
    "WHERE e.tenant_id = s.tenant_id AND e.session_id = s.session_id "
    "AND e.seq > $3 ORDER BY e.seq LIMIT $4) p WINDOW w AS (ORDER BY p.seq)) q "
    // engine::PageTakes: the first event, then while the payloads fit $5
    // (octet_length reads a TOASTed payload's size, not the payload).
    "WHERE q.page_n = 1 OR q.page_bytes <= $5) e ON true "
    "WHERE s.tenant_id = $1 AND s.session_id = $2 ORDER BY e.seq"};
// Newest updated_at first, then id descending: the other engines' order.
constexpr PgStatement kListSessions{
    "rd_list_sessions",
    "SELECT s.record, s.incarnation, s.first_seq, s.last_seq, s.retained, "
    "s.payload_bytes, s.owner_key_id, s.status, s.updated_at, s.ended_at, "
    "s.tenant_id, s.session_id "
    "FROM sessions s WHERE s.tenant_id = $1 "
    "AND ($2::text IS NULL OR s.owner_key_id = $2) "
    "AND ($3::bigint IS NULL OR (s.updated_at, s.session_id) < ($3, $4::text)) "
    "AND ($5::bigint IS NULL OR s.updated_at > $5) "
    "AND ($6::smallint[] IS NULL OR s.status = ANY($6::smallint[])) "
    "ORDER BY s.updated_at DESC, s.session_id DESC LIMIT $7"};
constexpr PgStatement kGetAction{
    "rd_action",
    "SELECT a.record, a.session_id, a.owner_key_id, a.type, a.status, "
    "a.created_at, a.available_at, a.leased_until, a.finished_at, "
    "a.idempotency_key, a.tenant_id, a.action_id "
    "FROM actions a WHERE a.tenant_id = $1 AND "
    "a.action_id = $2"};
constexpr PgStatement kListActions{
    "rd_list_actions",
    "SELECT a.record, a.session_id, a.owner_key_id, a.type, a.status, "
    "a.created_at, a.available_at, a.leased_until, a.finished_at, "
    "a.idempotency_key, a.tenant_id, a.action_id "
    "FROM actions a WHERE a.tenant_id = $1 "
    "AND ($2::text IS NULL OR a.owner_key_id = $2) "
    "AND ($3::text IS NULL OR a.session_id = $3) "
    "AND ($4::bigint IS NULL OR (a.created_at, a.action_id) < ($4, $5::text)) "
    "AND ($6::smallint[] IS NULL OR a.status = ANY($6::smallint[])) "
    "ORDER BY a.created_at DESC, a.action_id DESC LIMIT $7"};
constexpr PgStatement kStatsSessions{
    "rd_stats_sessions",
    "SELECT status, count(*), coalesce(sum(retained), 0), "
    "coalesce(sum(payload_bytes), 0) FROM sessions GROUP BY status"};
constexpr PgStatement kStatsCounts{
    "rd_stats_counts",
    "SELECT (SELECT count(*) FROM actions), (SELECT count(*) FROM pauses)"};

// Each statement a row parser reads selects that parser's list first.
static_assert(SelectsColumns(kGetSession.sql, kSessionColumns) &&
              SelectsColumns(kReadEvents.sql, kSessionColumns) &&
              SelectsColumns(kListSessions.sql, kSessionColumns));
static_assert(SelectsColumns(kGetAction.sql, kActionColumns) &&
              SelectsColumns(kListActions.sql, kActionColumns));
static_assert(SelectsColumns(kGetPauses.sql, kPauseColumns));

Status SessionNotFound(std::string_view session_id) {
  return Status::NotFound("session not found").With("sessionId", session_id);
}

template <typename Enum>
std::optional<std::string> SmallintArray(const std::vector<Enum>& items) {
  if (items.empty()) return std::nullopt;
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += std::to_string(static_cast<int>(items[i]));
  }
  out.push_back('}');
  return out;
}

// Scope and session filters of a listing: an owner sees its own records.
void AddOwnerFilter(const Scope& scope, PgParams* p) {
  if (scope.access == Scope::Access::kOwner) {
    p->Text(scope.owner_key_id);
  } else {
    p->Null();
  }
}

}  // namespace

// ----------------------------------------------------------------- sessions

Result<Session> PgStore::GetSession(const Scope& scope,
                                    std::string_view session_id) {
  return WithConn<Session>([&](PgConn& c) -> Result<Session> {
    ACPSTORE_ASSIGN_OR_RETURN(
        PgResult r,
        c.Exec(kGetSession, PgParams().Text(scope.tenant_id).Text(session_id)));
    if (r.rows() == 0) return SessionNotFound(session_id);
    ACPSTORE_ASSIGN_OR_RETURN(SessionRow row, ParseSessionRow(r, 0, 0));
    if (!engine::ScopeCanSee(scope, row.session.tenant_id,
                             row.session.owner_key_id)) {
      return SessionNotFound(session_id);
    }
    return std::move(row.session);
  });
}

Result<SessionPage> PgStore::ListSessions(const Scope& scope,
                                          const SessionQuery& query) {
  ACPSTORE_RETURN_IF_ERROR(record::ValidateSessionQuery(query));
  std::optional<engine::CursorKey> cursor;
  if (!query.cursor.empty()) {
    ACPSTORE_ASSIGN_OR_RETURN(cursor, engine::DecodeCursor(engine::CursorKind::kSessions, query.cursor));
  }
  return WithConn<SessionPage>([&](PgConn& c) -> Result<SessionPage> {
    PgParams p;
    p.Text(scope.tenant_id);
    AddOwnerFilter(scope, &p);
    if (cursor) {
      p.Int(cursor->time).Text(cursor->id);
    } else {
      p.Null().Null();
    }
    p.OptInt(query.updated_after)
        .OptText(SmallintArray(query.statuses))
        .Int(static_cast<int64_t>(query.limit) + 1);
    ACPSTORE_ASSIGN_OR_RETURN(PgResult r, c.Exec(kListSessions, p));
    SessionPage page;
    // A damaged row fails the page with data_loss naming it (SPEC §10
    // "Damage"): left out, it would look deleted. The row past `limit`,
    // read only to tell whether a next page exists, is not decoded: it
    // fails the page that shows it, not this one.
    for (int i = 0; i < r.rows() && page.sessions.size() < query.limit; ++i) {
      ACPSTORE_ASSIGN_OR_RETURN(SessionRow row, ParseSessionRow(r, i, 0));
      page.sessions.push_back(std::move(row.session));
    }
    if (static_cast<size_t>(r.rows()) > query.limit && !page.sessions.empty()) {
      const Session& last = page.sessions.back();
      page.next_cursor = engine::EncodeCursor(engine::CursorKind::kSessions, last.updated_at, last.id);
    }
    return page;
  });
}

// ------------------------------------------------------------------- events

Result<EventPage> PgStore::ReadEvents(PgConn& conn, std::string_view tenant_id,
                                      std::string_view session_id,
                                      const Scope* scope, uint64_t incarnation,
                                      EventSeq after, uint32_t limit,
                                      uint64_t max_bytes) {
  const auto byte_cap = static_cast<int64_t>(
      std::min<uint64_t>(max_bytes, std::numeric_limits<int64_t>::max()));
  ACPSTORE_ASSIGN_OR_RETURN(
      PgResult r, conn.Exec(kReadEvents, PgParams()
                                             .Text(tenant_id)
                                             .Text(session_id)
                                             .Int(static_cast<int64_t>(after))
                                             .Int(limit)
                                             .Int(byte_cap)));
  if (r.rows() == 0) {
    if (scope != nullptr) return SessionNotFound(session_id);
    return Status::NotFound("the session was deleted")
        .With("sessionId", session_id);
  }
  ACPSTORE_ASSIGN_OR_RETURN(SessionRow row, ParseSessionRow(r, 0, 0));
  if (scope != nullptr &&
      !engine::ScopeCanSee(*scope, row.session.tenant_id,
                           row.session.owner_key_id)) {
    return SessionNotFound(session_id);
  }
  if (scope == nullptr && row.incarnation != incarnation) {
    return Status::NotFound("the session was deleted")
        .With("sessionId", session_id);
  }
  EventPage page;
  page.first_seq = row.session.events.first_seq;
  page.last_seq = row.session.events.last_seq;
  page.truncated = after + 1 < page.first_seq;
  for (int i = 0; i < r.rows(); ++i) {
    if (r.IsNull(i, kSessionColumnCount)) continue;  // no events
    // A damaged payload fails the page, as a damaged row fails a listing
    // (SPEC §10 "Damage"): left out, the event would look dropped.
    ACPSTORE_ASSIGN_OR_RETURN(
        Event e, ParseEventRow(r, i, kSessionColumnCount, row.session));
    page.events.push_back(std::move(e));
  }
  return page;
}

Result<EventPage> PgStore::ListEvents(const Scope& scope,
                                      std::string_view session_id,
                                      EventSeq after, uint32_t limit) {
  ACPSTORE_RETURN_IF_ERROR(record::ValidateListLimit(limit));
  return WithConn<EventPage>([&](PgConn& c) {
    return ReadEvents(c, scope.tenant_id, session_id, &scope, 0, after, limit,
                      options_.max_page_bytes);
  });
}

Result<EventPage> PgStore::ReadSubscriptionPage(std::string_view tenant_id,
                                                std::string_view session_id,
                                                uint64_t incarnation,
                                                EventSeq after,
                                                uint32_t limit,
                                                uint64_t max_bytes) {
  return WithConn<EventPage>([&](PgConn& c) {
    return ReadEvents(c, tenant_id, session_id, nullptr, incarnation, after,
                      limit, max_bytes);
  });
}

Result<std::unique_ptr<Subscription>> PgStore::Subscribe(
    const Scope& scope, std::string_view session_id, SubscribeOptions options) {
  Result<SessionRow> found =
      WithConn<SessionRow>([&](PgConn& c) -> Result<SessionRow> {
        ACPSTORE_ASSIGN_OR_RETURN(
            PgResult r, c.Exec(kGetSession,
                               PgParams().Text(scope.tenant_id).Text(session_id)));
        if (r.rows() == 0) return SessionNotFound(session_id);
        ACPSTORE_ASSIGN_OR_RETURN(SessionRow row, ParseSessionRow(r, 0, 0));
        if (!engine::ScopeCanSee(scope, row.session.tenant_id,
                                 row.session.owner_key_id)) {
          return SessionNotFound(session_id);
        }
        return row;
      });
  if (!found.ok()) return std::move(found).error();
  return hub_.Subscribe(this, found->session.tenant_id, found->session.id,
                        found->incarnation, std::move(options));
}

// ------------------------------------------------------------------ actions

Result<Action> PgStore::GetAction(const Scope& scope,
                                  std::string_view action_id) {
  return WithConn<Action>([&](PgConn& c) -> Result<Action> {
    ACPSTORE_ASSIGN_OR_RETURN(
        PgResult r,
        c.Exec(kGetAction, PgParams().Text(scope.tenant_id).Text(action_id)));
    if (r.rows() == 0) {
      return Status::NotFound("action not found").With("actionId", action_id);
    }
    ACPSTORE_ASSIGN_OR_RETURN(Action a, ParseActionRow(r, 0, 0));
    if (!engine::ScopeCanSee(scope, a.tenant_id, a.owner_key_id)) {
      return Status::NotFound("action not found").With("actionId", action_id);
    }
    a.lease_token.clear();  // returned only by lease and heartbeat
    return a;
  });
}

Result<ActionPage> PgStore::ListActions(const Scope& scope,
                                        const ActionQuery& query) {
  ACPSTORE_RETURN_IF_ERROR(record::ValidateActionQuery(query));
  std::optional<engine::CursorKey> cursor;
  if (!query.cursor.empty()) {
    ACPSTORE_ASSIGN_OR_RETURN(cursor, engine::DecodeCursor(engine::CursorKind::kActions, query.cursor));
  }
  if (query.session_id) {
    // The session must be visible, else kNotFound (as the other engines).
    ACPSTORE_RETURN_IF_ERROR(GetSession(scope, *query.session_id).status());
  }
  return WithConn<ActionPage>([&](PgConn& c) -> Result<ActionPage> {
    PgParams p;
    p.Text(scope.tenant_id);
    AddOwnerFilter(scope, &p);
    p.OptText(query.session_id);
    if (cursor) {
      p.Int(cursor->time).Text(cursor->id);
    } else {
      p.Null().Null();
    }
    p.OptText(SmallintArray(query.statuses))
        .Int(static_cast<int64_t>(query.limit) + 1);
    ACPSTORE_ASSIGN_OR_RETURN(PgResult r, c.Exec(kListActions, p));
    ActionPage page;
    // As ListSessions: a damaged row fails the page that shows it.
    for (int i = 0; i < r.rows() && page.actions.size() < query.limit; ++i) {
      ACPSTORE_ASSIGN_OR_RETURN(Action a, ParseActionRow(r, i, 0));
      a.lease_token.clear();
      page.actions.push_back(std::move(a));
    }
    if (static_cast<size_t>(r.rows()) > query.limit && !page.actions.empty()) {
      const Action& last = page.actions.back();
      page.next_cursor = engine::EncodeCursor(engine::CursorKind::kActions, last.created_at, last.action_id);
    }
    return page;
  });
}

// ------------------------------------------------------------------- pauses

Result<Pause> PgStore::GetPause(const Scope& scope,
                                std::string_view session_id) {
  return WithConn<Pause>([&](PgConn& c) -> Result<Pause> {
    ACPSTORE_ASSIGN_OR_RETURN(
        PgResult r,
        c.Exec(kGetSession, PgParams().Text(scope.tenant_id).Text(session_id)));
    WorkingSet ws;
    if (r.rows() > 0) {
      ACPSTORE_ASSIGN_OR_RETURN(SessionRow row, ParseSessionRow(r, 0, 0));
      ACPSTORE_RETURN_IF_ERROR(ws.AddSession(row));
      ACPSTORE_ASSIGN_OR_RETURN(
          PgResult p,
          c.Exec(kGetPauses, PgParams().Text(scope.tenant_id).Text(session_id)));
      for (int i = 0; i < p.rows(); ++i) {
        ACPSTORE_ASSIGN_OR_RETURN(Pause pause, ParsePauseRow(p, i, 0));
        ACPSTORE_RETURN_IF_ERROR(ws.AddPause(std::move(pause)));
      }
    }
    return engine::QueryGetPause(ws.state(), scope, session_id);
  });
}

// --------------------------------------------------------------- operations

StoreStats PgStore::Stats() {
  StoreStats stats;
  stats.events_appended = events_appended_.load();
  stats.events_dropped_retention = events_dropped_.load();
  stats.subscriptions = hub_.size();
  stats.data_loss_reads = data_loss_reads_.load();
  stats.notifications_dropped = listener_->notify_dropped();
  // The file engine's fsync figures, as this engine's equivalent: commits
  // of transactions that carried appends, and the appends they carried.
  stats.fsyncs = commits_->append_commits();
  stats.group_commit_records = commits_->appends_committed();
  for (size_t i = 0; i < CommitQueue::kBatchBuckets &&
                     i < stats.batch_records_log2.size();
       ++i) {
    stats.batch_records_log2[i] = commits_->batch_log2(i);
  }
  // Counts over the whole database: every server reports the same store.
  (void)WithConn<bool>([&](PgConn& c) -> Result<bool> {
    ACPSTORE_ASSIGN_OR_RETURN(PgResult r, c.Exec(kStatsSessions, PgParams()));
    for (int i = 0; i < r.rows(); ++i) {
      uint64_t n = static_cast<uint64_t>(r.Int(i, 1));
      stats.sessions += n;
      stats.sessions_by_status[static_cast<size_t>(r.Int(i, 0)) % 8] += n;
      stats.events_retained += static_cast<uint64_t>(r.Int(i, 2));
      stats.event_payload_bytes += static_cast<uint64_t>(r.Int(i, 3));
    }
    ACPSTORE_ASSIGN_OR_RETURN(PgResult n, c.Exec(kStatsCounts, PgParams()));
    stats.actions = static_cast<uint64_t>(n.Int(0, 0));
    stats.pauses = static_cast<uint64_t>(n.Int(0, 1));
    if (options_.transcript_max_bytes > 0) {
      ACPSTORE_ASSIGN_OR_RETURN(TranscriptTotals t, ReadTranscriptTotals(c));
      stats.memory_transcript_bytes = t.bytes;
      stats.transcripts_incomplete = t.incomplete;
    }
    return true;
  });
  return stats;
}

Status PgStore::CheckWritable() {
  // On a connection of its own, bounded (pg_readiness.h, decision 0039):
  // the pool's may all be lent out to writes waiting for a database that
  // stopped answering.
  return readiness_->Check();
}

// ------------------------------------------------------------------ opening

Result<std::unique_ptr<Store>> OpenPostgresStore(const StoreOptions& options) {
  ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<PgStore> store,
                            PgStore::Open(options));
  return std::unique_ptr<Store>(std::move(store));
}

Result<TranscriptPage> PgStore::ReadTranscript(const Scope& scope,
                                               std::string_view session_id,
                                               const TranscriptQuery& query) {
  // The query first, as DecidingStore checks it: 400, then 404, then 501.
  ACPSTORE_ASSIGN_OR_RETURN(uint32_t kinds,
                            transcript::CheckTranscriptQuery(query));
  if (options_.transcript_max_bytes == 0) {
    // An unknown session is 404 whatever the configuration.
    Result<Session> session = GetSession(scope, session_id);
    if (!session.ok()) return session.error();
    return transcript::TranscriptsOff();  // decision 0036
  }
  return WithConn<TranscriptPage>([&](PgConn& c) -> Result<TranscriptPage> {
    return ReadTranscriptRows(c, scope, session_id, query, kinds,
                              TranscriptLimits(options_),
                              options_.max_page_bytes);
  });
}

}  // namespace acpstore::postgres
