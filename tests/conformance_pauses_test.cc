// Conformance scenarios for pause records (SPEC §2.4, §5.4): pause,
// intervention start/complete, resume, their idempotency keys, and the
// pause and session statuses they move together.

#include <string>

#include "store_conformance.h"

namespace acpstore::conformance {
namespace {

TEST_P(StoreConformance, PauseFromRunningPausesSessionAndRecord) {
  SessionIn(SessionStatus::kRunning, "s-1");
  Advance(40);
  PauseResult r = Must(db().PauseSession(kAlice, "s-1",
                                         {.reason = "needs review",
                                          .requested_by = "ops@example.com",
                                          .idempotency_key = "k-1",
                                          .metadata = R"({"z":1,"a":2})"}));

  EXPECT_TRUE(r.created);
  EXPECT_EQ(r.session.status, SessionStatus::kPaused);
  EXPECT_EQ(r.session.updated_at, kT0 + 40);
  const Pause& p = r.pause;
  EXPECT_FALSE(p.pause_id.empty());
  EXPECT_EQ(p.session_id, "s-1");
  EXPECT_EQ(p.tenant_id, "t1");
  EXPECT_EQ(p.owner_key_id, "alice");
  EXPECT_EQ(p.status, PauseStatus::kPaused);
  EXPECT_EQ(p.reason, "needs review");
  EXPECT_EQ(p.requested_by, "ops@example.com");
  EXPECT_EQ(p.requested_at, kT0 + 40);
  EXPECT_EQ(p.idempotency_key, "k-1");
  EXPECT_EQ(p.metadata, R"({"a":2,"z":1})");
  EXPECT_EQ(p.updated_at, kT0 + 40);

  EXPECT_EQ(Get("s-1").status, SessionStatus::kPaused);
  Pause got = Must(db().GetPause(kAlice, "s-1"));
  EXPECT_EQ(got.pause_id, p.pause_id);
  EXPECT_EQ(got.status, PauseStatus::kPaused);
}

TEST_P(StoreConformance, PauseWhenNotRunningIsInvalidTransition) {
  for (SessionStatus status :
       {SessionStatus::kInitializing, SessionStatus::kIdle,
        SessionStatus::kClosing, SessionStatus::kClosed,
        SessionStatus::kFailed}) {
    std::string id = "s-" + std::to_string(static_cast<int>(status));
    SCOPED_TRACE(id);
    SessionIn(status, id);
    EXPECT_THAT(db().PauseSession(kAlice, id, {"why", "op"}),
                FailsWith(StatusCode::kInvalidTransition));
    EXPECT_EQ(Get(id).status, status);
    EXPECT_THAT(db().GetPause(kAlice, id), FailsWith(StatusCode::kNotFound));
  }
}

TEST_P(StoreConformance, PauseWhilePausedIsAlreadyPaused) {
  SessionIn(SessionStatus::kPaused, "paused");
  EXPECT_THAT(db().PauseSession(kAlice, "paused", {"again", "op"}),
              FailsWith(StatusCode::kAlreadyPaused));
  SessionIn(SessionStatus::kIntervening, "intervening");
  EXPECT_THAT(db().PauseSession(kAlice, "intervening", {"again", "op"}),
              FailsWith(StatusCode::kAlreadyPaused));
  EXPECT_EQ(Get("intervening").status, SessionStatus::kIntervening);
}

TEST_P(StoreConformance, PauseWithSameIdempotencyKeyReturnsThatPause) {
  SessionIn(SessionStatus::kRunning, "s-1");
  PauseRequest req{
      .reason = "r", .requested_by = "op", .idempotency_key = "k-1"};
  PauseResult first = Must(db().PauseSession(kAlice, "s-1", req));
  Advance(10);
  PauseResult again = Must(db().PauseSession(kAlice, "s-1", req));
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.pause.pause_id, first.pause.pause_id);
  EXPECT_EQ(again.pause.requested_at, kT0);
  EXPECT_EQ(again.session.status, SessionStatus::kPaused);

