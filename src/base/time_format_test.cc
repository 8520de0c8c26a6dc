// Tests for ISO-8601 formatting and strict parsing.

#include "base/time_format.h"

#include <gtest/gtest.h>

namespace acpstore::base {
namespace {

constexpr TimestampMs kExampleMs = 1779504960123;  // 2026-05-23T02:56:00.123Z
constexpr TimestampMs kMaxMs = 253402300799999;     // 9999-12-31T23:59:59.999Z

TEST(TimeFormatTest, FormatsSpecExample) {
  EXPECT_EQ(FormatIso8601(kExampleMs), "2026-05-23T02:56:00.123Z");
}

TEST(TimeFormatTest, FormatsEpochAndLimits) {
  EXPECT_EQ(FormatIso8601(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatIso8601(kMaxMs), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatIso8601(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatIso8601(951782400000), "2000-02-29T00:00:00.000Z");
}

TEST(TimeFormatTest, FormatClampsOutsideFourDigitYears) {
  EXPECT_EQ(FormatIso8601(kMaxMs + 1), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatIso8601(INT64_MIN), "0000-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatIso8601(INT64_MAX).size(), 24u);
}

TEST(TimeFormatTest, ParseRoundTripsFormat) {
  for (TimestampMs ms : {TimestampMs{0}, TimestampMs{1}, kExampleMs,
                         TimestampMs{951782400000}, TimestampMs{4102444799999},
                         kMaxMs}) {
    EXPECT_EQ(ParseIso8601(FormatIso8601(ms)), ms) << ms;
  }
}

TEST(TimeFormatTest, EveryDayOfFourHundredYearsRoundTrips) {
  // One full Gregorian cycle exercises every leap-year rule.
  for (TimestampMs day = 0; day < 146097; ++day) {
    const TimestampMs ms = day * 86400000 + 43210987;
    ASSERT_EQ(ParseIso8601(FormatIso8601(ms)), ms) << FormatIso8601(ms);
  }
}

TEST(TimeFormatTest, FractionIsOptionalPaddedOrTruncated) {
  EXPECT_EQ(ParseIso8601("2026-05-23T02:56:00Z"), kExampleMs - 123);
  EXPECT_EQ(ParseIso8601("2026-05-23T02:56:00.1Z"), kExampleMs - 23);
  EXPECT_EQ(ParseIso8601("2026-05-23T02:56:00.12Z"), kExampleMs - 3);
  EXPECT_EQ(ParseIso8601("2026-05-23T02:56:00.123999999Z"), kExampleMs);
}

TEST(TimeFormatTest, OffsetsConvertToUtc) {
  EXPECT_EQ(ParseIso8601("2026-05-23T04:56:00.123+02:00"), kExampleMs);
  EXPECT_EQ(ParseIso8601("2026-05-22T21:26:00.123-05:30"), kExampleMs);
  EXPECT_EQ(ParseIso8601("2026-05-23T02:56:00.123+00:00"), kExampleMs);
}

TEST(TimeFormatTest, RejectsMalformedText) {
  for (const char* bad : {
           "", "2026-05-23", "2026-05-23T02:56:00", "2026-05-23 02:56:00Z",
           "2026-05-23t02:56:00Z", "2026-05-23T02:56:00z", "2026-5-23T02:56:00Z",
           "2026-05-23T2:56:00Z", "2026-05-23T02:56Z", "2026-05-23T02:56:00.Z",
           "2026-05-23T02:56:00.123", "2026-05-23T02:56:00.123ZZ",
           "2026-05-23T02:56:00.123Z ", " 2026-05-23T02:56:00.123Z",
           "2026-05-23T02:56:00+0200", "2026-05-23T02:56:00+02",
           "+2026-05-23T02:56:00Z", "20260523T025600Z", "２０２６-05-23T02:56:00Z",
           "2026-05-23T02:56:00.12a3Z"}) {
    EXPECT_EQ(ParseIso8601(bad), std::nullopt) << bad;
  }
}

TEST(TimeFormatTest, RejectsImpossibleDatesAndTimes) {
  for (const char* bad : {
           "2026-02-30T00:00:00Z", "2026-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
           "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z",
           "2026-01-00T00:00:00Z", "2026-01-32T00:00:00Z", "2026-01-01T24:00:00Z",
           "2026-01-01T23:60:00Z", "2026-01-01T23:59:60Z",
           "2026-01-01T00:00:00+24:00", "2026-01-01T00:00:00+01:60"}) {
    EXPECT_EQ(ParseIso8601(bad), std::nullopt) << bad;
  }
  EXPECT_NE(ParseIso8601("2024-02-29T00:00:00Z"), std::nullopt);
  EXPECT_NE(ParseIso8601("2000-02-29T00:00:00Z"), std::nullopt);
}

TEST(TimeFormatTest, RejectsYearsOutside1970To9999) {
  EXPECT_EQ(ParseIso8601("1969-12-31T23:59:59.999Z"), std::nullopt);
  EXPECT_EQ(ParseIso8601("0000-01-01T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseIso8601("1970-01-01T00:00:00.000Z"), 0);
  EXPECT_EQ(ParseIso8601("9999-12-31T23:59:59.999Z"), kMaxMs);
  // The UTC instant, not just the written year, must be in range.
  EXPECT_EQ(ParseIso8601("1970-01-01T00:30:00+01:00"), std::nullopt);
  EXPECT_EQ(ParseIso8601("9999-12-31T23:30:00-01:00"), std::nullopt);
}

// Files other programs wrote (an Aegis state file: JavaScript's
// toISOString) may hold any year; the importer needs the instant to decide
// what to do with it, not "not a time".
TEST(TimeFormatTest, AnyYearParsesTimesBefore1970AndAfter9999) {
  EXPECT_EQ(ParseIso8601AnyYear("1969-12-31T23:59:59.999Z"), -1);
  EXPECT_EQ(ParseIso8601AnyYear("1969-12-31T23:59:59Z"), -1000);
  EXPECT_EQ(ParseIso8601AnyYear("1969-12-31T00:00:00.000Z"), -86400000);
  EXPECT_EQ(ParseIso8601AnyYear("1969-07-20T20:17:40.000Z"), -14182940000);
  EXPECT_EQ(ParseIso8601AnyYear("1900-01-01T00:00:00.000Z"), -2208988800000);
  EXPECT_EQ(ParseIso8601AnyYear("0001-01-01T00:00:00Z"), -62135596800000);
  EXPECT_EQ(ParseIso8601AnyYear("0000-01-01T00:00:00.000Z"), -62167219200000);
  EXPECT_EQ(ParseIso8601AnyYear("1970-01-01T00:30:00+01:00"), -1800000);
  // A fraction beyond milliseconds is cut, toward the earlier instant as
  // after 1970 (it was never rounded toward zero).
  EXPECT_EQ(ParseIso8601AnyYear("1969-12-31T23:59:59.9999Z"), -1);
  // JavaScript's expanded years.
  EXPECT_EQ(ParseIso8601AnyYear("-000001-12-31T23:59:59.999Z"),
            -62167219200001);
  EXPECT_EQ(ParseIso8601AnyYear("+010000-01-01T00:00:00.000Z"), kMaxMs + 1);
  EXPECT_EQ(ParseIso8601AnyYear("+275760-09-13T00:00:00.000Z"),
            8640000000000000);  // new Date(8.64e15).toISOString()
  EXPECT_EQ(ParseIso8601AnyYear("-271821-04-20T00:00:00.000Z"),
            -8640000000000000);
  EXPECT_EQ(ParseIso8601AnyYear("+002026-05-23T02:56:00.123Z"), kExampleMs);
  // Within 1970-9999 it is ParseIso8601.
  EXPECT_EQ(ParseIso8601AnyYear("2026-05-23T02:56:00.123Z"), kExampleMs);
  EXPECT_EQ(ParseIso8601AnyYear("9999-12-31T23:59:59.999Z"), kMaxMs);
  for (const char* bad :
       {"-000000-01-01T00:00:00Z", "+10000-01-01T00:00:00Z",
        "+0010000-01-01T00:00:00Z", "10000-01-01T00:00:00Z", "-1-01-01T00:00:00Z",
        "1969-02-29T00:00:00Z", "1969-12-31T24:00:00Z", "1969-12-31"}) {
    EXPECT_EQ(ParseIso8601AnyYear(bad), std::nullopt) << bad;
  }
  // ParseIso8601 itself still takes 1970-9999 only.
  EXPECT_EQ(ParseIso8601("+002026-05-23T02:56:00.123Z"), std::nullopt);
}

// Every millisecond around the epoch, and a day on each side, formats and
// parses back: no off-by-one where the sign changes.
TEST(TimeFormatTest, TimesAroundTheEpochRoundTripWithAnyYear) {
  for (int64_t ms = -2000; ms <= 2000; ++ms) {
    ASSERT_EQ(ParseIso8601AnyYear(FormatIso8601(ms)), ms) << ms;
  }
  for (int64_t ms : {int64_t{-86400001}, int64_t{-86400000},
                     int64_t{-86399999}, int64_t{-62135596800000}}) {
    EXPECT_EQ(ParseIso8601AnyYear(FormatIso8601(ms)), ms) << ms;
  }
}

}  // namespace
}  // namespace acpstore::base
