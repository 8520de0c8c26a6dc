// The records acpstore keeps (SPEC §2): sessions, events, actions, pauses,
// the Scope every read and write is confined to, and the request shapes the
// Store accepts.
//
// Conventions used throughout:
//  - Field names are the snake_case of the HTTP API's camelCase names.
//  - std::optional marks a field that may be absent; an absent field is
//    omitted from JSON, never rendered as null.
//  - Metadata maps (SPEC §2.6) and event payloads are held as canonical
//    compact JSON text: the store parses what a caller sends once, checks
//    it, and keeps the canonical bytes. Payloads keep their key order;
//    metadata maps have their keys sorted, so equal maps have equal bytes.
//  - Times are TimestampMs (clock.h).
//
// These are plain values: no invariants are enforced by the types
// themselves; the Store validates every request (src/record/validate.h).

#ifndef ACPSTORE_RECORDS_H_
#define ACPSTORE_RECORDS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "acpstore/clock.h"

namespace acpstore {

// Per-session event sequence number: 1, 2, 3, ... dense, never reused.
using EventSeq = uint64_t;

// Who is asking. Derived from the API key by the server, never from a body.
struct Scope {
  enum class Access : uint8_t {
    // Sees and writes only records whose owner_key_id is this key
    // (role "writer").
    kOwner,
    // Reads every record of the tenant (role "reader").
    kTenantRead,
    // Reads and writes every record of the tenant (role "admin").
    kTenantWrite,
  };

  std::string tenant_id;
  std::string owner_key_id;
  Access access = Access::kOwner;