  PauseRequest other_key = req;
  other_key.idempotency_key = "k-2";
  EXPECT_THAT(db().PauseSession(kAlice, "s-1", other_key),
              FailsWith(StatusCode::kAlreadyPaused));
}

TEST_P(StoreConformance, PauseReasonIsOneTo2048Bytes) {
  SessionIn(SessionStatus::kRunning, "s-1");
  EXPECT_THAT(db().PauseSession(kAlice, "s-1", {"", "op"}),
              FailsOnField(StatusCode::kInvalidArgument, "reason"));
  EXPECT_THAT(db().PauseSession(kAlice, "s-1", {std::string(2049, 'r'), "op"}),
              FailsOnField(StatusCode::kInvalidArgument, "reason"));
  EXPECT_THAT(db().PauseSession(kAlice, "s-1", {"why", ""}),
              FailsOnField(StatusCode::kInvalidArgument, "requestedBy"));
  EXPECT_THAT(db().PauseSession(kAlice, "s-1", {"why", std::string(257, 'o')}),
              FailsOnField(StatusCode::kInvalidArgument, "requestedBy"));
  EXPECT_EQ(Get("s-1").status, SessionStatus::kRunning);
  EXPECT_OK(db().PauseSession(kAlice, "s-1", {std::string(2048, 'r'), "op"}));
}

// Pause texts count UTF-16 code units, as Aegis does (SPEC §2.4): 700 CJK
// characters are 2,100 bytes but 700 units; an emoji counts 2.
TEST_P(StoreConformance, PauseTextsCountUtf16Units) {
  SessionIn(SessionStatus::kRunning, "s-1");
  std::string cjk;
  for (int i = 0; i < 700; ++i) cjk += "\xe6\x96\x87";  // U+6587
  std::string emoji;
  for (int i = 0; i < 1025; ++i) emoji += "\xf0\x9f\x98\x80";  // U+1F600
  EXPECT_THAT(db().PauseSession(kAlice, "s-1", {emoji, "op"}),
              FailsOnField(StatusCode::kInvalidArgument, "reason"));
  EXPECT_OK(db().PauseSession(kAlice, "s-1", {cjk, "op"}));
  EXPECT_EQ(db().GetPause(kAlice, "s-1")->reason, cjk);
}

TEST_P(StoreConformance, PauseOutsideScope) {
  SessionIn(SessionStatus::kRunning, "s-1", kAlice);
  EXPECT_THAT(db().PauseSession(kAlice, "nope", {"why", "op"}),
              FailsWith(StatusCode::kNotFound));
  EXPECT_THAT(db().PauseSession(kBob, "s-1", {"why", "op"}),
              FailsWith(StatusCode::kNotFound));
  EXPECT_THAT(db().PauseSession(kStranger, "s-1", {"why", "op"}),
              FailsWith(StatusCode::kNotFound));
  RequestPause("s-1", {}, kAdmin);
  EXPECT_THAT(db().GetPause(kBob, "s-1"), FailsWith(StatusCode::kNotFound));
  EXPECT_OK(db().GetPause(kReader, "s-1"));
  EXPECT_THAT(db().ResumeSession(kReader, "s-1", {.resumed_by = "rita"}),
              FailsWith(StatusCode::kForbidden));
}

// ------------------------------------------------------------ intervention

TEST_P(StoreConformance, InterventionStartMovesBothToIntervening) {
  SessionIn(SessionStatus::kPaused, "s-1");
  Advance(15);
  PauseResult r = Must(db().StartIntervention(
      kAlice, "s-1", {.intervention_by = "alice@example.com"}));
  EXPECT_EQ(r.session.status, SessionStatus::kIntervening);
  EXPECT_EQ(r.session.updated_at, kT0 + 15);
  EXPECT_EQ(r.pause.status, PauseStatus::kIntervening);
  ASSERT_TRUE(r.pause.intervention_id.has_value());
  EXPECT_TRUE(IsUuidV4(*r.pause.intervention_id)) << *r.pause.intervention_id;
  EXPECT_EQ(r.pause.intervention_by, "alice@example.com");
  EXPECT_EQ(r.pause.intervention_started_at, kT0 + 15);
  EXPECT_EQ(Must(db().GetPause(kAlice, "s-1")).status,
            PauseStatus::kIntervening);
}

TEST_P(StoreConformance, InterventionStartWithSameIdIsIdempotent) {
  SessionIn(SessionStatus::kPaused, "s-1");
  InterventionStartRequest req{.intervention_by = "op",
                               .intervention_id = "iv-1"};
  PauseResult first = Must(db().StartIntervention(kAlice, "s-1", req));
  Advance(10);
  PauseResult again = Must(db().StartIntervention(kAlice, "s-1", req));
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.pause.pause_id, first.pause.pause_id);
  EXPECT_EQ(again.pause.intervention_id, "iv-1");
  EXPECT_EQ(again.pause.intervention_started_at, kT0);
  EXPECT_EQ(again.session.status, SessionStatus::kIntervening);
}

