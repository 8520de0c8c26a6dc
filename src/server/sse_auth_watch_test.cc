// Tests for SseAuthWatch: a moved revision marks and wakes every
// registered stream once; a registration leaves with its stream.

#include "server/sse_auth_watch.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>

namespace acpstore::server {
namespace {

struct CountingStream {
  std::shared_ptr<ReadySignal> ready = std::make_shared<ReadySignal>();
  int wakes = 0;
  CountingStream() {
    ready->SetWaker([this] { ++wakes; });
  }
};

TEST(SseAuthWatch, AMovedRevisionWakesEveryStreamToRecheckOnce) {
  SseAuthWatch watch;
  CountingStream a, b;
  SseAuthWatch::Registration ra = watch.Add(a.ready);
  SseAuthWatch::Registration rb = watch.Add(b.ready);
  watch.Poll(7);  // the first poll only records the revision
  watch.Poll(7);
  EXPECT_EQ(a.wakes, 0);
  EXPECT_FALSE(ra.TakeRecheck());

  watch.Poll(8);
  EXPECT_EQ(a.wakes, 1);
  EXPECT_EQ(b.wakes, 1);
  EXPECT_TRUE(ra.TakeRecheck());
  EXPECT_FALSE(ra.TakeRecheck());  // taken
  EXPECT_TRUE(rb.TakeRecheck());

  watch.Poll(8);  // unchanged: nothing
  EXPECT_EQ(a.wakes, 1);
}

TEST(SseAuthWatch, ARegistrationLeavesWithItsStream) {
  SseAuthWatch watch;
  CountingStream a, b;
  watch.Poll(1);
  std::optional<SseAuthWatch::Registration> ra(watch.Add(a.ready));
  SseAuthWatch::Registration rb = watch.Add(b.ready);
  EXPECT_EQ(watch.size(), 2u);
  ra.reset();
  EXPECT_EQ(watch.size(), 1u);
  watch.Poll(2);
  EXPECT_EQ(a.wakes, 0);
  EXPECT_EQ(b.wakes, 1);
  // Moved from: the new owner deregisters, once.
  {
    SseAuthWatch::Registration moved(std::move(rb));
    EXPECT_TRUE(moved.TakeRecheck());
    EXPECT_FALSE(rb.TakeRecheck());  // NOLINT(bugprone-use-after-move)
  }
  EXPECT_EQ(watch.size(), 0u);
}

}  // namespace
}  // namespace acpstore::server
