// End-to-end test of `acpstore tail`: a session's events arrive while the
// server is stopped and started again in the middle of the stream; the
// tail reconnects with Last-Event-ID and prints every event exactly once,
// in order, then stops cleanly on SIGINT.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "io/test_dir.h"
#include "cli_test_util.h"

namespace acpstore::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const std::string kBinary = ACPSTORE_BIN;

class TailTest : public ::testing::Test {
 protected:
  TailTest() {
    std::filesystem::create_directories(tmp_.Join("server1"));
    std::filesystem::create_directories(tmp_.Join("server2"));
    std::filesystem::create_directories(tmp_.Join("tail"));
  }
  std::string DataDir() const { return tmp_.Join("data"); }

  std::unique_ptr<proc::Process> StartServer(
      const std::string& logs, const std::vector<std::string>& extra = {}) {
    ServedStore served = Serve(kBinary, DataDir(), tmp_.Join(logs), port_, extra);
    token_ = served.token;
    return std::move(served.process);
  }
  void Append(int n) {
    ASSERT_EQ(HttpStatus(port_, "POST", "/v1/sessions/tail-s/events", token_,
                         R"({"eventType":"note","payload":{"n":)" +
                             std::to_string(n) + "}}"),
              201)
        << "event " << n;
  }
  std::vector<std::string> TailLines() const {
    std::ifstream in(tmp_.Join("tail/stdout.log"));
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
    return lines;
  }
  bool WaitForLines(size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      if (TailLines().size() >= n) return true;
      std::this_thread::sleep_for(milliseconds(20));
    }
    return false;
  }

  io::TempDir tmp_;
  int port_ = FreeLoopbackPort();
  std::string token_;
};

TEST_F(TailTest, EveryEventExactlyOnceAcrossAServerRestart) {
  auto server = StartServer("server1");
  ASSERT_FALSE(token_.empty());
  ASSERT_EQ(
      HttpStatus(port_, "POST", "/v1/sessions", token_, R"({"id":"tail-s"})"),
      201);
  for (int i = 1; i <= 3; ++i) Append(i);

  proc::Process tail({kBinary, "tail", "tail-s", "--url",
                          "http://127.0.0.1:" + std::to_string(port_),
                          "--token-file", DataDir() + "/bootstrap-admin.token"},
                         {}, tmp_.Join("tail"));
  ASSERT_TRUE(WaitForLines(3)) << tail.Text(proc::Stream::kStderr);
  for (int i = 4; i <= 5; ++i) Append(i);
  ASSERT_TRUE(WaitForLines(5)) << tail.Text(proc::Stream::kStderr);

  // Restart the server under the live stream.
  server->Signal(SIGTERM);
  ASSERT_EQ(server->Wait(seconds(20)), 0) << server->Text(proc::Stream::kStderr);
  ASSERT_TRUE(tail.WaitForText(proc::Stream::kStderr, "connection lost", seconds(10)))
      << tail.Text(proc::Stream::kStderr);
  server = StartServer("server2");
  // These may land before the tail is back: it must catch up from its
  // Last-Event-ID without repeating 1..5.
  for (int i = 6; i <= 7; ++i) Append(i);
  ASSERT_TRUE(WaitForLines(7)) << tail.Text(proc::Stream::kStderr);
  Append(8);
  ASSERT_TRUE(WaitForLines(8)) << tail.Text(proc::Stream::kStderr);
  // Nothing extra arrives: a repeat would be printed before a later event
  // (the stream is in order), so wait for one more rather than for a time.
  Append(9);
  ASSERT_TRUE(WaitForLines(9)) << tail.Text(proc::Stream::kStderr);

  tail.Signal(SIGINT);
  EXPECT_EQ(tail.Wait(seconds(10)), 0) << tail.Text(proc::Stream::kStderr);

  const std::vector<std::string> lines = TailLines();
  ASSERT_EQ(lines.size(), 9u);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string seq = std::to_string(i + 1);
    std::istringstream fields(lines[i]);
    std::string got_seq, time, type, payload;
    fields >> got_seq >> time >> type >> payload;
    EXPECT_EQ(got_seq, seq) << lines[i];
    EXPECT_EQ(time.size(), 24u) << lines[i];  // 2026-05-23T02:56:00.123Z
    EXPECT_EQ(type, "note");
    EXPECT_EQ(payload, "{\"n\":" + seq + "}");
  }
  // The token never reaches the output.
  EXPECT_EQ(tail.Text(proc::Stream::kStderr).find(token_), std::string::npos);

  server->Signal(SIGTERM);
  EXPECT_EQ(server->Wait(seconds(20)), 0);
}

