// The check a stored event payload gets as it is read (pg_rows.h:
// IsValidStoredPayload, also verify's): valid JSON of any size and of any
// depth the one-pass check takes passes; invalid JSON fails however deep it
// nests, without descending into Boost.JSON's recursive parser past 1,100
// levels (found by review: 1,000,000 '[' ended the server with SIGSEGV).
// No database needed.

#include "postgres/pg_rows.h"

#include <gtest/gtest.h>

#include <string>

namespace acpstore::postgres {
namespace {

std::string Nested(size_t depth, const std::string& inner = "") {
  return std::string(depth, '[') + inner + std::string(depth, ']');
}

TEST(StoredPayloadTest, UnclosedNestingOfAMillionLevelsIsInvalidNotACrash) {
  EXPECT_FALSE(IsValidStoredPayload(std::string(1000000, '[')));
  EXPECT_FALSE(IsValidStoredPayload("{\"text\":" + std::string(1000000, '[')));
  EXPECT_FALSE(IsValidStoredPayload(Nested(1000000, "1,")));
}

TEST(StoredPayloadTest, ValidJsonOfAnyDepthTheOnePassTakesIsValid) {
  EXPECT_TRUE(IsValidStoredPayload(Nested(1000000)));
  EXPECT_TRUE(IsValidStoredPayload("{\"a\":" + Nested(5000, "1") + "}"));
}

// A number the one pass leaves to the parser (19 digits and more): parsed
// up to 1,100 levels, past the deepest an import stores (1,000, SPEC §8);
// deeper, it is damage rather than a descent without bound.
TEST(StoredPayloadTest, WhatNeedsTheParserIsValidUpToElevenHundredLevels) {
  const std::string big = "12345678901234567890";
  EXPECT_TRUE(IsValidStoredPayload(Nested(1000, big)));
  EXPECT_TRUE(IsValidStoredPayload(Nested(1100, big)));
  EXPECT_FALSE(IsValidStoredPayload(Nested(1101, big)));
}

}  // namespace
}  // namespace acpstore::postgres