  bool CanWrite() const { return access != Access::kTenantRead; }
};

// ---------------------------------------------------------------- sessions

enum class SessionStatus : uint8_t {
  kInitializing,
  kIdle,
  kRunning,
  kPaused,
  kIntervening,
  kClosing,
  kClosed,  // terminal
  kFailed,  // terminal
};

// The events of the lifecycle state machine (SPEC §2.1).
enum class SessionEvent : uint8_t {
  kAgentReady,
  kRunStarted,
  kRunCompleted,
  kPauseRequested,
  kInterventionStarted,
  kInterventionCompleted,
  kResumeRequested,
  kCloseRequested,
  kCloseCompleted,
  kRuntimeFailed,
};

std::string_view ToString(SessionStatus status);  // "initializing", ...
std::string_view ToString(SessionEvent event);    // "agent_ready", ...
std::optional<SessionStatus> ParseSessionStatus(std::string_view name);
std::optional<SessionEvent> ParseSessionEvent(std::string_view name);
inline bool IsTerminal(SessionStatus s) {
  return s == SessionStatus::kClosed || s == SessionStatus::kFailed;
}

// Summary of a session's event stream. With nothing retained, first_seq is
// last_seq + 1 (so a new session reads {1, 0, 0, 0}).
struct EventStreamInfo {
  EventSeq first_seq = 1;
  EventSeq last_seq = 0;
  uint64_t retained = 0;  // events currently readable
  uint64_t bytes = 0;     // canonical payload bytes of those events
};

struct ValidationWarning {
  std::string code;     // 1-1,024 bytes
  std::string message;  // <= 1,024 bytes
};

struct Session {
  std::string id;
  std::string tenant_id;
  std::string owner_key_id;
  std::string conversation_id;  // UUIDv4, generated at create
  std::string transcript_id;    // UUIDv4, generated at create
  // Set at create only.
  std::optional<std::string> parent_session_id;
  std::optional<std::string> root_session_id;
  std::optional<std::string> correlation_id;
  std::optional<std::string> resume_from_session_id;
  // Mutable through UpdateSession.
  std::optional<std::string> acp_agent_session_id;
  std::optional<std::string> claude_session_id;
  std::optional<std::string> current_backend_run_id;
  SessionStatus status = SessionStatus::kInitializing;
  TimestampMs created_at = 0;
  TimestampMs updated_at = 0;
  std::optional<TimestampMs> closed_at;  // first entry into kClosed
  std::optional<TimestampMs> failed_at;  // first entry into kFailed
  std::optional<std::string> backend_metadata;  // canonical metadata map
  std::vector<ValidationWarning> validation_warnings;  // <= 50
  EventStreamInfo events;  // read-only; filled in by the store
};

struct NewSession {
  std::optional<std::string> id;  // 1-256 bytes; default: a UUIDv4
  // 1-256 bytes; default: a UUIDv4. For callers that generate their own
  // (the Aegis drop-in does); immutable once created.
  std::optional<std::string> conversation_id;
  std::optional<std::string> transcript_id;
  // Default: the server's clock. For a caller that stamps its own records
  // (the Aegis drop-in, through a service key); sets updated_at too, and
  // may not be later than the server's clock plus 60 s.
  std::optional<TimestampMs> created_at;
  std::optional<std::string> parent_session_id;
  std::optional<std::string> root_session_id;
  std::optional<std::string> correlation_id;
  std::optional<std::string> resume_from_session_id;
  std::optional<std::string> acp_agent_session_id;
  std::optional<std::string> claude_session_id;
  std::optional<std::string> current_backend_run_id;
  std::optional<std::string> backend_metadata;  // JSON object text
  std::vector<ValidationWarning> validation_warnings;
};

// A PATCH: each engaged field replaces the stored one. An engaged optional
// holding std::nullopt clears the field.
struct SessionPatch {
  std::optional<std::optional<std::string>> acp_agent_session_id;
  std::optional<std::optional<std::string>> claude_session_id;
  std::optional<std::optional<std::string>> current_backend_run_id;
  std::optional<std::optional<std::string>> backend_metadata;  // JSON text
  std::optional<std::vector<ValidationWarning>> validation_warnings;
  // A target status, reached by the one lifecycle event that leads there
  // from the current status (record::EventTo), in the same mutation;
  // kInvalidTransition when no event does. Equal to the current: no change.
  std::optional<SessionStatus> status;
};

struct SessionQuery {
  std::vector<SessionStatus> statuses;    // empty: any status
  std::optional<TimestampMs> updated_after;  // strictly after
  uint32_t limit = 100;                   // 1..1000
  std::string cursor;                     // from SessionPage::next_cursor
};

struct SessionPage {
  std::vector<Session> sessions;  // newest updated_at first
  std::optional<std::string> next_cursor;
};

// ------------------------------------------------------------------ events

struct Event {
  std::string session_id;
  std::string tenant_id;
  std::string owner_key_id;  // the session's owner
  EventSeq seq = 0;
  std::optional<std::string> client_event_id;
  std::string event_type;
  TimestampMs occurred_at = 0;
  TimestampMs ingested_at = 0;
  std::optional<std::string> backend_run_id;
  std::optional<std::string> payload_ref;
  std::string payload;  // canonical compact JSON

  // "tenantId:ownerKeyId:sessionId:eventSeq" (SPEC §2.2).
  std::string EventId() const;

