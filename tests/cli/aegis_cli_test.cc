// End-to-end tests of `acpstore import-aegis`, `export-aegis`,
// `keys create --id` for imported owners, and `inspect`/`verify --json`,
// running the real binary on the hand-written files of tests/aegis/data.

#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "io/test_dir.h"
#include "process.h"

namespace acpstore::testing {
namespace {

using std::chrono::seconds;

const std::string kBinary = ACPSTORE_BIN;

std::string Data(const std::string& name) {
  return std::string(ACPSTORE_AEGIS_TESTDATA) + "/" + name;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class AegisCliTest : public ::testing::Test {
 protected:
  std::string Dir(const std::string& name) const { return tmp_.Join(name); }
  ProcessResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), kBinary);
    return RunProcess(args);
  }
  ProcessResult Import(const std::string& file, const std::string& dir,
                       std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"import-aegis", file, "--data-dir", dir};
    args.insert(args.end(), extra.begin(), extra.end());
    return Run(args);
  }
  boost::json::object InspectJson(const std::string& dir) {
    ProcessResult r = Run({"inspect", "--json", "--data-dir", dir});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(r.out, ec);
    EXPECT_FALSE(ec) << r.out;
    return ec ? boost::json::object() : v.as_object();
  }

  io::TempDir tmp_;
};

