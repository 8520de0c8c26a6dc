// TerminalSafe: control characters become the escapes tail prints.

#include "cli/terminal_text.h"

#include <gtest/gtest.h>

#include <string>

namespace acpstore::cli {
namespace {

TEST(TerminalSafeTest, EscapesControlCharactersAsJsonDoes) {
  EXPECT_EQ(TerminalSafe("hi \x1b]0;title\x07\x1b[31mRED \r over", false),
            "hi \\u001b]0;title\\u0007\\u001b[31mRED \\r over");
  EXPECT_EQ(TerminalSafe(std::string("a\0b\x7f" "c", 5), false),
            "a\\u0000b\\u007fc");
  // C1 controls (U+009B is CSI); other non-ASCII text is kept.
  EXPECT_EQ(TerminalSafe("x\xc2\x9b" "2Jy \xc2\xa0 \xc3\xa9 \xe2\x80\xa6", false),
            "x\\u009b2Jy \xc2\xa0 \xc3\xa9 \xe2\x80\xa6");
  EXPECT_EQ(TerminalSafe("back\\slash \"q\"", false), "back\\slash \"q\"");
}

TEST(TerminalSafeTest, MultiLineTextKeepsItsLinesAndTabs) {
  EXPECT_EQ(TerminalSafe("one\n\ttwo\r\nthree\rfour\n", true),
            "one\n\ttwo\r\nthree\\rfour\n");
  EXPECT_EQ(TerminalSafe("one\n\ttwo\r\n", false), "one\\n\\ttwo\\r\\n");
  EXPECT_EQ(TerminalSafe("end\r", true), "end\\r");
}

}  // namespace
}  // namespace acpstore::cli