TEST_P(StoreConformance, InterventionWithoutActivePauseIsNotPaused) {
  SessionIn(SessionStatus::kRunning, "s-1");
  EXPECT_THAT(db().StartIntervention(kAlice, "s-1", {.intervention_by = "op"}),
              FailsWith(StatusCode::kNotPaused));
  EXPECT_THAT(
      db().CompleteIntervention(
          kAlice, "s-1", {.intervention_id = "iv-1", .completed_by = "op"}),
      FailsWith(StatusCode::kNotPaused));
  EXPECT_EQ(Get("s-1").status, SessionStatus::kRunning);
}

TEST_P(StoreConformance, InterventionCompleteNeedsTheMatchingId) {
  SessionIn(SessionStatus::kPaused, "s-1");
  Must(db().StartIntervention(
      kAlice, "s-1", {.intervention_by = "op", .intervention_id = "iv-1"}));
  EXPECT_THAT(
      db().CompleteIntervention(
          kAlice, "s-1", {.intervention_id = "iv-other", .completed_by = "op"}),
      FailsWith(StatusCode::kNotPaused));
  EXPECT_EQ(Get("s-1").status, SessionStatus::kIntervening);

  Advance(30);
  PauseResult r =
      Must(db().CompleteIntervention(kAlice, "s-1",
                                     {.intervention_id = "iv-1",
                                      .completed_by = "lead",
                                      .guidance = "try the other branch"}));
  EXPECT_EQ(r.session.status, SessionStatus::kPaused);
  EXPECT_EQ(r.session.updated_at, kT0 + 30);
  EXPECT_EQ(r.pause.status, PauseStatus::kPaused);
  EXPECT_EQ(r.pause.intervention_completed_by, "lead");
  EXPECT_EQ(r.pause.intervention_completed_at, kT0 + 30);
  EXPECT_EQ(r.pause.guidance, "try the other branch");

  // Repeating the completion (same interventionId) changes nothing.
  PauseResult again =
      Must(db().CompleteIntervention(kAlice, "s-1",
                                     {.intervention_id = "iv-1",
                                      .completed_by = "lead",
                                      .guidance = "try the other branch"}));
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.pause.status, PauseStatus::kPaused);
  EXPECT_EQ(again.pause.intervention_completed_at, kT0 + 30);
}

TEST_P(StoreConformance, InterventionGuidanceIsAtMost8192Bytes) {
  SessionIn(SessionStatus::kPaused, "s-1");
  Must(db().StartIntervention(
      kAlice, "s-1", {.intervention_by = "op", .intervention_id = "iv-1"}));
  EXPECT_THAT(db().CompleteIntervention(kAlice, "s-1",
                                        {.intervention_id = "iv-1",
                                         .completed_by = "op",
                                         .guidance = std::string(8193, 'g')}),
              FailsOnField(StatusCode::kInvalidArgument, "guidance"));
  EXPECT_EQ(Get("s-1").status, SessionStatus::kIntervening);
  EXPECT_OK(db().CompleteIntervention(kAlice, "s-1",
                                      {.intervention_id = "iv-1",
                                       .completed_by = "op",
                                       .guidance = std::string(8192, 'g')}));
}

// ------------------------------------------------------------------ resume

TEST_P(StoreConformance, ResumeFromPausedRunsTheSessionAgain) {
  SessionIn(SessionStatus::kPaused, "s-1");
  Advance(60);
  PauseResult r = Must(db().ResumeSession(kAlice, "s-1",
                                          {.resumed_by = "op",
                                           .resume_id = "rs-1",
                                           .metadata = R"({"b":1,"a":0})"}));
  EXPECT_EQ(r.session.status, SessionStatus::kRunning);
  EXPECT_EQ(r.session.updated_at, kT0 + 60);
  EXPECT_EQ(r.pause.status, PauseStatus::kResumed);
  EXPECT_EQ(r.pause.resume_id, "rs-1");
  EXPECT_EQ(r.pause.resumed_by, "op");
  EXPECT_EQ(r.pause.resumed_at, kT0 + 60);
  EXPECT_EQ(r.pause.resume_metadata, R"({"a":0,"b":1})");
  EXPECT_EQ(Get("s-1").status, SessionStatus::kRunning);
}

