// Process and Run with /bin/sh as the child: outputs to files, pipes and
// /dev/null, the clean environment, deadlines, SIGKILL and SIGTERM, and
// the port and line readers.

#include "testing/process.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>

namespace acpstore::proc {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string TempDir() {
  std::string dir = ::testing::TempDir() + "/process_test_XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) ADD_FAILURE() << "mkdtemp";
  return dir;
}

TEST(RunTest, CapturesBothStreamsAndTheExitCode) {
  RunResult r = RunProcess({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
}

TEST(RunTest, EnvironmentIsCleanPlusTheSpecs) {
  ::setenv("ACPSTORE_PROCESS_TEST", "leak", 1);
  ::setenv("PROCESS_TEST_KEPT", "kept", 1);
  RunResult r = RunProcess(
      {"/bin/sh", "-c",
       "echo \"[$ACPSTORE_PROCESS_TEST][$PROCESS_TEST_KEPT][$ACPSTORE_X]\""},
      {"PROCESS_TEST_KEPT=replaced", "ACPSTORE_X=given"});
  EXPECT_EQ(r.out, "[][replaced][given]\n");
  ::unsetenv("ACPSTORE_PROCESS_TEST");
  ::unsetenv("PROCESS_TEST_KEPT");
}

TEST(RunTest, MissingProgramAndPathSearch) {
  RunResult missing = RunProcess({"/nonexistent/program"});
  EXPECT_EQ(missing.exit_code, -1);
  EXPECT_NE(missing.err.find("/nonexistent/program"), std::string::npos);
  RunResult found = proc::Run({.argv = {"sh", "-c", "echo hi"}, .search_path = true});
  EXPECT_EQ(found.exit_code, 0);
  EXPECT_EQ(found.out, "hi\n");
}

TEST(RunTest, ATimeoutKills) {
  const auto start = Clock::now();
  RunResult r = proc::Run({.argv = {"/bin/sh", "-c", "exec sleep 30"}}, milliseconds(200));
  EXPECT_EQ(r.exit_code, 128 + SIGKILL);
  EXPECT_LT(Clock::now() - start, seconds(10));
}

TEST(ProcessTest, FilesAndWaitForText) {
  const std::string dir = TempDir();
  Process p({"/bin/sh", "-c", "echo starting >&2; echo 'listening on 127.0.0.1:4242' >&2; exec sleep 30"},
            {}, dir);
  ASSERT_GT(p.pid(), 0) << p.status().ToString();
  ASSERT_TRUE(p.WaitForText(Stream::kStderr, "listening on", seconds(10)));
  EXPECT_EQ(PortAfter(p.Text(Stream::kStderr), "listening on 127.0.0.1:"), 4242);
  EXPECT_TRUE(p.running());
  EXPECT_FALSE(p.Wait(milliseconds(50)).has_value());
  const Exit& e = p.Kill();
  EXPECT_TRUE(e.signaled());
  EXPECT_EQ(e.code(), 128 + SIGKILL);
  EXPECT_FALSE(p.running());
  EXPECT_EQ(p.Wait(milliseconds(0)), 128 + SIGKILL);
  std::filesystem::remove_all(dir);
}

TEST(ProcessTest, WaitForTextIsFalseWhenTheChildEndsFirst) {
  const std::string dir = TempDir();
  Process p({"/bin/sh", "-c", "echo nothing >&2"}, {}, dir);
  EXPECT_FALSE(p.WaitForText(Stream::kStderr, "listening", seconds(10)));
  EXPECT_EQ(p.Wait(seconds(10)), 0);
  std::filesystem::remove_all(dir);
}

TEST(ProcessTest, PipedLinesAndSigterm) {
  Process p({.argv = {"/bin/sh", "-c",
                      "trap 'echo bye; exit 7' TERM; echo ready; "
                      "while :; do sleep 0.05; done"},
             .out = Output::Pipe(),
             .err = Output::Null()});
  ASSERT_GT(p.pid(), 0);
  ASSERT_TRUE(p.ReadUntil(
      Stream::kStdout, [](std::string_view t) { return HasLine(t, "ready"); },
      Clock::now() + seconds(10)));
  const Exit& e = p.Terminate(seconds(10));
  EXPECT_FALSE(e.signaled());
  EXPECT_EQ(e.code(), 7);
  EXPECT_EQ(p.Text(Stream::kStdout), "ready\nbye\n");
}

TEST(ProcessTest, StderrSameAsStdout) {
  const std::string dir = TempDir();
  Process p({.argv = {"/bin/sh", "-c", "echo a; echo b >&2; echo c"},
             .out = Output::File(dir + "/all.log"),
             .err = Output::SameAsStdout()});
  EXPECT_EQ(p.Wait(seconds(10)), 0);
  EXPECT_EQ(p.Text(Stream::kStdout), "a\nb\nc\n");
  EXPECT_GE(p.exit()->usage.ru_maxrss, 1);
  std::filesystem::remove_all(dir);
}

TEST(ProcessTest, DestructorKillsARunningChild) {
  pid_t pid = -1;
  {
    Process p({.argv = {"/bin/sleep", "30"}});
    pid = p.pid();
    ASSERT_GT(pid, 0);
  }
  EXPECT_NE(::kill(pid, 0), 0);  // reaped: no such process
}

TEST(HasLineTest, WholeLinesOnly) {
  EXPECT_TRUE(HasLine("ready\n", "ready"));
  EXPECT_TRUE(HasLine("a\nready\nb", "ready"));
  EXPECT_FALSE(HasLine("ready", "ready"));        // not complete yet
  EXPECT_FALSE(HasLine("already\n", "ready"));
  EXPECT_FALSE(HasLine("readyx\n", "ready"));
}

}  // namespace
}  // namespace acpstore::proc
