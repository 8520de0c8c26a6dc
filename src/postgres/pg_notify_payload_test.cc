// The notification payload (pg_notify_payload.h): the one-line format of
// 0.1.0 still reads, lines are read in order and malformed ones skipped, a
// server's pending notifications keep the highest seq per session, pack
// into payloads under PostgreSQL's limit without losing a session, and stay
// bounded. No database needed.

#include "postgres/pg_notify_payload.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace acpstore::postgres {
namespace {

using Heard = std::vector<std::pair<std::string, EventSeq>>;

Heard Read(std::string_view payload) {
  Heard heard;
  ForEachNotified(payload, [&](std::string_view tenant,
                               std::string_view session, EventSeq seq) {
    heard.emplace_back(std::string(tenant) + "/" + std::string(session), seq);
  });
  return heard;
}

TEST(NotifyPayloadTest, OneLineIsTheFormatOfVersion010) {
  EXPECT_EQ(NotifyPayload(7, "t1", "s-1"), "7 t1\ts-1");
  EXPECT_EQ(Read("7 t1\ts-1"), (Heard{{"t1/s-1", 7}}));
  EXPECT_EQ(Read(NotifyPayload(0, "t1", "gone")), (Heard{{"t1/gone", 0}}));
}

TEST(NotifyPayloadTest, LinesAreReadInOrderAndMalformedOnesSkipped) {
  const std::string payload =
      "3 t1\ta\n"
      "no-seq t1\tb\n"        // seq not a number
      "4 t1 c\n"              // no tab
      "\n"                    // empty
      " t1\td\n"              // empty seq
      "99999999999999999999 t1\te\n"  // seq beyond uint64
      "-1 t1\tf\n"            // signed
      "18446744073709551615 t2\tg h\n"
      "5 t1\ta";
  EXPECT_EQ(Read(payload), (Heard{{"t1/a", 3},
                                  {"t2/g h", 18446744073709551615u},
                                  {"t1/a", 5}}));
  EXPECT_EQ(ForEachNotified("", [](auto, auto, auto) {}), 0u);
}

TEST(NotifyPayloadTest, PendingKeepsTheHighestSeqOfEachSession) {
  PendingNotifications pending(16);
  EXPECT_TRUE(pending.Add("5 t\ts"));
  EXPECT_TRUE(pending.Add("3 t\ts"));
  EXPECT_TRUE(pending.Add("9 t\ts"));
  EXPECT_TRUE(pending.Add("1 t\tother"));
  EXPECT_FALSE(pending.Add("x t\ts"));
  EXPECT_EQ(pending.size(), 2u);
  std::vector<std::string> payloads = pending.TakePayloads();
  ASSERT_EQ(payloads.size(), 1u);
  Heard heard = Read(payloads[0]);
  std::sort(heard.begin(), heard.end());
  EXPECT_EQ(heard, (Heard{{"t/other", 1}, {"t/s", 9}}));
  EXPECT_TRUE(pending.empty());
  EXPECT_TRUE(pending.TakePayloads().empty());
}

TEST(NotifyPayloadTest, PayloadsStayUnderTheLimitAndLoseNoSession) {
  PendingNotifications pending(100000);
  std::map<std::string, EventSeq> sent;
  for (int i = 0; i < 2000; ++i) {
    const std::string session =
        "session-" + std::to_string(i) + "-" + std::string(100, 'x');
    const EventSeq seq = 1000000 + static_cast<EventSeq>(i);
    ASSERT_TRUE(pending.Add(NotifyPayload(seq, "tenant-a", session)));
    sent["tenant-a/" + session] = seq;
  }
  const std::vector<std::string> payloads = pending.TakePayloads();
  ASSERT_GT(payloads.size(), 1u);
  std::map<std::string, EventSeq> heard;
  size_t bytes = 0;
  for (const std::string& p : payloads) {
    EXPECT_LE(p.size(), kMaxNotifyPayloadBytes);
    EXPECT_NE(p.back(), '\n');
    bytes += p.size();
    for (const auto& [key, seq] : Read(p)) {
      EXPECT_TRUE(heard.emplace(key, seq).second) << key << " twice";
    }
  }
  EXPECT_EQ(heard, sent);
  // Packed, not one per payload: within a line of the limit each.
  EXPECT_LE(payloads.size(), bytes / (kMaxNotifyPayloadBytes - 140) + 1);
}

TEST(NotifyPayloadTest, ALineLongerThanAPayloadIsDroppedAndCounted) {
  // PostgreSQL would refuse the whole statement for it.
  PendingNotifications pending(16);
  ASSERT_TRUE(pending.Add("1 t\ta"));    // 5 bytes: exactly the limit
  ASSERT_TRUE(pending.Add("2 t\tbb"));   // 6 bytes
  ASSERT_TRUE(pending.Add("3 t\tc"));
  const std::vector<std::string> payloads = pending.TakePayloads(5);
  ASSERT_EQ(payloads.size(), 2u);  // "1 t\ta\n3 t\tc" would be 11 bytes
  Heard heard = Read(payloads[0] + "\n" + payloads[1]);
  std::sort(heard.begin(), heard.end());
  EXPECT_EQ(heard, (Heard{{"t/a", 1}, {"t/c", 3}}));
  EXPECT_EQ(pending.dropped(), 1u);
  EXPECT_TRUE(pending.empty());
}

TEST(NotifyPayloadTest, TheBoundDropsNewSessionsAndCountsThem) {
  PendingNotifications pending(2);
  EXPECT_TRUE(pending.Add("1 t\ta"));
  EXPECT_TRUE(pending.Add("1 t\tb"));
  EXPECT_FALSE(pending.Add("1 t\tc"));
  EXPECT_TRUE(pending.Add("8 t\ta"));  // a pending session still moves
  EXPECT_EQ(pending.dropped(), 1u);
  Heard heard = Read(pending.TakePayloads().at(0));
  std::sort(heard.begin(), heard.end());
  EXPECT_EQ(heard, (Heard{{"t/a", 8}, {"t/b", 1}}));
  EXPECT_TRUE(pending.Add("1 t\tc"));  // room again once taken
}

TEST(NotifyPayloadTest, ADiscardedPayloadCountsEachLineDropped) {
  PendingNotifications pending(16);
  ASSERT_TRUE(pending.Add("1 t\ta"));
  ASSERT_TRUE(pending.Add("2 t\tb"));
  ASSERT_TRUE(pending.Add("3 t\tc"));
  for (const std::string& p : pending.TakePayloads(12)) pending.Discard(p);
  EXPECT_EQ(pending.dropped(), 3u);
  EXPECT_TRUE(pending.empty());
}

TEST(NotifyPayloadTest, APayloadPutBackIsPendingAgainLineForLine) {
  PendingNotifications pending(100);
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(pending.Add(NotifyPayload(i, "t", "s" + std::to_string(i))));
  }
  const std::vector<std::string> first = pending.TakePayloads(200);
  ASSERT_GT(first.size(), 1u);
  for (const std::string& p : first) pending.AddPayload(p);
  pending.Add(NotifyPayload(3, "t", "s49"));  // lower: 49 stays
  EXPECT_EQ(pending.size(), 50u);
  Heard again;
  for (const std::string& p : pending.TakePayloads()) {
    for (auto& h : Read(p)) again.push_back(h);
  }
  std::sort(again.begin(), again.end());
  Heard want;
  for (int i = 0; i < 50; ++i) want.emplace_back("t/s" + std::to_string(i), i);
  std::sort(want.begin(), want.end());
  EXPECT_EQ(again, want);
}