TEST_P(StoreConformance, ResumeFromInterveningRunsTheSessionAgain) {
  SessionIn(SessionStatus::kIntervening, "s-1");
  PauseResult r = Must(db().ResumeSession(kAlice, "s-1", {.resumed_by = "op"}));
  EXPECT_EQ(r.session.status, SessionStatus::kRunning);
  EXPECT_EQ(r.pause.status, PauseStatus::kResumed);
  ASSERT_TRUE(r.pause.resume_id.has_value());
  EXPECT_TRUE(IsUuidV4(*r.pause.resume_id)) << *r.pause.resume_id;
}

TEST_P(StoreConformance, ResumeWithSameResumeIdIsIdempotent) {
  SessionIn(SessionStatus::kPaused, "s-1");
  ResumeRequest req{.resumed_by = "op", .resume_id = "rs-1"};
  PauseResult first = Must(db().ResumeSession(kAlice, "s-1", req));
  Advance(10);
  PauseResult again = Must(db().ResumeSession(kAlice, "s-1", req));
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.pause.pause_id, first.pause.pause_id);
  EXPECT_EQ(again.pause.resumed_at, kT0);
  EXPECT_EQ(again.session.status, SessionStatus::kRunning);

  EXPECT_THAT(db().ResumeSession(kAlice, "s-1",
                                 {.resumed_by = "op", .resume_id = "rs-2"}),
              FailsWith(StatusCode::kNotPaused));
}

TEST_P(StoreConformance, ResumeWithoutActivePauseIsNotPaused) {
  SessionIn(SessionStatus::kRunning, "running");
  EXPECT_THAT(db().ResumeSession(kAlice, "running", {.resumed_by = "op"}),
              FailsWith(StatusCode::kNotPaused));
  CreateSession("fresh");
  EXPECT_THAT(db().ResumeSession(kAlice, "fresh", {.resumed_by = "op"}),
              FailsWith(StatusCode::kNotPaused));
  EXPECT_THAT(db().ResumeSession(kAlice, "nope", {.resumed_by = "op"}),
              FailsWith(StatusCode::kNotFound));
}

// -------------------------------------------------------------- get pause

TEST_P(StoreConformance, GetPauseReturnsActiveElseLatest) {
  SessionIn(SessionStatus::kRunning, "s-1");
  EXPECT_THAT(db().GetPause(kAlice, "s-1"), FailsWith(StatusCode::kNotFound));

  std::string first = RequestPause("s-1", {.reason = "one"}).pause.pause_id;
  Advance(10);
  Must(db().ResumeSession(kAlice, "s-1", {.resumed_by = "op"}));
  Pause latest = Must(db().GetPause(kAlice, "s-1"));
  EXPECT_EQ(latest.pause_id, first);
  EXPECT_EQ(latest.status, PauseStatus::kResumed);

  Advance(10);
  std::string second = RequestPause("s-1", {.reason = "two"}).pause.pause_id;
  EXPECT_NE(second, first);
  Pause active = Must(db().GetPause(kAlice, "s-1"));
  EXPECT_EQ(active.pause_id, second);
  EXPECT_EQ(active.reason, "two");

  Advance(10);
  Must(db().ResumeSession(kAlice, "s-1", {.resumed_by = "op"}));
  EXPECT_EQ(Must(db().GetPause(kAlice, "s-1")).pause_id, second);
}

TEST_P(StoreConformance, GetPauseOfMissingSessionIsNotFound) {
  EXPECT_THAT(db().GetPause(kAlice, "nope"), FailsWith(StatusCode::kNotFound));
}

// ------------------------------------------- raw transitions and pauses