  // Every field equal, payload bytes included.
  friend bool operator==(const Event&, const Event&) = default;
};

struct NewEvent {
  std::string event_type;            // 1-128 bytes
  std::string payload;               // any JSON text; canonicalised on append
  std::optional<TimestampMs> occurred_at;  // default: now
  std::optional<std::string> backend_run_id;
  std::optional<std::string> payload_ref;
  std::optional<std::string> client_event_id;  // <= 256 bytes
  // Set only by the HTTP server, whose request scanner found `payload`
  // already in canonical form, nesting this many containers deep: the
  // store then checks the payload's size and depth limits and keeps the
  // bytes, instead of canonicalising them a second time (issue 14).
  // Everyone else leaves it unset and the store canonicalises.
  std::optional<uint32_t> canonical_payload_nesting;
};

// One event or an atomic batch (all appended, or none).
struct AppendRequest {
  std::vector<NewEvent> events;  // 1..max_batch_events
  // When set, the append fails with kSeqConflict unless the stream's
  // last_seq equals it. Checked after clientEventId dedupe, so a retry of
  // an already-stored event still succeeds.
  std::optional<EventSeq> expected_last_seq;
  // The caller reads only what the store assigned from the result (the
  // HTTP server under Prefer: return=minimal, SPEC §5.2): new events in
  // AppendResult::events may come back with an empty payload, sparing a
  // copy of every payload (issue 14). The stored events are unaffected.
  bool result_without_payloads = false;
};

struct AppendResult {
  // One per requested event, in order. An event whose client_event_id was
  // already stored is the original; `created` tells which were new.
  std::vector<Event> events;
  std::vector<bool> created;
  // True when at least one event was new (HTTP 201; otherwise 200).
  bool any_created = false;
};

struct EventPage {
  std::vector<Event> events;  // ascending seq
  EventSeq first_seq = 1;
  EventSeq last_seq = 0;
  // The cursor asked for was below first_seq - 1: events were dropped by
  // retention between the cursor and the first event returned.
  bool truncated = false;
};

// ---------------------------------------------------------- transcripts
// SPEC §13: a session's conversation, folded from its events.

// One transcript entry. `kind` is one of assistant, thought, tool,
// approval, error, turn_end, usage. Entry indexes start at 1 and never
// change; an entry that grows (a message, a tool that completes) keeps its
// index.
struct TranscriptEntry {
  uint64_t index = 0;
  std::string kind;
  EventSeq first_seq = 0;  // the events it came from
  EventSeq last_seq = 0;
  TimestampMs first_at = 0;  // their occurredAt
  TimestampMs last_at = 0;
  // assistant / thought: the text; tool: its result (cut at
  // transcript_max_tool_bytes, then text_cut).
  std::string text;
  std::string id;  // assistant / thought: messageId; tool: toolCallId
  // tool only.
  std::string title;
  std::string tool_kind;
  std::string status;
  std::string input;  // JSON text of the tool's input; a prefix when input_cut
  bool input_cut = false;
  bool text_cut = false;
  bool started = false;
  bool completed = false;
  // approval / error / turn_end / usage: a JSON object of the payload's
  // top-level scalar members.
  std::string fields;
  // The bytes of an assistant / thought entry's text left out before
  // `text` (TranscriptQuery::held_text): `text` is its text from that
  // byte on. 0: the whole text.
  uint64_t text_offset = 0;
};

// An assistant or thought entry whose text a reader holds up to some byte:
// a transcript stream that sends only what such an entry's text gained
// (docs/http_api.md, "Transcripts", textAppends) says which one it sent,
// so that a wake-up's read copies the new text only, not the whole entry
// again. The entry is named by index and told apart from any other entry
// that could have that index (a session deleted and re-created) by its
// kind, first_seq and first_at.
struct HeldText {
  uint64_t index = 0;  // 0: none
  std::string kind;    // "assistant" or "thought"
  EventSeq first_seq = 0;
  TimestampMs first_at = 0;
  uint64_t bytes = 0;  // of its text the reader holds

