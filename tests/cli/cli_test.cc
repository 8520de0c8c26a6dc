// End-to-end tests of the `acpstore` binary: help, option validation and
// exit codes, `keys` on a data directory, and `serve` start/stop. Each test
// runs the real executable in a fresh temporary directory; network use is
// loopback only.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
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

class CliTest : public ::testing::Test {
 protected:
  proc::RunResult Run(std::vector<std::string> args,
                    const std::vector<std::string>& env = {}) {
    args.insert(args.begin(), kBinary);
    return RunProcess(args, env);
  }
  std::string DataDir() const { return tmp_.Join("data"); }
  bool Exists(const std::string& path) const {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
  }
  // Creates a key and returns its token (stdout without the newline).
  std::string CreateKey(const std::string& tenant, const std::string& role,
                        const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"keys",   "create", "--data-dir", DataDir(),
                                     "--tenant", tenant, "--role",     role};
    args.insert(args.end(), extra.begin(), extra.end());
    proc::RunResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    if (r.out.empty() || r.out.back() != '\n') return "";
    return r.out.substr(0, r.out.size() - 1);
  }

  io::TempDir tmp_;
};

TEST_F(CliTest, HelpListsTheSubcommands) {
  proc::RunResult r = Run({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("serve"), std::string::npos);
  EXPECT_NE(r.out.find("keys"), std::string::npos);
}

TEST_F(CliTest, EverySubcommandHasHelp) {
  for (std::vector<std::string> args :
       std::vector<std::vector<std::string>>{{"serve", "--help"},
                                             {"keys", "--help"},
                                             {"keys", "create", "--help"},
                                             {"keys", "list", "--help"},
                                             {"keys", "revoke", "--help"}}) {
    proc::RunResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << args[0];
    EXPECT_NE(r.out.find("Usage:"), std::string::npos) << args[0];
  }
  EXPECT_NE(Run({"serve", "--help"}).out.find("ACPSTORE_SYNC"),
            std::string::npos);
}

TEST_F(CliTest, MissingOrUnknownCommandIsAUsageError) {
  EXPECT_EQ(Run({}).exit_code, 2);
  proc::RunResult r = Run({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown command 'frobnicate'"), std::string::npos);
  EXPECT_EQ(Run({"serve", "--no-such-flag"}).exit_code, 2);
}

// Found by an outside tester: `keys nosuch` said "A subcommand is
// required", and `--version` let anything follow it (exit 0).
TEST_F(CliTest, UnknownKeysCommandAndExtraArgumentsAfterVersionAreUsageErrors) {
  proc::RunResult keys = Run({"keys", "nosuch"});
  EXPECT_EQ(keys.exit_code, 2);
  EXPECT_EQ(keys.err,
            "acpstore: unknown keys command 'nosuch' (see keys --help)\n");
  proc::RunResult version = Run({"--version", "extra"});
  EXPECT_EQ(version.exit_code, 2);
  EXPECT_EQ(version.out, "");
  EXPECT_EQ(version.err,
            "acpstore: --version takes no other arguments, got 'extra' (see "
            "--help)\n");
  EXPECT_EQ(Run({"--version"}).exit_code, 0);
  EXPECT_EQ(Run({"keys", "list", "--help"}).exit_code, 0);
}

// SPEC §7: a bad option value exits 2 naming the option, not 1 relaying
// the server's 400 about something else (found by an outside tester).
TEST_F(CliTest, ClientCommandsCheckTheirOptionValuesThemselves) {
  std::filesystem::create_directories(tmp_.Join("server"));
  const int port = FreeLoopbackPort();
  ServedStore served = Serve(kBinary, DataDir(), tmp_.Join("server"), port);
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  const std::vector<std::string> env = {"ACPSTORE_TOKEN=" + served.token};
  ASSERT_EQ(HttpStatus(port, "POST", "/v1/sessions", served.token,
                       R"({"id":"s"})"),
            201);
  for (const std::string after : {"-5", "9223372036854775809", "x"}) {
    proc::RunResult r = Run({"tail", "s", "--after", after, "--url", url}, env);
    EXPECT_EQ(r.exit_code, 2) << after << ": " << r.err;
    EXPECT_TRUE(r.err.starts_with("acpstore: --after: ")) << r.err;
    EXPECT_NE(r.err.find("'" + after + "'"), std::string::npos) << r.err;
  }
  // "" too: it printed every kind (taken for "not given").
  for (const std::string kinds : {"bogus", "tool,", "tool,Assistant", ""}) {
    proc::RunResult r =
        Run({"transcript", "s", "--kind", kinds, "--url", url}, env);
    EXPECT_EQ(r.exit_code, 2) << kinds << ": " << r.err;
    EXPECT_TRUE(r.err.starts_with("acpstore: --kind: ")) << r.err;
  }
  proc::RunResult kinds =
      Run({"transcript", "s", "--kind", "tool,assistant", "--url", url}, env);
  EXPECT_EQ(kinds.exit_code, 0) << kinds.err;
  proc::RunResult dir =
      Run({"transcript", "s", "--token-file", tmp_.path(), "--url", url});
  EXPECT_EQ(dir.exit_code, 2);
  EXPECT_EQ(dir.err, "acpstore: --token-file: " + tmp_.path() +
                         " is a directory, not a file\n");
  const std::string empty = tmp_.Join("empty-token");
  { std::ofstream touch(empty); }
  proc::RunResult blank =
      Run({"tail", "s", "--token-file", empty, "--url", url});
  EXPECT_EQ(blank.exit_code, 2);
  EXPECT_NE(blank.err.find("--token-file: the first line of " + empty +
                           " is empty"),
            std::string::npos)
      << blank.err;
  served.process->Signal(SIGTERM);
  EXPECT_EQ(served.process->Wait(seconds(15)), 0);
}

TEST_F(CliTest, BadSyncStopsWithOneLineNamingTheOption) {
  proc::RunResult r = Run({"serve", "--data-dir", DataDir(), "--sync", "sometimes"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "acpstore: --sync: expected always, none or interval:<ms>, got "
            "'sometimes'\n");
  EXPECT_FALSE(Exists(DataDir())) << "nothing may be touched before validation";
}

TEST_F(CliTest, BadEnvironmentValueNamesTheVariable) {
  proc::RunResult r = Run({"serve", "--data-dir", DataDir()},
                        {"ACPSTORE_MAX_DISK_BYTES=12XB"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.err.starts_with("acpstore: ACPSTORE_MAX_DISK_BYTES: ")) << r.err;
}

TEST_F(CliTest, EveryBadServeValueExitsTwoNamingTheOption) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"--engine", "sqlite"},
      {"--listen", "7700"},
      {"--terminal-event-retention", "24"},
      {"--max-payload-bytes", "lots"},
      {"--shutdown-timeout", "0"},
      {"--log-format", "xml"},
      {"--max-events-per-session", "-5"},
  };
  for (const auto& [flag, value] : bad) {
    proc::RunResult r = Run({"serve", "--data-dir", DataDir(), flag, value});
    EXPECT_EQ(r.exit_code, 2) << flag;
    EXPECT_TRUE(r.err.starts_with("acpstore: " + flag + ": ")) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

TEST_F(CliTest, KeysCreateListRevoke) {
  proc::RunResult created = Run({"keys", "create", "--data-dir", DataDir(),
                               "--tenant", "t1", "--role", "writer", "--name",
                               "ci runner"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  // stdout is the token alone on one line; the rest went to stderr.
  EXPECT_TRUE(std::regex_match(created.out,
                               std::regex("acp_[0-9a-f]{16}_[0-9a-f]{64}\n")))
      << created.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(created.err, m, std::regex("key (key_[0-9a-f]{16})")))
      << created.err;
  const std::string id = m[1];

  CreateKey("t2", "reader", {"--id", "owner-7"});

  proc::RunResult listed = Run({"keys", "list", "--data-dir", DataDir()});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find(id), std::string::npos);
  EXPECT_NE(listed.out.find("owner-7"), std::string::npos);
  EXPECT_NE(listed.out.find("ci runner"), std::string::npos);

  proc::RunResult revoked = Run({"keys", "revoke", "--data-dir", DataDir(), id});
  ASSERT_EQ(revoked.exit_code, 0) << revoked.err;
  EXPECT_TRUE(revoked.out.empty());

  proc::RunResult json =
      Run({"keys", "list", "--data-dir", DataDir(), "--tenant", "t1", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  boost::json::value v = boost::json::parse(json.out);
  ASSERT_EQ(v.as_array().size(), 1u);
  const boost::json::object& key = v.as_array()[0].as_object();
  EXPECT_EQ(key.at("id").as_string(), id);
  EXPECT_EQ(key.at("role").as_string(), "writer");
  EXPECT_TRUE(key.at("revokedAt").is_string());
  EXPECT_FALSE(key.contains("sha256"));
}

TEST_F(CliTest, KeyIdsAreNeverReused) {
  CreateKey("t1", "writer", {"--id", "owner-1"});
  ASSERT_EQ(Run({"keys", "revoke", "--data-dir", DataDir(), "owner-1"}).exit_code, 0);
  proc::RunResult again = Run({"keys", "create", "--data-dir", DataDir(),
                             "--tenant", "t1", "--role", "writer", "--id",
                             "owner-1"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_TRUE(again.out.empty());
  EXPECT_NE(again.err.find("owner-1"), std::string::npos);
}

TEST_F(CliTest, KeysCreateValidatesItsArguments) {
  EXPECT_EQ(Run({"keys", "create", "--data-dir", DataDir(), "--role", "writer"})
                .exit_code,
            2);
  proc::RunResult r = Run({"keys", "create", "--data-dir", DataDir(), "--tenant",
                         "t", "--role", "root"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.err.starts_with("acpstore: --role: ")) << r.err;
  EXPECT_TRUE(r.out.empty());
}

// SPEC §2.5: a key id is a URL path segment; "." and ".." are dot segments
// no HTTP client can send (found by a probe).
TEST_F(CliTest, KeysCreateRefusesDotSegmentIds) {
  for (const char* id : {".", ".."}) {
    proc::RunResult r = Run({"keys", "create", "--data-dir", DataDir(),
                             "--tenant", "t", "--role", "writer", "--id", id});
    EXPECT_EQ(r.exit_code, 2) << id << ": " << r.err;
    EXPECT_NE(r.err.find("dot segment"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty());
  }
  proc::RunResult listed = Run({"keys", "list", "--data-dir", DataDir()});
  EXPECT_EQ(listed.out.find("writer"), std::string::npos) << listed.out;
}

// A service key's --tenants list: an empty name is a bad input wherever
// it stands. CLI11 split the list and dropped empty names, so "a,,b" made
// a key for a and b while "" alone was refused (found by a review); a name
// of spaces alone ("a, ,b") is as empty, since spaces around a name are
// dropped. Each is refused before the data directory is created.
TEST_F(CliTest, KeysCreateRefusesAnEmptyTenantName) {
  const std::string empty_name =
      "acpstore: --tenants: tenants must be 1-256 bytes; the list holds an "
      "empty name (two commas with nothing but whitespace between them, or "
      "a comma at either end)\n";
  for (const std::string list :
       {"a,,b", "a,", ",a", ",", "a, ,b", "a,  ", " ,a", " , "}) {
    proc::RunResult r = Run({"keys", "create", "--data-dir", DataDir(),
                             "--role", "service", "--tenants", list});
    EXPECT_EQ(r.exit_code, 2) << list << ": " << r.err;
    EXPECT_EQ(r.err, empty_name) << list;
    EXPECT_EQ(r.out, "") << list;
  }
  proc::RunResult none = Run({"keys", "create", "--data-dir", DataDir(),
                              "--role", "service", "--tenants", ""});
  EXPECT_EQ(none.exit_code, 2) << none.err;
  EXPECT_EQ(none.err, "acpstore: --tenants: tenants must be 1-256 bytes\n");
  proc::RunResult blank = Run({"keys", "create", "--data-dir", DataDir(),
                               "--role", "service", "--tenants", "  "});
  EXPECT_EQ(blank.exit_code, 2) << blank.err;
  EXPECT_EQ(blank.err,
            "acpstore: --tenants: tenants must be 1-256 bytes; the list is "
            "only whitespace\n");
  EXPECT_FALSE(Exists(DataDir()));

  CreateKey("t", "service", {"--tenants", "a,b", "--tenants", "c"});
  proc::RunResult listed =
      Run({"keys", "list", "--data-dir", DataDir(), "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  boost::json::value v = boost::json::parse(listed.out);
  ASSERT_EQ(v.as_array().size(), 1u) << listed.out;
  EXPECT_EQ(boost::json::serialize(v.as_array()[0].as_object().at("tenants")),
            R"(["a","b","c"])");
}

// "a, b" is how people write a list: it named tenants "a" and " b", and no
// tenant " b" was meant (found by a review). Whitespace around each name is
// list layout, like the commas; inside a name it stays.
TEST_F(CliTest, KeysCreateDropsWhitespaceAroundTenantNames) {
  CreateKey("t", "service",
            {"--tenants", "a, b", "--tenants", " c d ,\te\t", "--id", "svc"});
  proc::RunResult listed =
      Run({"keys", "list", "--data-dir", DataDir(), "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  boost::json::value v = boost::json::parse(listed.out);
  ASSERT_EQ(v.as_array().size(), 1u) << listed.out;
  EXPECT_EQ(boost::json::serialize(v.as_array()[0].as_object().at("tenants")),
            R"(["a","b","c d","e"])");
}

// A key's own tenant is taken byte for byte (SPEC §2.5): an orchestrator
// or an Aegis import may hold a tenant " acme", which a service key reaches
// as "%20acme", and import-aegis prints `keys create --tenant ' acme'` for
// its owners. So it is made, with a warning, since "acme " is more often a
// slip than a name.
TEST_F(CliTest, KeysCreateWarnsOfWhitespaceAroundItsTenant) {
  const auto warning = [](const std::string& tenant) {
    return "acpstore: warning: tenant '" + tenant +
           "' begins or ends with a space; tenant ids are compared byte for "
           "byte, so a spelling without those spaces names another tenant\n";
  };
  for (const std::string tenant : {" acme", "acme "}) {
    proc::RunResult r = Run({"keys", "create", "--data-dir", DataDir(),
                             "--tenant", tenant, "--role", "writer"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out, "");
    EXPECT_NE(r.err.find(warning(tenant)), std::string::npos) << r.err;
  }
  proc::RunResult blank = Run({"keys", "create", "--data-dir", DataDir(),
                               "--tenant", " ", "--role", "writer"});
  EXPECT_EQ(blank.exit_code, 0) << blank.err;
  EXPECT_NE(blank.err.find(warning(" ")), std::string::npos) << blank.err;
  proc::RunResult listed =
      Run({"keys", "list", "--data-dir", DataDir(), "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find(R"("tenantId":" acme")"), std::string::npos)
      << listed.out;
  EXPECT_NE(listed.out.find(R"("tenantId":"acme ")"), std::string::npos)
      << listed.out;
  proc::RunResult plain = Run({"keys", "create", "--data-dir", DataDir(),
                               "--tenant", "acme", "--role", "writer"});
  EXPECT_EQ(plain.err.find("warning"), std::string::npos) << plain.err;
}

TEST_F(CliTest, KeysOnAMissingDataDirectoryFail) {
  proc::RunResult r = Run({"keys", "list", "--data-dir", DataDir()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("does not exist"), std::string::npos);
  EXPECT_EQ(Run({"keys", "revoke", "--data-dir", DataDir(), "k"}).exit_code, 1);
  EXPECT_FALSE(Exists(DataDir()));
}

TEST_F(CliTest, KeysReadTheDataDirFromTheEnvironment) {
  proc::RunResult r = Run({"keys", "create", "--tenant", "t", "--role", "admin"},
                        {"ACPSTORE_DATA_DIR=" + DataDir()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Exists(DataDir() + "/keys.json"));
}

}  // namespace
}  // namespace acpstore::testing