TEST_F(AegisCliTest, ImportExportImportRoundTripsAndPrintsKeyCommands) {
  ProcessResult r = Import(Data("pretty.json"), Dir("a"));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("sessions           4         4         0"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("acpstore keys create --data-dir " + Dir("a") +
                       " --tenant acme --id key_alice --role writer"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("--tenant globex --id key_bob"), std::string::npos);

  ProcessResult e =
      Run({"export-aegis", Dir("1.json"), "--data-dir", Dir("a")});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_NE(e.out.find("4 sessions, 7 events, 3 actions, 2 pauses"),
            std::string::npos)
      << e.out;
  EXPECT_EQ(ReadText(Dir("1.json")), ReadText(Data("pretty.export.json")));

  ASSERT_EQ(Import(Dir("1.json"), Dir("b")).exit_code, 0);
  ASSERT_EQ(
      Run({"export-aegis", Dir("2.json"), "--data-dir", Dir("b")}).exit_code,
      0);
  EXPECT_EQ(ReadText(Dir("2.json")), ReadText(Dir("1.json")));
}

TEST_F(AegisCliTest, ProblemsGoToStdoutWithPathsAndStrictWritesNothing) {
  ProcessResult strict =
      Import(Data("bad_records.json"), Dir("s"), {"--strict"});
  EXPECT_EQ(strict.exit_code, 1);
  EXPECT_NE(
      strict.out.find("$.sessions[1].status: unknown status \"sleeping\""),
      std::string::npos)
      << strict.out;
  EXPECT_NE(strict.out.find("nothing was written: --strict"), std::string::npos)
      << strict.out;
  EXPECT_EQ(InspectJson(Dir("s"))["sessions"].as_int64(), 0);

  ProcessResult lenient = Import(Data("bad_records.json"), Dir("l"));
  EXPECT_EQ(lenient.exit_code, 0) << lenient.err;
  EXPECT_NE(lenient.out.find("29 problems"), std::string::npos) << lenient.out;
  EXPECT_EQ(InspectJson(Dir("l"))["sessions"].as_int64(), 1);
}

TEST_F(AegisCliTest, DryRunCreatesNoDataDirectory) {
  ProcessResult r = Import(Data("pretty.json"), Dir("dry"), {"--dry-run"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("dry run: nothing was written"), std::string::npos);
  EXPECT_FALSE(std::ifstream(Dir("dry") + "/LOCK").good());
}

TEST_F(AegisCliTest, TruncatedFileExitsOneNamingOffsetAndPath) {
  ProcessResult r = Import(Data("truncated.json"), Dir("t"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("byte 3006"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("$.events[3].eventSeq"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing was written"), std::string::npos) << r.err;
}

TEST_F(AegisCliTest, DataDirectoryWithDataNeedsMergeAndCollisionsAreListed) {
  ASSERT_EQ(Import(Data("minimal.json"), Dir("m")).exit_code, 0);
  ProcessResult refused = Import(Data("pretty.json"), Dir("m"));
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("--merge"), std::string::npos) << refused.err;

  ASSERT_EQ(Import(Data("pretty.json"), Dir("m"), {"--merge"}).exit_code, 0);
  ProcessResult clash = Import(Data("minimal.json"), Dir("m"), {"--merge"});
  EXPECT_EQ(clash.exit_code, 1);
  EXPECT_NE(clash.out.find("3 ids already exist"), std::string::npos)
      << clash.out;
  EXPECT_NE(clash.out.find("  session m-1 (tenant default)\n"),
            std::string::npos);
  EXPECT_NE(clash.out.find("  action a-min (tenant default)\n"),
            std::string::npos);
  EXPECT_EQ(InspectJson(Dir("m"))["sessions"].as_int64(), 6);
}

TEST_F(AegisCliTest, KeyWithTheImportedOwnerIdReachesItsOwnSessionsOnly) {
  ASSERT_EQ(Import(Data("pretty.json"), Dir("k")).exit_code, 0);
  ProcessResult key = Run({"keys", "create", "--data-dir", Dir("k"), "--tenant",
                           "acme", "--id", "key_alice", "--role", "writer"});
  ASSERT_EQ(key.exit_code, 0) << key.err;
  std::string token = key.out.substr(0, key.out.find('\n'));
  const int port = FreeLoopbackPort();
  BackgroundProcess server({kBinary, "serve", "--data-dir", Dir("k"),
                            "--listen", "127.0.0.1:" + std::to_string(port)},
                           {}, tmp_.path());
  ASSERT_TRUE(server.WaitForStderr("listening on", seconds(10)))
      << server.Stderr();
  EXPECT_EQ(HttpStatus(port, "GET", "/v1/sessions/sess-full", token), 200);
  EXPECT_EQ(HttpStatus(port, "GET", "/v1/sessions/sess-full/events", token),
            200);
  EXPECT_EQ(HttpStatus(port, "GET", "/v1/sessions/sess-all-pruned", token),
            404);
  // The pruned stream continues after its old high-water mark (seq 44).
  EXPECT_EQ(
      HttpStatus(port, "POST", "/v1/sessions/sess-pruned-front/events", token,
                 R"({"eventType":"x","payload":1,"expectedLastSeq":43})"),
      201);
  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(seconds(15)), 0) << server.Stderr();
}

TEST_F(AegisCliTest, InspectAndVerifyPrintJsonOnRequest) {
  ASSERT_EQ(Import(Data("pretty.json"), Dir("j")).exit_code, 0);
  boost::json::object inspect = InspectJson(Dir("j"));
  EXPECT_EQ(inspect["sessions"].as_int64(), 4);
  EXPECT_EQ(inspect["eventsRetained"].as_int64(), 7);
  EXPECT_EQ(inspect["actions"].as_int64(), 3);
  EXPECT_EQ(inspect["pauses"].as_int64(), 2);
  EXPECT_EQ(inspect["sessionsByStatus"].as_object()["running"].as_int64(), 1);
  EXPECT_TRUE(inspect["recovered"].as_bool());
  EXPECT_TRUE(inspect["segments"].is_array());

  ProcessResult verify = Run({"verify", "--json", "--data-dir", Dir("j")});
  ASSERT_EQ(verify.exit_code, 0) << verify.err;
  boost::json::object v = boost::json::parse(verify.out).as_object();
  EXPECT_TRUE(v["ok"].as_bool());
  EXPECT_TRUE(v["problems"].as_array().empty());
  EXPECT_GT(v["records"].as_int64(), 0);

  // The human-readable forms stay the default.
  ProcessResult text = Run({"inspect", "--data-dir", Dir("j")});
  EXPECT_NE(text.out.find("sessions            4 ("), std::string::npos)
      << text.out;
}

}  // namespace
}  // namespace acpstore::testing
