// Tests for SubscriptionHub: wake-ups reach armed subscribers of the
// session only, cursors advance, gaps are reported once.

#include "engine/subscription_hub.h"

#include <gtest/gtest.h>

#include <atomic>

#include "engine/keys.h"

namespace acpstore::engine {
namespace {

// Serves events 1..last_seq of one session, with first_seq retained.
class FakeSource : public SubscriptionSource {
 public:
  Result<EventPage> ReadSubscriptionPage(std::string_view, std::string_view,
                                         uint64_t incarnation, EventSeq after,
                                         uint32_t limit,
                                         uint64_t /*max_bytes*/) override {
    if (deleted || incarnation != 1) return Status::NotFound("gone");
    EventPage page;
    page.first_seq = first_seq;
    page.last_seq = last_seq;
    page.truncated = after + 1 < first_seq;
    for (EventSeq s = std::max(after + 1, first_seq);
         s <= last_seq && page.events.size() < limit; ++s) {
      Event e;
      e.seq = s;
      page.events.push_back(e);
    }
    return page;
  }
  EventSeq first_seq = 1;
  EventSeq last_seq = 0;
  bool deleted = false;
};

class SubscriptionHubTest : public ::testing::Test {
 protected:
  std::unique_ptr<Subscription> Sub(EventSeq after = 0) {
    SubscribeOptions o;
    o.after = after;
    o.on_ready = [this] { ++ready_; };
    return hub_.Subscribe(&source_, "t", "s", 1, std::move(o));
  }
  FakeSource source_;
  SubscriptionHub hub_;
  std::atomic<int> ready_{0};
};

TEST_F(SubscriptionHubTest, ReplaysThenWakesOnceWhenCaughtUp) {
  source_.last_seq = 3;
  auto sub = Sub();
  auto page = sub->Next(2);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->events.size(), 2u);
  EXPECT_EQ(sub->cursor(), 2u);
  page = sub->Next(10);
  EXPECT_EQ(page->events.size(), 1u);
  page = sub->Next(10);
  EXPECT_TRUE(page->events.empty());
  ready_ = 0;

  source_.last_seq = 4;
  hub_.Notify({TenantKey("t", "s")});
  hub_.Notify({TenantKey("t", "s")});  // not re-armed: no second call
  EXPECT_EQ(ready_.load(), 1);
  page = sub->Next(10);
  ASSERT_EQ(page->events.size(), 1u);
  EXPECT_EQ(page->events[0].seq, 4u);
}

TEST_F(SubscriptionHubTest, OtherSessionsDoNotWakeIt) {
  auto sub = Sub();
  ASSERT_TRUE(sub->Next(10).ok());
  ready_ = 0;
  hub_.Notify({TenantKey("t", "other"), TenantKey("t2", "s")});
  EXPECT_EQ(ready_.load(), 0);
}

TEST_F(SubscriptionHubTest, DestroyingUnsubscribes) {
  auto sub = Sub();
  EXPECT_EQ(hub_.size(), 1u);
  sub.reset();
  EXPECT_EQ(hub_.size(), 0u);
  hub_.Notify({TenantKey("t", "s")});
  EXPECT_EQ(ready_.load(), 0);
}

TEST_F(SubscriptionHubTest, GapIsReportedOnceAndSkipped) {
  source_.first_seq = 6;
  source_.last_seq = 5;  // everything dropped
  auto sub = Sub(2);
  auto page = sub->Next(10);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(sub->cursor(), 5u);
  page = sub->Next(10);
  EXPECT_FALSE(page->truncated);
}

TEST_F(SubscriptionHubTest, DeletedSessionFailsNotFound) {
  auto sub = Sub();
  source_.deleted = true;
  auto page = sub->Next(10);
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.error().code(), StatusCode::kNotFound);
}

TEST(SubscriptionHubStaticTest, NotifiesAppendsAndDeletesOnly) {
  record::Mutation m;
  m.AppendEvents("t", "a", {});
  m.DeleteSession("t", "b");
  m.DropEvents("t", "c", 3);
  m.AppendEvents("t", "a", {});
  auto keys = SubscriptionHub::SessionsToNotify(m);
  EXPECT_EQ(keys, (std::vector<std::string>{TenantKey("t", "a"),
                                            TenantKey("t", "b")}));
}

}  // namespace
}  // namespace acpstore::engine
