// Tests for request validation (SPEC §2.1-2.7): each rule accepts its
// boundary value and refuses the next one, naming the camelCase field.

#include "record/validate.h"

#include <gtest/gtest.h>

#include <string>

namespace acpstore::record {
namespace {

const Limits kLimits;

// The "field" detail of a failure, or "ok".
std::string FieldOf(const Status& s) {
  if (s.ok()) return "ok";
  const StatusDetail* d = s.Detail("field");
  return d ? std::get<std::string>(d->value) : "no field detail";
}

std::string Bytes(size_t n) { return std::string(n, 'x'); }

// ------------------------------------------------------------- primitives

TEST(CheckTest, IdLengthIsOneToMax) {
  EXPECT_TRUE(CheckId("a", "id", 256).ok());
  EXPECT_TRUE(CheckId(Bytes(256), "id", 256).ok());
  Status too_long = CheckId(Bytes(257), "id", 256);
  EXPECT_EQ(too_long.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(too_long.message(), "id: exceeds 256 bytes");
  EXPECT_EQ(FieldOf(too_long), "id");
  EXPECT_EQ(CheckId("", "id", 256).message(), "id: must not be empty");
}

TEST(CheckTest, IdRefusesControlCharacters) {
  for (std::string bad : {std::string("a\nb"), std::string("a\0b", 3),
                          std::string("tab\t"), std::string("del\x7f"),
                          std::string("c1\xC2\x80"), std::string("c1\xC2\x9F")}) {
    Status s = CheckId(bad, "sessionId", 256);
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.message(), "sessionId: contains a control character");
  }
  // U+00A0 (C2 A0) is just past C1 and fine; ids are never trimmed.
  EXPECT_TRUE(CheckId("nb\xC2\xA0sp", "id", 256).ok());
  EXPECT_TRUE(CheckId(" padded ", "id", 256).ok());
  EXPECT_TRUE(CheckId("\xE4\xB8\xAD\xF0\x9F\x98\x80", "id", 256).ok());
}

TEST(CheckTest, IdRefusesInvalidUtf8) {
  Status s = CheckId("ab\xff", "id", 256);
  EXPECT_EQ(s.message(), "id: invalid UTF-8 at offset 2");
  EXPECT_FALSE(CheckId("\xed\xa0\x80", "id", 256).ok());      // surrogate
  EXPECT_FALSE(CheckId("\xc0\xaf", "id", 256).ok());          // overlong '/'
  EXPECT_FALSE(CheckId("\xf4\x90\x80\x80", "id", 256).ok());  // > U+10FFFF
}

TEST(CheckTest, Utf8AcceptsEveryValidBoundary) {
  for (const char* ok : {"\x7f", "\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80",
                         "\xED\x9F\xBF", "\xEE\x80\x80", "\xEF\xBF\xBF",
                         "\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF"}) {
    EXPECT_TRUE(CheckUtf8(ok, "f").ok()) << ok;
  }
  for (const char* bad : {"\x80", "\xC1\xBF", "\xE0\x9F\xBF", "\xED\xA0\x80",
                          "\xF0\x8F\xBF\xBF", "\xF4\x90\x80\x80", "\xF5\x80\x80\x80",
                          "\xE2\x82", "\xC2"}) {
    EXPECT_FALSE(CheckUtf8(bad, "f").ok()) << bad;
  }
}

TEST(CheckTest, TextAllowsControlsButNotBadUtf8) {
  EXPECT_TRUE(CheckText("line1\nline2\t", "reason", 2048).ok());
  EXPECT_FALSE(CheckText("", "reason", 2048).ok());
  EXPECT_TRUE(CheckText("", "guidance", 8192, /*allow_empty=*/true).ok());
  EXPECT_FALSE(CheckText(Bytes(2049), "reason", 2048).ok());
  EXPECT_FALSE(CheckText("\xff", "reason", 2048).ok());
}

// ---------------------------------------------------------------- sessions

TEST(ValidateSessionTest, EmptyRequestIsValid) {
  NewSession req;
  EXPECT_TRUE(ValidateNewSession(&req, kLimits).ok());
}

TEST(ValidateSessionTest, EveryIdFieldIsChecked) {
  struct Case {
    std::optional<std::string> NewSession::*member;
    const char* field;
  } cases[] = {
      {&NewSession::id, "id"},
      {&NewSession::parent_session_id, "parentSessionId"},
      {&NewSession::root_session_id, "rootSessionId"},
      {&NewSession::correlation_id, "correlationId"},
      {&NewSession::resume_from_session_id, "resumeFromSessionId"},
      {&NewSession::acp_agent_session_id, "acpAgentSessionId"},
      {&NewSession::claude_session_id, "claudeSessionId"},
      {&NewSession::current_backend_run_id, "currentBackendRunId"},
  };
  for (const Case& c : cases) {
    NewSession ok;
    ok.*c.member = Bytes(256);
    EXPECT_TRUE(ValidateNewSession(&ok, kLimits).ok()) << c.field;
    NewSession bad;
    bad.*c.member = Bytes(257);
    EXPECT_EQ(FieldOf(ValidateNewSession(&bad, kLimits)), c.field);
    NewSession empty;
    empty.*c.member = "";
    EXPECT_EQ(FieldOf(ValidateNewSession(&empty, kLimits)), c.field);
  }
}

TEST(ValidateSessionTest, MetadataIsCanonicalisedInPlace) {
  NewSession req;
  req.backend_metadata = R"({ "b": 1, "a": 2 })";
  ASSERT_TRUE(ValidateNewSession(&req, kLimits).ok());
  EXPECT_EQ(*req.backend_metadata, R"({"a":2,"b":1})");

  NewSession bad;
  bad.backend_metadata = R"({"foo": {"nested": true}})";
  EXPECT_EQ(FieldOf(ValidateNewSession(&bad, kLimits)), "backendMetadata.foo");
}

TEST(ValidateSessionTest, ValidationWarningsAreBounded) {
  NewSession req;
  req.validation_warnings.assign(50, ValidationWarning{"code", "message"});
  EXPECT_TRUE(ValidateNewSession(&req, kLimits).ok());
  req.validation_warnings.push_back(ValidationWarning{"code", ""});
  EXPECT_EQ(FieldOf(ValidateNewSession(&req, kLimits)), "validationWarnings");

  NewSession one;
  one.validation_warnings = {{"c", Bytes(1024)}, {Bytes(1024), ""}};
  EXPECT_TRUE(ValidateNewSession(&one, kLimits).ok());
  one.validation_warnings[1].message = Bytes(1025);
  EXPECT_EQ(FieldOf(ValidateNewSession(&one, kLimits)),
            "validationWarnings[1].message");
  one.validation_warnings[1] = {"", "m"};
  EXPECT_EQ(FieldOf(ValidateNewSession(&one, kLimits)),
            "validationWarnings[1].code");
  one.validation_warnings[1] = {Bytes(1025), "m"};
  EXPECT_EQ(FieldOf(ValidateNewSession(&one, kLimits)),
            "validationWarnings[1].code");
}

TEST(ValidateSessionTest, PatchChecksSetFieldsAndAllowsClearing) {
  SessionPatch patch;
  EXPECT_TRUE(ValidateSessionPatch(&patch, kLimits).ok());
  patch.claude_session_id = std::optional<std::string>();  // clear
  patch.backend_metadata = std::optional<std::string>();  // clear
  EXPECT_TRUE(ValidateSessionPatch(&patch, kLimits).ok());
  patch.acp_agent_session_id = std::optional<std::string>("");
  EXPECT_EQ(FieldOf(ValidateSessionPatch(&patch, kLimits)), "acpAgentSessionId");
  patch.acp_agent_session_id.reset();
  patch.current_backend_run_id = std::optional<std::string>("run\n1");
  EXPECT_EQ(FieldOf(ValidateSessionPatch(&patch, kLimits)), "currentBackendRunId");
  patch.current_backend_run_id.reset();
  patch.backend_metadata = std::optional<std::string>(R"({"z":1,"y":2})");
  ASSERT_TRUE(ValidateSessionPatch(&patch, kLimits).ok());
  EXPECT_EQ(**patch.backend_metadata, R"({"y":2,"z":1})");
  patch.backend_metadata = std::optional<std::string>(R"({"password":"x"})");
  EXPECT_EQ(FieldOf(ValidateSessionPatch(&patch, kLimits)),
            "backendMetadata.password");
  patch.backend_metadata.reset();
  patch.validation_warnings = std::vector<ValidationWarning>(51, {"c", "m"});
  EXPECT_EQ(FieldOf(ValidateSessionPatch(&patch, kLimits)), "validationWarnings");
}

TEST(ValidateSessionTest, ListLimitIsOneTo1000) {
  EXPECT_EQ(FieldOf(ValidateListLimit(0)), "limit");
  EXPECT_TRUE(ValidateListLimit(1).ok());
  EXPECT_TRUE(ValidateListLimit(1000).ok());
  EXPECT_EQ(FieldOf(ValidateListLimit(1001)), "limit");
  SessionQuery q;
  EXPECT_TRUE(ValidateSessionQuery(q).ok());  // default 100
  q.limit = 0;
  EXPECT_FALSE(ValidateSessionQuery(q).ok());
}

// ------------------------------------------------------------------ events

NewEvent GoodEvent() {
  NewEvent e;
  e.event_type = "message.delta";
  e.payload = R"({ "text" : "hi" })";
  return e;
}

TEST(ValidateEventTest, GoodEventIsCanonicalised) {
  NewEvent e = GoodEvent();
  e.client_event_id = Bytes(256);
  e.backend_run_id = "run-1";
  e.payload_ref = "s3://bucket/key";
  e.occurred_at = 0;
  ASSERT_TRUE(ValidateNewEvent(&e, kLimits).ok());
  EXPECT_EQ(e.payload, R"({"text":"hi"})");
}

TEST(ValidateEventTest, EventTypeIsOneTo128Bytes) {
  NewEvent e = GoodEvent();
  e.event_type = Bytes(128);
  EXPECT_TRUE(ValidateNewEvent(&e, kLimits).ok());
  e.event_type = Bytes(129);
  EXPECT_EQ(FieldOf(ValidateNewEvent(&e, kLimits)), "eventType");
  e.event_type = "";
  EXPECT_EQ(FieldOf(ValidateNewEvent(&e, kLimits)), "eventType");
}

TEST(ValidateEventTest, OptionalIdsAreOneTo256Bytes) {
  for (auto member : {&NewEvent::client_event_id, &NewEvent::backend_run_id,
                      &NewEvent::payload_ref}) {
    NewEvent e = GoodEvent();
    e.*member = Bytes(257);
    EXPECT_FALSE(ValidateNewEvent(&e, kLimits).ok());
    e = GoodEvent();
    e.*member = "";
    EXPECT_FALSE(ValidateNewEvent(&e, kLimits).ok());
  }
  NewEvent e = GoodEvent();
  e.client_event_id = Bytes(257);
  EXPECT_EQ(FieldOf(ValidateNewEvent(&e, kLimits, "events[4]")),
            "events[4].clientEventId");
}

TEST(ValidateEventTest, OccurredAtIsWithinYears1970To9999) {
  NewEvent e = GoodEvent();
  e.occurred_at = 253402300799999;  // 9999-12-31T23:59:59.999Z
  EXPECT_TRUE(ValidateNewEvent(&e, kLimits).ok());
  e.occurred_at = 253402300800000;
  EXPECT_EQ(FieldOf(ValidateNewEvent(&e, kLimits)), "occurredAt");
  e.occurred_at = -1;
  EXPECT_EQ(FieldOf(ValidateNewEvent(&e, kLimits)), "occurredAt");
}

TEST(ValidateEventTest, PayloadErrorsNameTheEvent) {
  NewEvent e = GoodEvent();
  e.payload = R"({"a":1,"a":2})";
  Status s = ValidateNewEvent(&e, kLimits, "events[2]");
  EXPECT_EQ(FieldOf(s), "events[2].payload");
  EXPECT_EQ(s.message(), "events[2].payload: duplicate key \"a\"");
}

AppendRequest Batch(size_t n) {
  AppendRequest req;
  for (size_t i = 0; i < n; ++i) {
    NewEvent e = GoodEvent();
    e.client_event_id = "c" + std::to_string(i);
    req.events.push_back(e);
  }
  return req;
}

TEST(ValidateAppendTest, BatchSizeIsOneToMax) {
  AppendRequest empty;
  EXPECT_EQ(FieldOf(ValidateAppendRequest(&empty, kLimits)), "events");
  AppendRequest full = Batch(1000);
  EXPECT_TRUE(ValidateAppendRequest(&full, kLimits).ok());
  AppendRequest over = Batch(1001);
  Status s = ValidateAppendRequest(&over, kLimits);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(s), "events");
}

TEST(ValidateAppendTest, EveryEventIsValidatedAndCanonicalised) {
  AppendRequest req = Batch(3);
  req.events[1].payload = "[ 1 , 2 ]";
  ASSERT_TRUE(ValidateAppendRequest(&req, kLimits).ok());
  EXPECT_EQ(req.events[1].payload, "[1,2]");
  req = Batch(3);
  std::string deep(65, '[');
  req.events[2].payload = deep + std::string(65, ']');
  Status s = ValidateAppendRequest(&req, kLimits);
  EXPECT_EQ(s.message(), "events[2].payload: nesting depth exceeds 64");
  EXPECT_EQ(FieldOf(s), "events[2].payload");
}

TEST(ValidateAppendTest, ClientEventIdsAreUniqueWithinABatch) {
  AppendRequest req = Batch(4);
  req.events[3].client_event_id = "c1";
  Status s = ValidateAppendRequest(&req, kLimits);
  EXPECT_EQ(FieldOf(s), "events[3].clientEventId");
  EXPECT_NE(s.message().find("events[1].clientEventId"), std::string::npos);
  // Events without a clientEventId never collide.
  AppendRequest anonymous = Batch(3);
  for (NewEvent& e : anonymous.events) e.client_event_id.reset();
  EXPECT_TRUE(ValidateAppendRequest(&anonymous, kLimits).ok());
}

TEST(ValidateAppendTest, OversizedPayloadIsPayloadTooLarge) {
  Limits limits;
  limits.max_payload_bytes = 16;
  AppendRequest req = Batch(1);
  req.events[0].payload = "\"" + Bytes(20) + "\"";
  Status s = ValidateAppendRequest(&req, limits);
  EXPECT_EQ(s.code(), StatusCode::kPayloadTooLarge);
  EXPECT_EQ(FieldOf(s), "events[0].payload");
}

// Ids that become a URL path segment may not be a dot segment, which
// fetch() and browsers drop from a path; other ids may (SPEC 2.5).
TEST(ValidateTest, PathIdsAreNotDotSegments) {
  for (const char* dots : {".", ".."}) {
    NewSession session;
    session.id = dots;
    Status s = ValidateNewSession(&session, kLimits);
    EXPECT_EQ(FieldOf(s), "id") << dots;
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    NewAction action;
    action.session_id = "s1";
    action.action_id = dots;
    EXPECT_EQ(FieldOf(ValidateNewAction(&action, kLimits)), "actionId") << dots;
    NewSession conversation;
    conversation.conversation_id = dots;  // not in a path: an id like any
    EXPECT_TRUE(ValidateNewSession(&conversation, kLimits).ok()) << dots;
  }
  for (const char* fine : {"...", ".a", "a.", "%2E"}) {
    NewSession session;
    session.id = fine;
    EXPECT_TRUE(ValidateNewSession(&session, kLimits).ok()) << fine;
  }
}

// ----------------------------------------------------------------- actions

TEST(ValidateActionTest, RulesOfEveryField) {
  NewAction a;
  a.session_id = "s1";
  a.metadata = R"({"b":1,"a":2})";
  ASSERT_TRUE(ValidateNewAction(&a, kLimits).ok());
  EXPECT_EQ(*a.metadata, R"({"a":2,"b":1})");

  struct Case {
    std::optional<std::string> NewAction::*member;
    const char* field;
  } cases[] = {{&NewAction::action_id, "actionId"},
               {&NewAction::idempotency_key, "idempotencyKey"},
               {&NewAction::approval_id, "approvalId"},
               {&NewAction::control_request_id, "controlRequestId"}};
  for (const Case& c : cases) {
    NewAction bad;
    bad.session_id = "s1";
    bad.*c.member = Bytes(257);
    EXPECT_EQ(FieldOf(ValidateNewAction(&bad, kLimits)), c.field);
  }
  NewAction no_session;
  EXPECT_EQ(FieldOf(ValidateNewAction(&no_session, kLimits)), "sessionId");
  NewAction late;
  late.session_id = "s1";
  late.available_at = 253402300800000;
  EXPECT_EQ(FieldOf(ValidateNewAction(&late, kLimits)), "availableAt");
  NewAction secret;
  secret.session_id = "s1";
  secret.metadata = R"({"x-api-key":"k"})";
  EXPECT_EQ(FieldOf(ValidateNewAction(&secret, kLimits)), "metadata.x-api-key");
}

TEST(ValidateActionTest, LeaseMsIs1000To3600000) {
  EXPECT_EQ(FieldOf(ValidateLeaseMs(999)), "leaseMs");
  EXPECT_TRUE(ValidateLeaseMs(1000).ok());
  EXPECT_TRUE(ValidateLeaseMs(3600000).ok());
  EXPECT_EQ(FieldOf(ValidateLeaseMs(3600001)), "leaseMs");
  LeaseRequest req;
  EXPECT_TRUE(ValidateLeaseRequest(req, kLimits).ok());
  req.session_id = "";
  EXPECT_EQ(FieldOf(ValidateLeaseRequest(req, kLimits)), "sessionId");
}

TEST(ValidateActionTest, QueryChecksLimitAndSession) {
  ActionQuery q;
  EXPECT_TRUE(ValidateActionQuery(q).ok());
  q.limit = 1001;
  EXPECT_EQ(FieldOf(ValidateActionQuery(q)), "limit");
  q.limit = 10;
  q.session_id = "bad\x01";
  EXPECT_EQ(FieldOf(ValidateActionQuery(q)), "sessionId");
}

TEST(ValidateActionTest, OptionalMetadataHelper) {
  std::optional<std::string> none;
  EXPECT_TRUE(ValidateOptionalMetadata(&none, kLimits, "resultMetadata").ok());
  std::optional<std::string> m = R"({"z":true,"a":null})";
  ASSERT_TRUE(ValidateOptionalMetadata(&m, kLimits, "resultMetadata").ok());
  EXPECT_EQ(*m, R"({"a":null,"z":true})");
  std::optional<std::string> bad = R"({"Cookie":"c"})";
  EXPECT_EQ(FieldOf(ValidateOptionalMetadata(&bad, kLimits, "errorMetadata")),
            "errorMetadata.Cookie");
}

// ------------------------------------------------------------------ pauses

TEST(ValidatePauseTest, PauseRequest) {
  PauseRequest req;
  req.reason = Bytes(2048);
  req.requested_by = "alice";
  req.metadata = R"({"ticket":"T-1"})";
  EXPECT_TRUE(ValidatePauseRequest(&req, kLimits).ok());
  req.reason = Bytes(2049);
  EXPECT_EQ(FieldOf(ValidatePauseRequest(&req, kLimits)), "reason");
  // UTF-16 code units, not bytes: 1,024 emoji are 2,048 units (4,096
  // bytes); one more is over.
  std::string emoji;
  for (int i = 0; i < 1024; ++i) emoji += "\xf0\x9f\x98\x80";
  req.reason = emoji;
  EXPECT_TRUE(ValidatePauseRequest(&req, kLimits).ok());
  req.reason = emoji + "x";
  EXPECT_EQ(FieldOf(ValidatePauseRequest(&req, kLimits)), "reason");
  req.reason = "";
  EXPECT_EQ(FieldOf(ValidatePauseRequest(&req, kLimits)), "reason");
  req.reason = "why";
  req.requested_by = "";
  EXPECT_EQ(FieldOf(ValidatePauseRequest(&req, kLimits)), "requestedBy");
  req.requested_by = "alice";
  req.idempotency_key = Bytes(257);
  EXPECT_EQ(FieldOf(ValidatePauseRequest(&req, kLimits)), "idempotencyKey");
  req.idempotency_key.reset();
  req.metadata = R"({"__proto__":1})";
  EXPECT_EQ(FieldOf(ValidatePauseRequest(&req, kLimits)), "metadata.__proto__");
}

TEST(ValidatePauseTest, InterventionStartAndComplete) {
  InterventionStartRequest start;
  start.intervention_by = "bob";
  EXPECT_TRUE(ValidateInterventionStart(start, kLimits).ok());
  start.intervention_id = "";
  EXPECT_EQ(FieldOf(ValidateInterventionStart(start, kLimits)), "interventionId");
  start.intervention_id.reset();
  start.intervention_by = "b\x1b[31m";
  EXPECT_EQ(FieldOf(ValidateInterventionStart(start, kLimits)), "interventionBy");

  InterventionCompleteRequest done;
  done.intervention_id = "i1";
  done.completed_by = "bob";
  done.guidance = Bytes(8192);
  EXPECT_TRUE(ValidateInterventionComplete(done, kLimits).ok());
  done.guidance = "";
  EXPECT_TRUE(ValidateInterventionComplete(done, kLimits).ok());
  done.guidance = Bytes(8193);
  EXPECT_EQ(FieldOf(ValidateInterventionComplete(done, kLimits)), "guidance");
  done.guidance.reset();
  done.completed_by = Bytes(257);
  EXPECT_EQ(FieldOf(ValidateInterventionComplete(done, kLimits)), "completedBy");
  done.completed_by = "bob";
  done.intervention_id = "";
  EXPECT_EQ(FieldOf(ValidateInterventionComplete(done, kLimits)), "interventionId");
}

TEST(ValidatePauseTest, ResumeRequest) {
  ResumeRequest req;
  req.resumed_by = "carol";
  req.metadata = R"({"b":"2","a":"1"})";
  ASSERT_TRUE(ValidateResumeRequest(&req, kLimits).ok());
  EXPECT_EQ(*req.metadata, R"({"a":"1","b":"2"})");
  req.resume_id = Bytes(257);
  EXPECT_EQ(FieldOf(ValidateResumeRequest(&req, kLimits)), "resumeId");
  req.resume_id.reset();
  req.resumed_by = "";
  EXPECT_EQ(FieldOf(ValidateResumeRequest(&req, kLimits)), "resumedBy");
}

TEST(ValidateLimitsTest, IdLimitIsConfigurable) {
  Limits small;
  small.max_id_bytes = 4;
  NewSession req;
  req.id = "abcd";
  EXPECT_TRUE(ValidateNewSession(&req, small).ok());
  req.id = "abcde";
  EXPECT_EQ(ValidateNewSession(&req, small).message(), "id: exceeds 4 bytes");
}

}  // namespace
}  // namespace acpstore::record
