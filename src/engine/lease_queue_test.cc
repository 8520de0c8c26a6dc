// Tests for lease ordering: (available_at, created_at, insertion order) in
// each view, eligibility by time, and removal.

#include "engine/lease_queue.h"

#include <gtest/gtest.h>

#include <string>

namespace acpstore::engine {
namespace {

struct Item {
  std::string name;
  int type = 0;
};

class LeaseQueueTest : public ::testing::Test {
 protected:
  void Add(Item* item, const char* owner, const char* session,
           LeaseOrder order) {
    queue_.Add("t", owner, session, order, item);
  }
  Item* First(const std::string& view, TimestampMs now) {
    return queue_.FindFirst(view, now, [](const Item&) { return true; });
  }
  LeaseQueue<Item> queue_;
  using Q = LeaseQueue<Item>;
};

TEST_F(LeaseQueueTest, OrdersByAvailableThenCreatedThenInsertion) {
  Item late{"late"}, early_created{"early_created"}, first_in{"first_in"},
      second_in{"second_in"};
  Add(&late, "o", "s", {200, 1, 1});
  Add(&second_in, "o", "s", {100, 50, 9});
  Add(&first_in, "o", "s", {100, 50, 3});
  Add(&early_created, "o", "s", {100, 10, 20});
  std::string view = Q::TenantView("t");
  EXPECT_EQ(First(view, 1000), &early_created);
  queue_.Remove("t", "o", "s", {100, 10, 20});
  EXPECT_EQ(First(view, 1000), &first_in);
  queue_.Remove("t", "o", "s", {100, 50, 3});
  EXPECT_EQ(First(view, 1000), &second_in);
  queue_.Remove("t", "o", "s", {100, 50, 9});
  EXPECT_EQ(First(view, 1000), &late);
  EXPECT_EQ(queue_.size(), 1u);
}

TEST_F(LeaseQueueTest, NothingIsEligibleBeforeItsAvailableAt) {
  Item delayed{"delayed"};
  Add(&delayed, "o", "s", {500, 1, 1});
  EXPECT_EQ(First(Q::TenantView("t"), 499), nullptr);
  EXPECT_EQ(First(Q::TenantView("t"), 500), &delayed);
}

TEST_F(LeaseQueueTest, OwnerAndSessionViewsHoldOnlyTheirItems) {
  Item mine{"mine"}, theirs{"theirs"};
  Add(&theirs, "other", "s2", {1, 1, 1});
  Add(&mine, "me", "s1", {2, 2, 2});
  EXPECT_EQ(First(Q::TenantView("t"), 10), &theirs);
  EXPECT_EQ(First(Q::OwnerView("t", "me"), 10), &mine);
  EXPECT_EQ(First(Q::SessionView("t", "s1"), 10), &mine);
  EXPECT_EQ(First(Q::SessionView("t", "s2"), 10), &theirs);
  EXPECT_EQ(First(Q::OwnerView("t2", "me"), 10), nullptr);
}

TEST_F(LeaseQueueTest, PredicateSkipsWithoutLosingOrder) {
  Item a{"a", 1}, b{"b", 2}, c{"c", 2};
  Add(&a, "o", "s", {1, 1, 1});
  Add(&b, "o", "s", {2, 1, 2});
  Add(&c, "o", "s", {3, 1, 3});
  Item* got = queue_.FindFirst(Q::TenantView("t"), 10,
                               [](const Item& i) { return i.type == 2; });
  EXPECT_EQ(got, &b);
}

TEST_F(LeaseQueueTest, RemovingTheLastItemDropsEmptyViews) {
  Item a{"a"};
  Add(&a, "o", "s", {1, 1, 1});
  queue_.Remove("t", "o", "s", {1, 1, 1});
  EXPECT_EQ(queue_.size(), 0u);
  EXPECT_EQ(First(Q::SessionView("t", "s"), 10), nullptr);
}

}  // namespace
}  // namespace acpstore::engine
