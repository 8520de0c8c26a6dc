// End-to-end test of `acpstore transcript`: a session's deltas, a tool call
// and a turn end, printed as readable text and as --json lines by the real
// binary against a real server; a missing session exits 1, and so does a
// server with transcripts off (501).

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "cli_test_util.h"
#include "io/test_dir.h"

namespace acpstore::testing {
namespace {

using std::chrono::seconds;

const std::string kBinary = ACPSTORE_BIN;

TEST(TranscriptCliTest, PrintsTheConversationAsTextAndJson) {
  io::TempDir tmp;
  std::filesystem::create_directories(tmp.Join("server"));
  const int port = FreeLoopbackPort();
  ServedStore served = Serve(kBinary, tmp.Join("data"), tmp.Join("server"), port);
  proc::Process& server = *served.process;
  const std::string& token = served.token;
  ASSERT_FALSE(token.empty()) << server.Text(proc::Stream::kStderr);
  ASSERT_EQ(HttpStatus(port, "POST", "/v1/sessions", token, R"({"id":"conv"})"), 201);
  ASSERT_EQ(HttpStatus(port, "POST", "/v1/sessions/conv/events", token,
                       R"({"events":[)"
                       R"({"eventType":"message.delta","payload":{"acp":{"x":"FRAME"},"text":"Hello "}},)"
                       R"({"eventType":"message.delta","payload":{"acp":{"x":"FRAME"},"text":"world"}},)"
                       R"({"eventType":"tool.started","payload":{"input":{"p":1},"kind":"read","title":"Read a","toolCallId":"t"}},)"
                       R"({"eventType":"tool.completed","payload":{"status":"completed","text":"ok","toolCallId":"t"}},)"
                       R"({"eventType":"turn.completed","payload":{"stopReason":"end_turn"}},)"
                       R"({"eventType":"usage.updated","payload":{"cost":1.5,"rate":0.1,"inputTokens":10}}]})"),
            201);
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  const std::vector<std::string> env = {"ACPSTORE_TOKEN=" + token};
  proc::RunResult text =
      proc::RunProcess({kBinary, "transcript", "conv", "--url", url}, env);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("#1 assistant seq 1-2 "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("\nHello world\n"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("#2 tool seq 3-4 "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("  Read a [read] completed\n  input: {\"p\":1}\n  result: ok\n"),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("{\"stopReason\":\"end_turn\"}"), std::string::npos);
  // Numbers as the server wrote them (Boost.JSON alone writes 1.5E0).
  EXPECT_NE(text.out.find(R"("cost":1.5,"rate":0.1)"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("-- entries 1..4, events folded through seq 6"),
            std::string::npos)
      << text.out;
  EXPECT_EQ(text.out.find("FRAME"), std::string::npos);
  EXPECT_EQ(text.out.find(token), std::string::npos);

  proc::RunResult json = proc::RunProcess(
      {kBinary, "transcript", "conv", "--url", url, "--json", "--kind", "tool"}, env);
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(json.out.rfind("{\"index\":2,\"kind\":\"tool\"", 0), 0u) << json.out;
  EXPECT_EQ(std::count(json.out.begin(), json.out.end(), '\n'), 1) << json.out;

  // Two kinds (the comma travels encoded), and a flag that tries to smuggle
  // another parameter in: the server refuses it as one unknown kind.
  proc::RunResult two = proc::RunProcess(
      {kBinary, "transcript", "conv", "--url", url, "--json", "--kind", "tool,turn_end"},
      env);
  ASSERT_EQ(two.exit_code, 0) << two.err;
  EXPECT_EQ(std::count(two.out.begin(), two.out.end(), '\n'), 2) << two.out;
  proc::RunResult usage = proc::RunProcess(
      {kBinary, "transcript", "conv", "--url", url, "--json", "--kind", "usage"}, env);
  ASSERT_EQ(usage.exit_code, 0) << usage.err;
  EXPECT_NE(usage.out.find(R"("cost":1.5,"rate":0.1,"inputTokens":10)"), std::string::npos)
      << usage.out;
  proc::RunResult smuggled = proc::RunProcess(
      {kBinary, "transcript", "conv", "--url", url, "--kind", "tool&after=5"}, env);
  // Refused before any request (an unknown kind), so nothing after the
  // `&` can reach the query string as a parameter of its own.
  EXPECT_EQ(smuggled.exit_code, 2);
  EXPECT_NE(smuggled.err.find("--kind: "), std::string::npos) << smuggled.err;
  EXPECT_NE(smuggled.err.find("got 'tool&after=5'"), std::string::npos) << smuggled.err;

  proc::RunResult missing =
      proc::RunProcess({kBinary, "transcript", "nope", "--url", url}, env);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("404"), std::string::npos) << missing.err;
  // A data directory is not read: the message says what to do instead
  // (it said "arguments were not expected", found by a probe).
  proc::RunResult dir = proc::RunProcess(
      {kBinary, "transcript", "conv", "--data-dir", tmp.Join("data")}, env);
  EXPECT_EQ(dir.exit_code, 2);
  EXPECT_NE(dir.err.find("reads from a running server"), std::string::npos)
      << dir.err;
  EXPECT_NE(dir.err.find("acpstore serve --data-dir"), std::string::npos)
      << dir.err;
  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(seconds(30)), std::optional<int>(0));
}

// An incomplete transcript: the last line says entries were dropped only
// when the per-session cap dropped them (the first kept index is above 1).
// It said "older entries dropped" for every cause, also for an import of a
// pruned stream, which drops none (found by a review). Both transcripts
// come from an import: "pruned" starts at seq 3 (Aegis pruned seqs 1-2),
// "capped" is ten messages imported under a 1 KiB cap.
TEST(TranscriptCliTest, SaysWhyATranscriptIsIncomplete) {
  io::TempDir tmp;
  std::filesystem::create_directories(tmp.Join("server"));
  auto event = [](const std::string& session, int seq, const std::string& type,
                  const std::string& payload) {
    const std::string n = std::to_string(seq);
    return R"({"eventId":"default:k1:)" + session + ":" + n +
           R"(","sessionId":")" + session +
           R"(","tenantId":"default","ownerKeyId":"k1","eventSeq":)" + n +
           R"(,"eventType":")" + type +
           R"(","occurredAt":"2026-05-23T02:56:00.123Z",)"
           R"("ingestedAt":"2026-05-23T02:56:00.123Z","payload":)" +
           payload + "}";
  };
  auto session = [](const std::string& id) {
    return R"({"id":")" + id +
           R"(","tenantId":"default","ownerKeyId":"k1","conversationId":"c",)"
           R"("transcriptId":"t","status":"idle","createdAt":1779504960123,)"
           R"("updatedAt":1779504960123})";
  };
  std::string events = event("pruned", 3, "message.delta", R"({"text":"hi"})") +
                       "," + event("pruned", 4, "turn.completed", "{}");
  for (int i = 1; i <= 10; ++i) {
    events +=
        "," + event("capped", i, "message.delta",
                    R"({"messageId":"m)" + std::to_string(i) + R"(","text":")" +
                        std::string(300, 'a') + R"("})");
  }
  const std::string file = tmp.Join("aegis.json");
  std::ofstream(file) << R"({"version":1,"sessions":[)" << session("pruned")
                      << "," << session("capped") << R"(],"events":[)" << events
                      << R"(],"actions":[],"pauseInterventions":[]})";
  proc::RunResult imported =
      proc::RunProcess({kBinary, "import-aegis", file, "--data-dir",
                        tmp.Join("data"), "--transcript-max-bytes", "1KiB"});
  ASSERT_EQ(imported.exit_code, 0) << imported.out << imported.err;

  const int port = FreeLoopbackPort();
  ServedStore served =
      Serve(kBinary, tmp.Join("data"), tmp.Join("server"), port);
  proc::Process& server = *served.process;
  ASSERT_FALSE(served.token.empty()) << server.Text(proc::Stream::kStderr);
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  const std::vector<std::string> env = {"ACPSTORE_TOKEN=" + served.token};

  proc::RunResult pruned =
      proc::RunProcess({kBinary, "transcript", "pruned", "--url", url}, env);
  ASSERT_EQ(pruned.exit_code, 0) << pruned.err;
  EXPECT_NE(pruned.out.find("-- entries 1..2, events folded through seq 4, "
                            "usage {}, incomplete: some of its events were "
                            "never folded (gone to event retention or damage "
                            "first, or missing from an Aegis import); no entry "
                            "was dropped\n"),
            std::string::npos)
      << pruned.out;
  EXPECT_EQ(pruned.out.find("dropped entries"), std::string::npos)
      << pruned.out;

  proc::RunResult capped =
      proc::RunProcess({kBinary, "transcript", "capped", "--url", url}, env);
  ASSERT_EQ(capped.exit_code, 0) << capped.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      capped.out, m,
      std::regex("-- entries ([0-9]+)\\.\\.10, events folded through seq "
                 "10, usage \\{\\}, incomplete: the per-session cap "
                 "\\(--transcript-max-bytes\\) dropped entries 1\\.\\.([0-9]+)"
                 "\n")))
      << capped.out;
  EXPECT_GT(std::stoi(m[1]), 1);
  EXPECT_EQ(std::stoi(m[2]), std::stoi(m[1]) - 1);
  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(seconds(30)), std::optional<int>(0));
}

