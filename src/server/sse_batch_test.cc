// Unit tests: one SSE write's pieces (sse_batch.h).

#include "server/sse_batch.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace acpstore::server {
namespace {

TEST(SseBatch, SharedFramesAreReferencedAndSmallFramesOwned) {
  SseBatch batch;
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(batch.size(), 0u);
  auto a = std::make_shared<const std::string>("id: 1\ndata: a\n\n");
  auto b = std::make_shared<const std::string>("id: 2\ndata: b\n\n");
  batch.Owned()->append("event: truncated\n");
  batch.Owned()->append("data: {}\n\n");  // joins the owned piece before it
  batch.AddShared(a);
  batch.AddShared(b);
  batch.Owned()->append(": x\n\n");
  EXPECT_EQ(batch.pieces(), 4u);
  // The shared pieces point at the frames themselves: no copy.
  EXPECT_EQ(batch.piece(1).data(), a->data());
  EXPECT_EQ(batch.piece(2).data(), b->data());
  const std::string want =
      "event: truncated\ndata: {}\n\n" + *a + *b + ": x\n\n";
  EXPECT_EQ(batch.Flatten(), want);
  EXPECT_EQ(batch.size(), want.size());
  EXPECT_FALSE(batch.empty());
  // The batch holds the frames until cleared.
  EXPECT_EQ(a.use_count(), 2);
  batch.Clear();
  EXPECT_EQ(a.use_count(), 1);
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(batch.pieces(), 0u);
}

// An owned piece the caller appended nothing to (a transcript with no
// change) counts no bytes.
TEST(SseBatch, EmptyOwnedPieceIsEmpty) {
  SseBatch batch;
  (void)batch.Owned();
  EXPECT_TRUE(batch.empty());
  batch.AddShared(std::make_shared<const std::string>("abc"));
  (void)batch.Owned();
  EXPECT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch.Flatten(), "abc");
}

}  // namespace
}  // namespace acpstore::server