// SPEC §2.1: "the session has an active pause" and "the session is paused
// or intervening" always agree, however the session got there. A raw
// pause_requested (or a PATCH to paused) makes the record the pause route
// would, so the pause routes can take the session on from there.
TEST_P(StoreConformance, ARawPauseMakesAPauseRecordTheRoutesWorkOn) {
  SessionIn(SessionStatus::kRunning, "raw");
  Advance(5);
  Transition("raw", SessionEvent::kPauseRequested);
  Pause p = Must(db().GetPause(kAlice, "raw"));
  EXPECT_EQ(p.status, PauseStatus::kPaused);
  EXPECT_EQ(p.reason, "pause_requested");
  EXPECT_EQ(p.requested_by, "alice");
  EXPECT_EQ(p.requested_at, kT0 + 5);
  EXPECT_FALSE(p.pause_id.empty());

  PauseResult started = Must(db().StartIntervention(
      kAlice, "raw", {.intervention_by = "op", .intervention_id = "iv-1"}));
  EXPECT_EQ(started.pause.pause_id, p.pause_id);
  EXPECT_EQ(started.session.status, SessionStatus::kIntervening);
  PauseResult resumed =
      Must(db().ResumeSession(kAlice, "raw", {.resumed_by = "op"}));
  EXPECT_EQ(resumed.session.status, SessionStatus::kRunning);
  EXPECT_EQ(resumed.pause.status, PauseStatus::kResumed);

  // The same through PATCH.
  SessionIn(SessionStatus::kRunning, "patched");
  Must(db().UpdateSession(kAlice, "patched",
                          {.status = SessionStatus::kPaused}));
  EXPECT_EQ(Must(db().GetPause(kAlice, "patched")).status,
            PauseStatus::kPaused);
  EXPECT_THAT(db().PauseSession(kAlice, "patched", {"again", "op"}),
              FailsWith(StatusCode::kAlreadyPaused));
  Must(db().ResumeSession(kAlice, "patched", {.resumed_by = "op"}));
  EXPECT_EQ(Get("patched").status, SessionStatus::kRunning);
}

// A raw intervention_started after an intervention completed starts a new
// one (a new interventionId, the completion fields cleared), as the route
// does; the raw intervention_completed records who completed it.
TEST_P(StoreConformance, ARawInterventionAfterACompletedOneStartsANewOne) {
  SessionIn(SessionStatus::kPaused, "s-1");
  Intervene("s-1", "iv-1", "first");
  Advance(7);
  Transition("s-1", SessionEvent::kInterventionStarted);
  Pause p = Must(db().GetPause(kAlice, "s-1"));
  EXPECT_EQ(p.status, PauseStatus::kIntervening);
  ASSERT_TRUE(p.intervention_id.has_value());
  EXPECT_NE(*p.intervention_id, "iv-1");
  EXPECT_EQ(p.intervention_by, "alice");
  EXPECT_EQ(p.intervention_started_at, kT0 + 7);
  EXPECT_FALSE(p.intervention_completed_at.has_value());
  EXPECT_FALSE(p.guidance.has_value());

  // The old id's completion is a replay and changes nothing...
  PauseResult old = Must(db().CompleteIntervention(
      kAlice, "s-1",
      {.intervention_id = "iv-1", .completed_by = "op", .guidance = "second"}));
  EXPECT_FALSE(old.created);
  EXPECT_EQ(old.pause.status, PauseStatus::kIntervening);
  EXPECT_FALSE(old.pause.guidance.has_value());
  // ...and the new one completes under its own id.
  PauseResult done = Must(db().CompleteIntervention(
      kAlice, "s-1",
      {.intervention_id = *p.intervention_id, .completed_by = "op",
       .guidance = "second"}));
  EXPECT_TRUE(done.created);
  EXPECT_EQ(done.pause.status, PauseStatus::kPaused);
  EXPECT_EQ(done.pause.guidance, "second");

  Advance(3);
  Transition("s-1", SessionEvent::kInterventionStarted);
  Transition("s-1", SessionEvent::kInterventionCompleted);
  Pause raw = Must(db().GetPause(kAlice, "s-1"));
  EXPECT_EQ(raw.status, PauseStatus::kPaused);
  EXPECT_EQ(raw.intervention_completed_by, "alice");
  EXPECT_EQ(raw.intervention_completed_at, kT0 + 10);
}