TEST_F(TailTest, JsonPrintsTheServersLinesAndAfterSkipsEarlierEvents) {
  auto server = StartServer("server1");
  ASSERT_EQ(
      HttpStatus(port_, "POST", "/v1/sessions", token_, R"({"id":"tail-s"})"),
      201);
  for (int i = 1; i <= 4; ++i) Append(i);
  proc::Process tail({kBinary, "tail", "tail-s", "--after", "2", "--json",
                          "--url", "http://127.0.0.1:" + std::to_string(port_)},
                         {"ACPSTORE_TOKEN=" + token_}, tmp_.Join("tail"));
  ASSERT_TRUE(WaitForLines(2)) << tail.Text(proc::Stream::kStderr);
  // Nothing before seq 3 follows: the next event is the next line.
  Append(5);
  ASSERT_TRUE(WaitForLines(3)) << tail.Text(proc::Stream::kStderr);
  tail.Signal(SIGTERM);
  EXPECT_EQ(tail.Wait(seconds(10)), 0);
  const std::vector<std::string> lines = TailLines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find("\"eventSeq\":3"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"eventId\":"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("\"payload\":{\"n\":4}"), std::string::npos);
  EXPECT_NE(lines[2].find("\"payload\":{\"n\":5}"), std::string::npos);
}

// Retention dropped the events before the tail's position: it says from
// which seq it goes on, in words (it printed the frame's raw data, "events
// before {"firstSeq":4} were dropped", found by a probe).
TEST_F(TailTest, SaysInWordsFromWhichSeqRetentionLetItGoOn) {
  auto server = StartServer("server1", {"--max-events-per-session", "3"});
  ASSERT_EQ(
      HttpStatus(port_, "POST", "/v1/sessions", token_, R"({"id":"tail-s"})"),
      201);
  for (int i = 1; i <= 6; ++i) Append(i);
  proc::Process tail({kBinary, "tail", "tail-s", "--url",
                      "http://127.0.0.1:" + std::to_string(port_)},
                     {"ACPSTORE_TOKEN=" + token_}, tmp_.Join("tail"));
  ASSERT_TRUE(WaitForLines(3)) << tail.Text(proc::Stream::kStderr);
  tail.Signal(SIGTERM);
  EXPECT_EQ(tail.Wait(seconds(10)), 0);
  const std::string err = tail.Text(proc::Stream::kStderr);
  EXPECT_NE(err.find("events before seq 4 were dropped by retention; "
                     "continuing from seq 4"),
            std::string::npos)
      << err;
  EXPECT_EQ(err.find("firstSeq"), std::string::npos) << err;
  const std::vector<std::string> lines = TailLines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].substr(0, 2), "4 ") << lines[0];
}

TEST_F(TailTest, UnknownSessionAndMissingTokenFail) {
  auto server = StartServer("server1");
  proc::RunResult missing =
      RunProcess({kBinary, "tail", "nope", "--url",
                  "http://127.0.0.1:" + std::to_string(port_)},
                 {"ACPSTORE_TOKEN=" + token_});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("404"), std::string::npos) << missing.err;
  proc::RunResult no_token = RunProcess({kBinary, "tail", "nope"});
  EXPECT_EQ(no_token.exit_code, 2);
  EXPECT_NE(no_token.err.find("token"), std::string::npos);
}

}  // namespace
}  // namespace acpstore::testing