  // Whether the entry at `at` of kind `entry_kind` that began at
  // (`entry_first_seq`, `entry_first_at`), whose text is now `text_bytes`
  // long, is the one named here, holding at least the bytes the reader
  // has (the fold only appends to such an entry's text). The one check
  // behind both ends of a stream: the read that leaves those bytes out
  // and the frame that sends only what was added.
  bool Names(uint64_t at, std::string_view entry_kind,
             EventSeq entry_first_seq, TimestampMs entry_first_at,
             uint64_t text_bytes) const {
    return index != 0 && index == at && kind == entry_kind &&
           first_seq == entry_first_seq && first_at == entry_first_at &&
           text_bytes >= bytes;
  }
};

struct TranscriptQuery {
  uint64_t after = 0;   // entries with index > after
  uint32_t limit = 100;  // 1..1000
  // Only these kinds (wire names); empty = every kind. An unknown name is
  // kInvalidArgument.
  std::vector<std::string> kinds;
  // Only entries whose last_seq is greater (those that changed since the
  // reader folded that seq: how a live stream resumes). 0 = no filter.
  EventSeq changed_after_seq = 0;
  // When the entry at held_text.index is that entry (kind, first_seq,
  // first_at) with at least held_text.bytes of text, the page carries its
  // text from that byte on only (TranscriptEntry::text_offset). The fold
  // only appends to these entries' text, so the bytes left out are those
  // the reader holds. index 0: every entry whole.
  HeldText held_text;
};

struct TranscriptPage {
  std::vector<TranscriptEntry> entries;  // ascending index
  // The `after` of the next page: the last index examined (returned or
  // filtered out), or the query's `after` when none.
  uint64_t next = 0;
  uint64_t first_index = 1;  // of the entries still kept
  uint64_t end_index = 1;    // one past the newest
  // False once the transcript's own cap dropped entries (or it was rebuilt
  // from a stream retention had already cut).
  bool complete = true;
  EventSeq folded_seq = 0;  // the last seq folded in
  // usage.updated integer members summed by name.
  std::vector<std::pair<std::string, int64_t>> usage;
  // Entries ever created per kind (dropped ones included), by wire name.
  std::vector<std::pair<std::string, uint64_t>> entries_by_kind;
};

// EventPage with the events shared rather than copied: the file engine
// hands out the very objects its payload cache holds, so a fan-out to many
// readers (SSE) copies no payload. The events are immutable.
struct SharedEventPage {
  std::vector<std::shared_ptr<const Event>> events;  // ascending seq
  EventSeq first_seq = 1;
  EventSeq last_seq = 0;
  bool truncated = false;  // as in EventPage

