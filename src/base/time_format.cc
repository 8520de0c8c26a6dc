// ISO-8601 UTC formatting and strict parsing.
//
// Dates are converted with Howard Hinnant's days-from-civil arithmetic
// (proleptic Gregorian), not timegm/strptime: those depend on the locale
// and TZ environment and accept sloppy input. Thread-safety: pure.

#include "base/time_format.h"

#include <cstdint>

namespace acpstore::base {
namespace {

constexpr int64_t kMsPerDay = 86400000;

// Days since 1970-01-01 of a proleptic Gregorian date.
constexpr int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct Civil {
  int64_t year;
  int month;
  int day;
};

constexpr Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return Civil{yoe + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

constexpr TimestampMs kMinFormattable = DaysFromCivil(0, 1, 1) * kMsPerDay;
constexpr TimestampMs kMaxTimestamp = kLatestTimestamp;
static_assert(kMaxTimestamp ==
              DaysFromCivil(9999, 12, 31) * kMsPerDay + kMsPerDay - 1);

static_assert(DaysFromCivil(1970, 1, 1) == 0);
static_assert(CivilFromDays(0).year == 1970);

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

void AppendDigits(int64_t value, int width, std::string* out) {
  char buf[8];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out->append(buf, static_cast<size_t>(width));
}

// Reads exactly `n` ASCII digits at text[*pos].
bool ReadDigits(std::string_view text, size_t* pos, int n, int* value) {
  if (text.size() - *pos < static_cast<size_t>(n)) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = text[*pos + static_cast<size_t>(i)];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += static_cast<size_t>(n);
  *value = v;
  return true;
}

bool Expect(std::string_view text, size_t* pos, char c) {
  if (*pos >= text.size() || text[*pos] != c) return false;
  ++*pos;
  return true;
}

// ParseIso8601 (any_year false) and ParseIso8601AnyYear (true).
std::optional<int64_t> Parse(std::string_view text, bool any_year) {
  size_t pos = 0;
  int64_t year = 0;
  if (any_year && !text.empty() && (text[0] == '+' || text[0] == '-')) {
    // ECMAScript's expanded years: a sign and six digits; minus zero is
    // not a year.
    const bool minus = text[0] == '-';
    ++pos;
    int digits = 0;
    if (!ReadDigits(text, &pos, 6, &digits) || (minus && digits == 0)) {
      return std::nullopt;
    }
    year = minus ? -int64_t{digits} : int64_t{digits};
  } else {
    int digits = 0;
    if (!ReadDigits(text, &pos, 4, &digits)) return std::nullopt;
    year = digits;
  }
  int month, day, hour, minute, second;
  if (!Expect(text, &pos, '-') || !ReadDigits(text, &pos, 2, &month) ||
      !Expect(text, &pos, '-') || !ReadDigits(text, &pos, 2, &day) ||
      !Expect(text, &pos, 'T') || !ReadDigits(text, &pos, 2, &hour) ||
      !Expect(text, &pos, ':') || !ReadDigits(text, &pos, 2, &minute) ||
      !Expect(text, &pos, ':') || !ReadDigits(text, &pos, 2, &second)) {
    return std::nullopt;
  }
  if ((!any_year && year < 1970) || month < 1 || month > 12 || day < 1 ||
      day > DaysInMonth(year, month) || hour > 23 || minute > 59 ||
      second > 59) {
    return std::nullopt;
  }
  int millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 3) millis = millis * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 3; ++digits) millis *= 10;
  }
  if (pos >= text.size()) return std::nullopt;
  int64_t offset_ms = 0;
  const char zone = text[pos++];
  if (zone == '+' || zone == '-') {
    int off_h, off_m;
    if (!ReadDigits(text, &pos, 2, &off_h) || !Expect(text, &pos, ':') ||
        !ReadDigits(text, &pos, 2, &off_m) || off_h > 23 || off_m > 59) {
      return std::nullopt;
    }
    offset_ms = (off_h * 60 + off_m) * int64_t{60000};
    if (zone == '-') offset_ms = -offset_ms;
  } else if (zone != 'Z') {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  // A time of day and a fraction are added to the day's start, so a time
  // before 1970 is its day's (negative) start plus them: no division, and
  // nothing rounds toward zero.
  const int64_t ms = DaysFromCivil(year, month, day) * kMsPerDay +
                     hour * int64_t{3600000} + minute * int64_t{60000} +
                     second * int64_t{1000} + millis - offset_ms;
  // An offset can carry a 1970/9999 local time outside the UTC range.
  if (!any_year && (ms < 0 || ms > kMaxTimestamp)) return std::nullopt;
  return ms;
}

}  // namespace

std::string FormatIso8601(TimestampMs ms) {
  // The format is fixed at four-digit years; clamp rather than emit a
  // string no parser of ours would accept.
  if (ms < kMinFormattable) ms = kMinFormattable;
  if (ms > kMaxTimestamp) ms = kMaxTimestamp;
  int64_t days = ms / kMsPerDay;
  int64_t rem = ms % kMsPerDay;
  if (rem < 0) {
    rem += kMsPerDay;
    --days;
  }
  const Civil c = CivilFromDays(days);
  std::string out;
  out.reserve(24);
  AppendDigits(c.year, 4, &out);
  out.push_back('-');
  AppendDigits(c.month, 2, &out);
  out.push_back('-');
  AppendDigits(c.day, 2, &out);
  out.push_back('T');
  AppendDigits(rem / 3600000, 2, &out);
  out.push_back(':');
  AppendDigits(rem / 60000 % 60, 2, &out);
  out.push_back(':');
  AppendDigits(rem / 1000 % 60, 2, &out);
  out.push_back('.');
  AppendDigits(rem % 1000, 3, &out);
  out.push_back('Z');
  return out;
}

std::optional<TimestampMs> ParseIso8601(std::string_view text) {
  return Parse(text, false);
}

std::optional<int64_t> ParseIso8601AnyYear(std::string_view text) {
  return Parse(text, true);
}

}  // namespace acpstore::base
