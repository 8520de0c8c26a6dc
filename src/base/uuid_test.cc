// Tests for UUIDv4 and RandomHex128: shape, version bits, uniqueness, and
// use from several threads at once.

#include "base/uuid.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

namespace acpstore::base {
namespace {

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

TEST(UuidTest, V4HasCanonicalShape) {
  for (int i = 0; i < 100; ++i) {
    std::string u = NewUuidV4();
    ASSERT_EQ(u.size(), 36u) << u;
    for (size_t j = 0; j < u.size(); ++j) {
      if (j == 8 || j == 13 || j == 18 || j == 23) {
        EXPECT_EQ(u[j], '-') << u;
      } else {
        EXPECT_TRUE(IsLowerHex(u[j])) << u;
      }
    }
    EXPECT_EQ(u[14], '4') << u;  // version
    EXPECT_TRUE(u[19] == '8' || u[19] == '9' || u[19] == 'a' || u[19] == 'b')
        << u;  // variant 10xx
  }
}

TEST(UuidTest, RandomHex128IsThirtyTwoLowerHex) {
  std::string h = RandomHex128();
  ASSERT_EQ(h.size(), 32u);
  for (char c : h) EXPECT_TRUE(IsLowerHex(c)) << h;
}

TEST(UuidTest, ManyThreadsNeverCollide) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2000;
  std::vector<std::vector<std::string>> out(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&out, t] {
      for (int i = 0; i < kPerThread; ++i) {
        out[t].push_back(i % 2 ? NewUuidV4() : RandomHex128());
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> all;
  for (auto& v : out) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), size_t{kThreads * kPerThread});
}

}  // namespace
}  // namespace acpstore::base