// Idempotency by interventionId holds for every intervention the session
// had, not only the pause's latest: a late retry of an earlier start or
// completion answers with the record as it is now and starts nothing.
TEST_P(StoreConformance, AnEarlierInterventionsRetryIsAReplay) {
  SessionIn(SessionStatus::kPaused, "s-1");
  Intervene("s-1", "iv-1", "first");
  Must(db().StartIntervention(
      kAlice, "s-1", {.intervention_by = "op", .intervention_id = "iv-2"}));

  PauseResult complete1 = Must(db().CompleteIntervention(
      kAlice, "s-1",
      {.intervention_id = "iv-1", .completed_by = "op", .guidance = "first"}));
  EXPECT_FALSE(complete1.created);
  EXPECT_EQ(complete1.pause.intervention_id, "iv-2");
  EXPECT_EQ(complete1.session.status, SessionStatus::kIntervening);

  Must(db().CompleteIntervention(
      kAlice, "s-1",
      {.intervention_id = "iv-2", .completed_by = "op", .guidance = "second"}));
  PauseResult start1 = Must(db().StartIntervention(
      kAlice, "s-1", {.intervention_by = "op", .intervention_id = "iv-1"}));
  EXPECT_FALSE(start1.created);
  EXPECT_EQ(start1.pause.intervention_id, "iv-2");
  EXPECT_EQ(start1.pause.guidance, "second");
  EXPECT_EQ(Get("s-1").status, SessionStatus::kPaused);

  // Across pause records too: after a resume and a new pause, iv-1 still
  // names the first record's intervention.
  Must(db().ResumeSession(kAlice, "s-1", {.resumed_by = "op"}));
  const std::string second_pause = RequestPause("s-1").pause.pause_id;
  PauseResult late = Must(db().StartIntervention(
      kAlice, "s-1", {.intervention_by = "op", .intervention_id = "iv-1"}));
  EXPECT_FALSE(late.created);
  EXPECT_NE(late.pause.pause_id, second_pause);
  EXPECT_EQ(Get("s-1").status, SessionStatus::kPaused);
  EXPECT_EQ(Must(db().GetPause(kAlice, "s-1")).pause_id, second_pause);

  // And with no active pause at all (found by a review: the start checked
  // for an active pause first and answered 409 not_paused to the retry).
  Must(db().ResumeSession(kAlice, "s-1", {.resumed_by = "op"}));
  ASSERT_EQ(Get("s-1").status, SessionStatus::kRunning);
  PauseResult after_resume = Must(db().StartIntervention(
      kAlice, "s-1", {.intervention_by = "op", .intervention_id = "iv-1"}));
  EXPECT_FALSE(after_resume.created);
  EXPECT_NE(after_resume.pause.pause_id, second_pause);
  EXPECT_EQ(after_resume.pause.intervention_id, "iv-2");
  EXPECT_EQ(Get("s-1").status, SessionStatus::kRunning);
  // A new id still needs an active pause.
  EXPECT_THAT(db().StartIntervention(
                  kAlice, "s-1", {.intervention_by = "op", .intervention_id = "iv-9"}),
              FailsWith(StatusCode::kNotPaused));
}

// A pause holds kMaxInterventionsPerPause interventions (the current and
// the earlier ones it remembers for replays); the next is refused with a
// clear way out, and the session stays as it was.
TEST_P(StoreConformance, APauseHoldsAtMostItsInterventionCap) {
  SessionIn(SessionStatus::kPaused, "s-1");
  for (size_t i = 0; i < kMaxInterventionsPerPause; ++i) {
    Intervene("s-1", "iv-" + std::to_string(i));
  }
  EXPECT_THAT(db().StartIntervention(kAlice, "s-1",
                                     {.intervention_by = "op",
                                      .intervention_id = "iv-one-more"}),
              FailsWith(StatusCode::kConflict));
  EXPECT_EQ(Get("s-1").status, SessionStatus::kPaused);
  // Every one of them is still a replay.
  EXPECT_FALSE(Must(db().StartIntervention(
                        kAlice, "s-1",
                        {.intervention_by = "op", .intervention_id = "iv-0"}))
                   .created);
  Must(db().ResumeSession(kAlice, "s-1", {.resumed_by = "op"}));
  RequestPause("s-1");
  Must(db().StartIntervention(kAlice, "s-1",
                              {.intervention_by = "op",
                               .intervention_id = "iv-one-more"}));
  EXPECT_EQ(Get("s-1").status, SessionStatus::kIntervening);
}

}  // namespace
}  // namespace acpstore::conformance
