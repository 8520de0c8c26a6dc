// Conformance scenarios for sessions (SPEC §2.1, §2.5, §6): create, get,
// scope confinement, patch and delete. Listing is in
// conformance_list_sessions_test.cc, the state machine in
// conformance_transitions_test.cc.

#include <string>

#include "store_conformance.h"

namespace acpstore::conformance {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// ------------------------------------------------------------------ create

TEST_P(StoreConformance, CreateSessionWithDefaults) {
  Session s = Must(db().CreateSession(kAlice, {}));

  EXPECT_TRUE(IsUuidV4(s.id)) << s.id;
  EXPECT_TRUE(IsUuidV4(s.conversation_id)) << s.conversation_id;
  EXPECT_TRUE(IsUuidV4(s.transcript_id)) << s.transcript_id;
  EXPECT_NE(s.conversation_id, s.transcript_id);
  EXPECT_EQ(s.tenant_id, "t1");
  EXPECT_EQ(s.owner_key_id, "alice");
  EXPECT_EQ(s.status, SessionStatus::kInitializing);
  EXPECT_EQ(s.created_at, kT0);
  EXPECT_EQ(s.updated_at, kT0);
  EXPECT_FALSE(s.closed_at.has_value());
  EXPECT_FALSE(s.failed_at.has_value());
  EXPECT_FALSE(s.backend_metadata.has_value());
  EXPECT_EQ(s.events.first_seq, 1u);
  EXPECT_EQ(s.events.last_seq, 0u);
  EXPECT_EQ(s.events.retained, 0u);
  EXPECT_EQ(s.events.bytes, 0u);

  Session got = Get(s.id);
  EXPECT_EQ(got.conversation_id, s.conversation_id);
  EXPECT_EQ(got.transcript_id, s.transcript_id);
  EXPECT_EQ(got.created_at, kT0);
}

TEST_P(StoreConformance, CreateSessionGeneratesDistinctIds) {
  Session a = Must(db().CreateSession(kAlice, {}));
  Session b = Must(db().CreateSession(kAlice, {}));
  EXPECT_NE(a.id, b.id);
  EXPECT_NE(a.conversation_id, b.conversation_id);
}

TEST_P(StoreConformance, CreateSessionKeepsClientFields) {
  NewSession req;
  req.id = "s-1";
  req.parent_session_id = "p-1";
  req.root_session_id = "r-1";
  req.correlation_id = "c-1";
  req.resume_from_session_id = "old-1";
  req.acp_agent_session_id = "acp-1";
  req.claude_session_id = "claude-1";
  req.current_backend_run_id = "run-1";
  req.backend_metadata = R"({ "model": "opus", "attempt": 2 })";
  req.validation_warnings = {{"w1", "first"}, {"w2", "second"}};

  Session s = Must(db().CreateSession(kAlice, std::move(req)));

  EXPECT_EQ(s.id, "s-1");
  EXPECT_EQ(s.parent_session_id, "p-1");
  EXPECT_EQ(s.root_session_id, "r-1");
  EXPECT_EQ(s.correlation_id, "c-1");
  EXPECT_EQ(s.resume_from_session_id, "old-1");
  EXPECT_EQ(s.acp_agent_session_id, "acp-1");
  EXPECT_EQ(s.claude_session_id, "claude-1");
  EXPECT_EQ(s.current_backend_run_id, "run-1");
  EXPECT_EQ(s.backend_metadata, R"({"attempt":2,"model":"opus"})");
  ASSERT_EQ(s.validation_warnings.size(), 2u);
  EXPECT_EQ(s.validation_warnings[1].code, "w2");
  EXPECT_EQ(s.validation_warnings[1].message, "second");
  EXPECT_EQ(Get("s-1").backend_metadata, s.backend_metadata);
}

TEST_P(StoreConformance, CreateSessionWithDuplicateIdIsConflict) {
  CreateSession("s-1");
  Advance(5);
  NewSession again;
  again.id = "s-1";
  EXPECT_THAT(db().CreateSession(kAlice, std::move(again)),
              FailsWith(StatusCode::kConflict));
  EXPECT_EQ(Get("s-1").created_at, kT0);  // the original is untouched
}

// store.h: "kConflict if the id already exists in the tenant", so that a
// tenant-wide reader addresses a session by id alone.
TEST_P(StoreConformance, CreateSessionIdIsUniqueAcrossOwnersOfATenant) {
  CreateSession("s-1", kAlice);
  NewSession again;
  again.id = "s-1";
  EXPECT_THAT(db().CreateSession(kBob, std::move(again)),
              FailsWith(StatusCode::kConflict));
}

// Another tenant must not learn that the id exists (SPEC §6).
TEST_P(StoreConformance, OtherTenantMayReuseASessionId) {
  CreateSession("s-1", kAlice);
  EXPECT_EQ(CreateSession("s-1", kStranger).tenant_id, "t2");
  EXPECT_EQ(Get("s-1", kAlice).tenant_id, "t1");
}

TEST_P(StoreConformance, CreateSessionAcceptsIdOf256Bytes) {
  EXPECT_EQ(CreateSession(std::string(256, 'x')).id.size(), 256u);
  EXPECT_EQ(CreateSession("sessão-ünïcode-✓").id, "sessão-ünïcode-✓");
}

TEST_P(StoreConformance, CreateSessionRefusesBadIds) {
  const std::string bad[] = {
      "",  // empty
      std::string(257, 'x'),
      "a\x01"
      "b",  // C0 control
      "a\nb",
      "a\x7f"
      "b",  // DEL
      "a\xc2\x85"
      "b",  // C1 control U+0085
      "a\xff"
      "b",  // invalid UTF-8
      "a\xc0\xaf"
      "b",  // overlong '/'
      "a\xed\xa0\x80"
      "b",          // surrogate U+D800
      "a\xe2\x82",  // truncated sequence
  };
  for (const std::string& id : bad) {
    SCOPED_TRACE(testing::PrintToString(id));
    NewSession req;
    req.id = id;
    EXPECT_THAT(db().CreateSession(kAlice, std::move(req)),
                FailsOnField(StatusCode::kInvalidArgument, "id"));
  }
  SessionQuery all;
  EXPECT_THAT(Must(db().ListSessions(kAlice, all)).sessions, IsEmpty());
}

TEST_P(StoreConformance, CreateSessionRefusesBadReferenceIds) {
  NewSession parent;
  parent.parent_session_id = "p\x01";
  EXPECT_THAT(db().CreateSession(kAlice, std::move(parent)),
              FailsOnField(StatusCode::kInvalidArgument, "parentSessionId"));
  NewSession correlation;
  correlation.correlation_id = std::string(257, 'c');
  EXPECT_THAT(db().CreateSession(kAlice, std::move(correlation)),
              FailsOnField(StatusCode::kInvalidArgument, "correlationId"));
  NewSession run;
  run.current_backend_run_id = "";
  EXPECT_THAT(
      db().CreateSession(kAlice, std::move(run)),
      FailsOnField(StatusCode::kInvalidArgument, "currentBackendRunId"));
}

TEST_P(StoreConformance, CreateSessionLimitsValidationWarnings) {
  NewSession fifty;
  fifty.validation_warnings.assign(50, {"code", std::string(1024, 'm')});
  EXPECT_OK(db().CreateSession(kAlice, std::move(fifty)));

  NewSession many;
  many.validation_warnings.assign(51, {"code", "m"});
  EXPECT_THAT(db().CreateSession(kAlice, std::move(many)),
              FailsOnField(StatusCode::kInvalidArgument, "validationWarnings"));

  // SPEC §2.1: "each string <= 1,024 bytes". (records.h says a code is
  // 1-128 bytes, which SPEC and Limits do not say; not asserted here.)
  NewSession long_code;
  long_code.validation_warnings.push_back({std::string(1025, 'c'), "m"});
  EXPECT_THAT(db().CreateSession(kAlice, std::move(long_code)),
              FailsOnField(StatusCode::kInvalidArgument, "validationWarnings"));

  NewSession empty_code;
  empty_code.validation_warnings.push_back({"", "m"});
  EXPECT_THAT(db().CreateSession(kAlice, std::move(empty_code)),
              FailsOnField(StatusCode::kInvalidArgument, "validationWarnings"));

  NewSession long_message;
  long_message.validation_warnings.push_back({"code", std::string(1025, 'm')});
  EXPECT_THAT(db().CreateSession(kAlice, std::move(long_message)),
              FailsOnField(StatusCode::kInvalidArgument, "validationWarnings"));
}

// -------------------------------------------------------------- get, scope

TEST_P(StoreConformance, GetMissingSessionIsNotFound) {
  EXPECT_THAT(db().GetSession(kAlice, "nope"),
              FailsWith(StatusCode::kNotFound));
}

TEST_P(StoreConformance, OtherTenantSeesSessionAsMissing) {
  SessionIn(SessionStatus::kClosed, "s-1");
  const Scope& t2 = kStranger;  // an admin, but of tenant t2
  EXPECT_THAT(db().GetSession(t2, "s-1"), FailsWith(StatusCode::kNotFound));
  EXPECT_THAT(db().TransitionSession(t2, "s-1", SessionEvent::kAgentReady),
              FailsWith(StatusCode::kNotFound));
  EXPECT_THAT(db().UpdateSession(t2, "s-1", {}),
              FailsWith(StatusCode::kNotFound));
  EXPECT_THAT(db().ListEvents(t2, "s-1", 0, 10),
              FailsWith(StatusCode::kNotFound));
  EXPECT_THAT(db().Append(t2, "s-1", {.event_type = "x", .payload = "1"}),
              FailsWith(StatusCode::kNotFound));
  EXPECT_THAT(db().DeleteSession(t2, "s-1"), FailsWith(StatusCode::kNotFound));
  EXPECT_THAT(Must(db().ListSessions(t2, {})).sessions, IsEmpty());
  EXPECT_OK(db().GetSession(kAlice, "s-1"));  // nothing was deleted
}

TEST_P(StoreConformance, OtherOwnerSeesSessionAsMissing) {
  SessionIn(SessionStatus::kClosed, "s-1", kAlice);
  CreateSession("b-1", kBob);
  EXPECT_THAT(db().GetSession(kBob, "s-1"), FailsWith(StatusCode::kNotFound));
  EXPECT_THAT(db().TransitionSession(kBob, "s-1", SessionEvent::kAgentReady),
              FailsWith(StatusCode::kNotFound));
  EXPECT_THAT(db().UpdateSession(kBob, "s-1", {}),
              FailsWith(StatusCode::kNotFound));
  EXPECT_THAT(db().ListEvents(kBob, "s-1", 0, 10),
              FailsWith(StatusCode::kNotFound));
  EXPECT_THAT(db().Append(kBob, "s-1", {.event_type = "x", .payload = "1"}),
              FailsWith(StatusCode::kNotFound));
  EXPECT_THAT(db().DeleteSession(kBob, "s-1"),
              FailsWith(StatusCode::kNotFound));
  std::vector<std::string> listed;
  for (const Session& s : Must(db().ListSessions(kBob, {})).sessions) {
    listed.push_back(s.id);
  }
  EXPECT_THAT(listed, ElementsAre("b-1"));
}

TEST_P(StoreConformance, TenantReaderReadsEveryOwnerButCannotWrite) {
  SessionIn(SessionStatus::kRunning, "a-1", kAlice);
  CreateSession("b-1", kBob);
  AppendN("a-1", 2);

  EXPECT_EQ(Get("a-1", kReader).owner_key_id, "alice");
  EXPECT_EQ(Get("b-1", kReader).owner_key_id, "bob");
  EXPECT_EQ(Must(db().ListSessions(kReader, {})).sessions.size(), 2u);
  EXPECT_EQ(List("a-1", 0, 10, kReader).events.size(), 2u);

  EXPECT_THAT(db().CreateSession(kReader, {}),
              FailsWith(StatusCode::kForbidden));
  EXPECT_THAT(
      db().TransitionSession(kReader, "a-1", SessionEvent::kRunCompleted),
      FailsWith(StatusCode::kForbidden));
  SessionPatch patch;
  patch.claude_session_id.emplace("c");
  EXPECT_THAT(db().UpdateSession(kReader, "a-1", std::move(patch)),
              FailsWith(StatusCode::kForbidden));
  EXPECT_THAT(db().Append(kReader, "a-1", {.event_type = "x", .payload = "1"}),
              FailsWith(StatusCode::kForbidden));
  EXPECT_THAT(db().PauseSession(kReader, "a-1", {"why", "rita"}),
              FailsWith(StatusCode::kForbidden));
  EXPECT_THAT(db().EnqueueAction(kReader, {.session_id = "a-1"}),
              FailsWith(StatusCode::kForbidden));
  Session after = Get("a-1");
  EXPECT_EQ(after.status, SessionStatus::kRunning);
  EXPECT_EQ(after.events.last_seq, 2u);
}

TEST_P(StoreConformance, TenantAdminWritesOtherOwnersSessions) {
  CreateSession("a-1", kAlice);
  Advance(10);
  Session s = Transition("a-1", SessionEvent::kAgentReady, kAdmin);
  EXPECT_EQ(s.status, SessionStatus::kIdle);
  EXPECT_EQ(s.owner_key_id, "alice");  // ownership does not move

  Event e = Append("a-1", {.event_type = "note", .payload = "{}"}, kAdmin);
  EXPECT_EQ(e.owner_key_id, "alice");
  EXPECT_EQ(e.EventId(), "t1:alice:a-1:1");
  EXPECT_EQ(Get("a-1", kAlice).events.last_seq, 1u);
}

// ------------------------------------------------------------------ update

TEST_P(StoreConformance, UpdateSessionPatchesMutableFields) {
  NewSession req;
  req.id = "s-1";
  req.acp_agent_session_id = "acp-1";
  req.claude_session_id = "claude-1";
  req.parent_session_id = "p-1";
  Must(db().CreateSession(kAlice, std::move(req)));
  Advance(1000);

  SessionPatch patch;
  patch.claude_session_id.emplace("claude-2");
  patch.acp_agent_session_id.emplace(std::nullopt);  // clears it
  patch.current_backend_run_id.emplace("run-9");
  patch.backend_metadata.emplace(R"({"z": true, "a": null, "m": 1.50})");
  patch.validation_warnings = std::vector<ValidationWarning>{{"w", "msg"}};
  Session s = Must(db().UpdateSession(kAlice, "s-1", std::move(patch)));

  EXPECT_EQ(s.claude_session_id, "claude-2");
  EXPECT_FALSE(s.acp_agent_session_id.has_value());
  EXPECT_EQ(s.current_backend_run_id, "run-9");
  EXPECT_EQ(s.backend_metadata, R"({"a":null,"m":1.5,"z":true})");
  ASSERT_EQ(s.validation_warnings.size(), 1u);
  EXPECT_EQ(s.validation_warnings[0].code, "w");
  EXPECT_EQ(s.parent_session_id, "p-1");  // untouched
  EXPECT_EQ(s.created_at, kT0);
  EXPECT_EQ(s.updated_at, kT0 + 1000);

  Session got = Get("s-1");
  EXPECT_FALSE(got.acp_agent_session_id.has_value());
  EXPECT_EQ(got.backend_metadata, s.backend_metadata);
  EXPECT_EQ(got.updated_at, kT0 + 1000);
}

TEST_P(StoreConformance, UpdateSessionClearsMetadata) {
  NewSession req;
  req.id = "s-1";
  req.backend_metadata = R"({"a":1})";
  Must(db().CreateSession(kAlice, std::move(req)));
  SessionPatch patch;
  patch.backend_metadata.emplace(std::nullopt);
  EXPECT_FALSE(Must(db().UpdateSession(kAlice, "s-1", std::move(patch)))
                   .backend_metadata.has_value());
}

TEST_P(StoreConformance, UpdateSessionRefusesBadInputAndChangesNothing) {
  CreateSession("s-1");
  Advance(10);
  SessionPatch patch;
  patch.claude_session_id.emplace("ok");
  patch.backend_metadata.emplace(R"({"password":"hunter2"})");
  EXPECT_THAT(db().UpdateSession(kAlice, "s-1", std::move(patch)),
              FailsOnField(StatusCode::kInvalidArgument, "backendMetadata"));

  SessionPatch bad_id;
  bad_id.claude_session_id.emplace("a\x01");
  EXPECT_THAT(db().UpdateSession(kAlice, "s-1", std::move(bad_id)),
              FailsOnField(StatusCode::kInvalidArgument, "claudeSessionId"));

  Session s = Get("s-1");
  EXPECT_FALSE(s.claude_session_id.has_value());
  EXPECT_EQ(s.updated_at, kT0);
}

TEST_P(StoreConformance, UpdateMissingSessionIsNotFound) {
  EXPECT_THAT(db().UpdateSession(kAlice, "nope", {}),
              FailsWith(StatusCode::kNotFound));
}

// ------------------------------------------------------------------ delete

TEST_P(StoreConformance, DeleteSessionRequiresTerminalStatus) {
  for (SessionStatus status :
       {SessionStatus::kInitializing, SessionStatus::kIdle,
        SessionStatus::kRunning, SessionStatus::kPaused,
        SessionStatus::kIntervening, SessionStatus::kClosing}) {
    std::string id = "s-" + std::to_string(static_cast<int>(status));
    SessionIn(status, id);
    EXPECT_THAT(db().DeleteSession(kAlice, id),
                FailsWith(StatusCode::kConflict))
        << id;
    EXPECT_OK(db().GetSession(kAlice, id));
  }
}

TEST_P(StoreConformance, DeleteTerminalSessionRemovesEverythingOfIt) {
  SessionIn(SessionStatus::kRunning, "s-1");
  AppendN("s-1", 3);
  Action a = Enqueue("s-1");
  RequestPause("s-1");
  Must(db().ResumeSession(kAlice, "s-1", {.resumed_by = "op"}));
  Transition("s-1", SessionEvent::kCloseRequested);
  Transition("s-1", SessionEvent::kCloseCompleted);
  SessionIn(SessionStatus::kFailed, "s-2");

  EXPECT_OK(db().DeleteSession(kAlice, "s-1"));
  EXPECT_OK(db().DeleteSession(kAlice, "s-2"));

  EXPECT_THAT(db().GetSession(kAlice, "s-1"), FailsWith(StatusCode::kNotFound));
  EXPECT_THAT(db().GetSession(kAlice, "s-2"), FailsWith(StatusCode::kNotFound));
  EXPECT_THAT(db().ListEvents(kAlice, "s-1", 0, 10),
              FailsWith(StatusCode::kNotFound));
  EXPECT_THAT(db().GetAction(kAlice, a.action_id),
              FailsWith(StatusCode::kNotFound));
  EXPECT_THAT(db().GetPause(kAlice, "s-1"), FailsWith(StatusCode::kNotFound));
  EXPECT_THAT(db().DeleteSession(kAlice, "s-1"),
              FailsWith(StatusCode::kNotFound));
  EXPECT_THAT(Must(db().ListSessions(kAlice, {})).sessions, IsEmpty());
  EXPECT_EQ(TryLease(), std::nullopt);
}

TEST_P(StoreConformance, DeleteByReaderIsForbidden) {
  SessionIn(SessionStatus::kClosed, "s-1");
  EXPECT_THAT(db().DeleteSession(kReader, "s-1"),
              FailsWith(StatusCode::kForbidden));
  EXPECT_OK(db().GetSession(kAlice, "s-1"));
}

}  // namespace
}  // namespace acpstore::conformance