// A schema name is refused when PostgreSQL could not keep it or its
// channel: empty, a NUL byte, or more than 56 bytes (channel 63 + 1).
TEST(NotifyPayloadTest, SchemaNamesUpTo56BytesAreTakenLongerOnesRefused) {
  EXPECT_TRUE(CheckSchemaName("acpstore").ok());
  const std::string longest(kMaxSchemaNameBytes, 's');
  EXPECT_EQ(longest.size(), 56u);
  EXPECT_TRUE(CheckSchemaName(longest).ok());
  EXPECT_EQ(NotifyChannel(longest).size(), 63u);
  // Counted in bytes, as PostgreSQL counts: 28 two-byte characters fit.
  std::string wide;
  for (int i = 0; i < 28; ++i) wide += "\xc3\xa9";
  EXPECT_TRUE(CheckSchemaName(wide).ok());
  Status too_long = CheckSchemaName(wide + "e");
  EXPECT_EQ(too_long.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(too_long.message().find("is 57 bytes; at most 56"),
            std::string::npos)
      << too_long;
  EXPECT_FALSE(CheckSchemaName(longest + "s").ok());
  EXPECT_FALSE(CheckSchemaName(std::string(63, 's')).ok());
  EXPECT_FALSE(CheckSchemaName("").ok());
  EXPECT_FALSE(CheckSchemaName(std::string("a\0b", 3)).ok());
}

}  // namespace
}  // namespace acpstore::postgres