  // Shares a copy of each event of `page`.
  static SharedEventPage FromCopies(EventPage page) {
    SharedEventPage shared{{}, page.first_seq, page.last_seq, page.truncated};
    shared.events.reserve(page.events.size());
    for (Event& e : page.events) {
      shared.events.push_back(std::make_shared<const Event>(std::move(e)));
    }
    return shared;
  }
};

// ----------------------------------------------------------------- actions

enum class ActionType : uint8_t {
  kPrompt,
  kApprove,
  kReject,
  kPause,
  kResume,
  kCancel,
  kDriverTransfer,
  kIntervene,
  kClose,
};

enum class ActionStatus : uint8_t {
  kQueued,
  kLeased,
  kCompleted,  // terminal
  kFailed,     // terminal
  kCancelled,  // terminal
};

std::string_view ToString(ActionType type);      // "driver_transfer", ...
std::string_view ToString(ActionStatus status);  // "queued", ...
std::optional<ActionType> ParseActionType(std::string_view name);
std::optional<ActionStatus> ParseActionStatus(std::string_view name);
inline bool IsTerminal(ActionStatus s) {
  return s == ActionStatus::kCompleted || s == ActionStatus::kFailed ||
         s == ActionStatus::kCancelled;
}

struct Action {
  std::string action_id;
  std::string session_id;
  std::string tenant_id;
  std::string owner_key_id;
  ActionType type = ActionType::kPrompt;
  std::optional<std::string> idempotency_key;
  std::optional<std::string> approval_id;
  std::optional<std::string> control_request_id;
  ActionStatus status = ActionStatus::kQueued;
  TimestampMs created_at = 0;
  TimestampMs available_at = 0;
  TimestampMs updated_at = 0;
  std::optional<TimestampMs> leased_until;  // only while kLeased
  uint32_t attempt_count = 0;               // +1 per lease
  // Opaque. Set only in the results of Lease and Heartbeat; every other
  // read leaves it empty so the token never leaks to another reader.
  std::string lease_token;
  std::optional<std::string> metadata;         // canonical metadata maps
  std::optional<std::string> result_metadata;
  std::optional<std::string> error_metadata;
  std::optional<TimestampMs> completed_at;
  std::optional<TimestampMs> failed_at;
  std::optional<TimestampMs> cancelled_at;
};

struct NewAction {
  std::optional<std::string> action_id;  // 1-256 bytes; default UUIDv4
  std::string session_id;
  ActionType type = ActionType::kPrompt;
  std::optional<std::string> idempotency_key;
  std::optional<std::string> approval_id;
  std::optional<std::string> control_request_id;
  std::optional<TimestampMs> available_at;  // default: now
  std::optional<std::string> metadata;      // JSON object text
};

struct EnqueueResult {
  Action action;
  bool created = true;  // false: idempotent replay (HTTP 200)
};

struct ActionQuery {
  std::optional<std::string> session_id;
  std::vector<ActionStatus> statuses;  // empty: any
  uint32_t limit = 100;                // 1..1000
  std::string cursor;
};

struct ActionPage {
  std::vector<Action> actions;  // newest created_at first
  std::optional<std::string> next_cursor;
};

struct LeaseRequest {
  int64_t lease_ms = 30000;  // 1,000..3,600,000
  std::optional<std::string> session_id;
  std::vector<ActionType> types;  // empty: any type
};

// ------------------------------------------------------------------ pauses

enum class PauseStatus : uint8_t { kPaused, kIntervening, kResumed };
std::string_view ToString(PauseStatus status);
std::optional<PauseStatus> ParsePauseStatus(std::string_view name);

struct Pause {
  std::string pause_id;
  std::string session_id;
  std::string tenant_id;
  std::string owner_key_id;
  PauseStatus status = PauseStatus::kPaused;
  std::optional<std::string> idempotency_key;
  std::string reason;        // 1-2,048 UTF-16 code units
  std::string requested_by;  // 1-256 bytes
  TimestampMs requested_at = 0;
  std::optional<std::string> metadata;  // canonical metadata map
  std::optional<std::string> intervention_id;
  std::optional<std::string> intervention_by;
  std::optional<TimestampMs> intervention_started_at;
  std::optional<std::string> intervention_completed_by;
  std::optional<TimestampMs> intervention_completed_at;
  std::optional<std::string> guidance;  // <= 8,192 UTF-16 code units
  std::optional<std::string> resume_id;
  std::optional<std::string> resumed_by;
  std::optional<TimestampMs> resumed_at;
  std::optional<std::string> resume_metadata;
  TimestampMs updated_at = 0;
  // The ids of this pause's interventions before the current one
  // (intervention_id), oldest first: a repeated start or complete of one of
  // them is a replay, never a new intervention. At most
  // kMaxInterventionsPerPause - 1 entries.
  std::vector<std::string> earlier_intervention_ids;
};

// Interventions one pause record holds (the current one and the earlier
// ones); past it, starting another answers kConflict: resume, then pause
// again.
inline constexpr size_t kMaxInterventionsPerPause = 32;

struct PauseRequest {
  std::string reason;
  std::string requested_by;
  std::optional<std::string> idempotency_key;
  std::optional<std::string> metadata;  // JSON object text
  // Default: a UUIDv4. A caller that generates its own (the Aegis drop-in)
  // passes it; unique within the session (kConflict). Last, so that brace
  // initialisers of the fields above keep their meaning.
  std::optional<std::string> pause_id;
};

struct InterventionStartRequest {
  std::string intervention_by;
  std::optional<std::string> intervention_id;  // default UUIDv4
};

struct InterventionCompleteRequest {
  std::string intervention_id;
  std::string completed_by;
  std::optional<std::string> guidance;
};

struct ResumeRequest {
  std::string resumed_by;
  std::optional<std::string> resume_id;  // default UUIDv4
  std::optional<std::string> metadata;   // JSON object text
};

// Every pause operation changes the pause record and the session status in
// one atomic mutation and returns both.
struct PauseResult {
  Session session;
  Pause pause;
  bool created = true;  // false: idempotent replay of the same key
};

}  // namespace acpstore

#endif  // ACPSTORE_RECORDS_H_
