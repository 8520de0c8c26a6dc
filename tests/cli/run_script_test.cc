// scripts/run.sh, the README's first set-up command, as it hands over to
// `acpstore serve`: its defaults (file engine, ./acpstore-data,
// 127.0.0.1:7700) must give way to the caller's flags and ACPSTORE_*
// variables. The script runs from a copy of itself beside a stand-in
// lib.sh whose install and build steps do nothing and whose ROOT holds a
// link to the acpstore under test, so no test installs packages or
// rebuilds the tree.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli_test_util.h"
#include "io/test_dir.h"

namespace acpstore::testing {
namespace {

using std::chrono::seconds;

const std::string kBinary = ACPSTORE_BIN;
const std::string kSource = ACPSTORE_SOURCE_DIR;

class RunScriptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    namespace fs = std::filesystem;
    fs::create_directories(tmp_.Join("tree/scripts"));
    fs::create_directories(tmp_.Join("tree/build/release/src/cli"));
    fs::create_directories(Cwd());
    fs::copy_file(kSource + "/scripts/run.sh", tmp_.Join("tree/scripts/run.sh"));
    std::ofstream(tmp_.Join("tree/scripts/lib.sh"))
        << "ROOT=\"$(cd \"$(dirname \"${BASH_SOURCE[0]}\")/..\" && pwd)\"\n"
           "DEPS=()\n"
           "install_packages() { :; }\n"
           "configure_and_build() { :; }\n";
    fs::create_symlink(kBinary,
                       tmp_.Join("tree/build/release/src/cli/acpstore"));
  }

  // run.sh ARGS with ENV, from Cwd(); waits until it listens and returns
  // the server (run.sh execs it).
  std::unique_ptr<proc::Process> Start(const std::vector<std::string>& args,
                                       const std::vector<std::string>& env) {
    // The child starts in Cwd(): ./acpstore-data is relative to it.
    std::vector<std::string> argv = {
        "/bin/sh", "-c",
        "cd \"$0\" && script=$1 && shift && exec bash \"$script\" \"$@\"",
        Cwd(),
        tmp_.Join("tree/scripts/run.sh")};
    argv.insert(argv.end(), args.begin(), args.end());
    auto p = std::make_unique<proc::Process>(argv, env, tmp_.path());
    EXPECT_TRUE(p->WaitForText(proc::Stream::kStderr, "listening on",
                               seconds(15)))
        << p->Text(proc::Stream::kStderr);
    return p;
  }
  static void Stop(proc::Process& p) {
    p.Signal(SIGTERM);
    EXPECT_EQ(p.Wait(seconds(15)), 0) << p.Text(proc::Stream::kStderr);
  }
  std::string Cwd() const { return tmp_.Join("cwd"); }
  static bool Exists(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
  }

  io::TempDir tmp_;
};

// Extra arguments go to `serve`, as the script says, --listen too: it
// exited 2 ("--listen: At Most 1 required but received 2") since the
// script gave its own --listen first.
TEST_F(RunScriptTest, ExtraFlagsReplaceItsDefaults) {
  auto p = Start({"--listen", "127.0.0.1:0", "--engine", "memory",
                  "--data-dir", tmp_.Join("flag-data")},
                 {});
  const std::string log = p->Text(proc::Stream::kStderr);
  EXPECT_NE(log.find("engine memory, data dir " + tmp_.Join("flag-data")),
            std::string::npos)
      << log;
  const uint16_t port = proc::PortAfter(log, "listening on 127.0.0.1:");
  ASSERT_NE(port, 0) << log;
  EXPECT_EQ(HttpStatus(port, "GET", "/healthz"), 200);
  Stop(*p);
  EXPECT_FALSE(Exists(Cwd() + "/acpstore-data"));
}

// ACPSTORE_LISTEN, ACPSTORE_DATA_DIR and ACPSTORE_ENGINE reach `serve`:
// the script's flags used to beat them.
TEST_F(RunScriptTest, VariablesReplaceItsDefaults) {
  auto p = Start({}, {"ACPSTORE_LISTEN=127.0.0.1:0",
                      "ACPSTORE_DATA_DIR=" + tmp_.Join("env-data"),
                      "ACPSTORE_ENGINE=memory"});
  const std::string log = p->Text(proc::Stream::kStderr);
  EXPECT_NE(log.find("engine memory, data dir " + tmp_.Join("env-data")),
            std::string::npos)
      << log;
  EXPECT_NE(proc::PortAfter(log, "listening on 127.0.0.1:"), 0) << log;
  Stop(*p);
  EXPECT_TRUE(Exists(tmp_.Join("env-data") + "/bootstrap-admin.token"));
  EXPECT_FALSE(Exists(Cwd() + "/acpstore-data"));
}

// What it sets is not set: the file engine in ./acpstore-data (the
// README's first command). Only the port is the test's, so that it binds
// no fixed one.
TEST_F(RunScriptTest, UnsetItServesTheFileEngineInAcpstoreData) {
  auto p = Start({}, {"ACPSTORE_LISTEN=127.0.0.1:0"});
  const std::string log = p->Text(proc::Stream::kStderr);
  EXPECT_NE(log.find("engine file, data dir ./acpstore-data"),
            std::string::npos)
      << log;
  Stop(*p);
  EXPECT_TRUE(Exists(Cwd() + "/acpstore-data/journal"));
  EXPECT_TRUE(Exists(Cwd() + "/acpstore-data/bootstrap-admin.token"));
}

}  // namespace
}  // namespace acpstore::testing
