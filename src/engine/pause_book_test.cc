// Tests for PauseBook: one active record, latest, key indexes.

#include "engine/pause_book.h"

#include <gtest/gtest.h>

namespace acpstore::engine {
namespace {

Pause P(std::string id, PauseStatus status) {
  Pause p;
  p.pause_id = std::move(id);
  p.status = status;
  return p;
}

TEST(PauseBookTest, TracksTheActiveRecordThroughItsLife) {
  PauseBook book;
  EXPECT_EQ(book.Active(), nullptr);
  EXPECT_TRUE(book.Upsert(P("p1", PauseStatus::kPaused)));
  ASSERT_NE(book.Active(), nullptr);
  EXPECT_EQ(book.Active()->pause_id, "p1");
  EXPECT_FALSE(book.Upsert(P("p1", PauseStatus::kIntervening)));
  EXPECT_EQ(book.Active()->status, PauseStatus::kIntervening);
  Pause done = P("p1", PauseStatus::kResumed);
  done.resume_id = "r1";
  book.Upsert(done);
  EXPECT_EQ(book.Active(), nullptr);
  EXPECT_EQ(book.Latest()->pause_id, "p1");
  EXPECT_EQ(book.ByResumeId("r1")->pause_id, "p1");
  EXPECT_EQ(book.size(), 1u);
}

TEST(PauseBookTest, LatestIsTheNewestCreated) {
  PauseBook book;
  book.Upsert(P("p1", PauseStatus::kResumed));
  Pause p2 = P("p2", PauseStatus::kPaused);
  p2.idempotency_key = "k2";
  book.Upsert(p2);
  book.Upsert(P("p1", PauseStatus::kResumed));  // an update, not a new one
  EXPECT_EQ(book.Latest()->pause_id, "p2");
  EXPECT_EQ(book.ByIdempotencyKey("k2")->pause_id, "p2");
  EXPECT_EQ(book.ByIdempotencyKey("k1"), nullptr);
}

}  // namespace
}  // namespace acpstore::engine