// Found by a probe: agent text and tool titles reached the terminal raw,
// so an ESC sequence in them could retitle the window or clear the screen.
// They are printed escaped, as `acpstore tail` prints them.
TEST(TranscriptCliTest, PrintsControlCharactersEscaped) {
  io::TempDir tmp;
  std::filesystem::create_directories(tmp.Join("server"));
  const int port = FreeLoopbackPort();
  ServedStore served = Serve(kBinary, tmp.Join("data"), tmp.Join("server"), port);
  proc::Process& server = *served.process;
  const std::string& token = served.token;
  ASSERT_FALSE(token.empty()) << server.Text(proc::Stream::kStderr);
  ASSERT_EQ(HttpStatus(port, "POST", "/v1/sessions", token, R"({"id":"esc"})"), 201);
  ASSERT_EQ(HttpStatus(port, "POST", "/v1/sessions/esc/events", token,
                       R"({"events":[)"
                       R"({"eventType":"message.delta","payload":{"text":"hi \u001b]0;pwned\u0007\u001b[31mRED \r over\nline two\u007f\u009b2J"}},)"
                       R"({"eventType":"tool.started","payload":{"title":"\u001b[2J cleared","toolCallId":"x"}},)"
                       R"({"eventType":"tool.completed","payload":{"text":"out\r\n\tok\u001b[0m","toolCallId":"x"}}]})"),
            201);
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  proc::RunResult text = proc::RunProcess({kBinary, "transcript", "esc", "--url", url},
                                          {"ACPSTORE_TOKEN=" + token});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  for (const char c : {'\x1b', '\x07', '\x7f'}) {
    EXPECT_EQ(text.out.find(c), std::string::npos) << text.out;
  }
  EXPECT_EQ(text.out.find("\xc2\x9b"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("\nhi \\u001b]0;pwned\\u0007\\u001b[31mRED \\r over\n"
                          "line two\\u007f\\u009b2J\n"),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("  \\u001b[2J cleared\n"), std::string::npos) << text.out;
  // A result's own lines stay lines.
  EXPECT_NE(text.out.find("  result: out\r\n\tok\\u001b[0m\n"), std::string::npos)
      << text.out;
  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(seconds(30)), std::optional<int>(0));
}

// A server with transcripts off answers 501 not_implemented (decision
// 0036; it was a 503, which reads as "try again"): the command exits 1
// and relays that answer, which says why; an unknown session is still a
// 404 there.
TEST(TranscriptCliTest, TranscriptsOffExitsOneWithTheServers501) {
  io::TempDir tmp;
  std::filesystem::create_directories(tmp.Join("server"));
  const int port = FreeLoopbackPort();
  ServedStore served = Serve(kBinary, tmp.Join("data"), tmp.Join("server"),
                             port, {"--transcript-max-bytes", "0"});
  proc::Process& server = *served.process;
  const std::string& token = served.token;
  ASSERT_FALSE(token.empty()) << server.Text(proc::Stream::kStderr);
  ASSERT_EQ(HttpStatus(port, "POST", "/v1/sessions", token, R"({"id":"off"})"), 201);
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  const std::vector<std::string> env = {"ACPSTORE_TOKEN=" + token};
  proc::RunResult off =
      proc::RunProcess({kBinary, "transcript", "off", "--url", url}, env);
  EXPECT_EQ(off.exit_code, 1);
  EXPECT_NE(off.err.find("the server answered 501"), std::string::npos) << off.err;
  EXPECT_NE(off.err.find("not_implemented"), std::string::npos) << off.err;
  EXPECT_NE(off.err.find("transcripts are turned off on this server "
                         "(--transcript-max-bytes 0)"),
            std::string::npos)
      << off.err;
  EXPECT_EQ(off.out, "");
  proc::RunResult missing =
      proc::RunProcess({kBinary, "transcript", "nope", "--url", url}, env);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("the server answered 404"), std::string::npos)
      << missing.err;
  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(seconds(30)), std::optional<int>(0));
}

}  // namespace
}  // namespace acpstore::testing
