// Option value parsing: what each accepts, and that a refusal says what
// was expected and quotes what it got.

#include "cli/option_parsing.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace acpstore::cli {
namespace {

std::string ErrorOf(const Status& s) { return std::string(s.message()); }

TEST(ParseDurationTest, AcceptsEachUnit) {
  EXPECT_EQ(ParseDurationMs("500ms").value(), 500);
  EXPECT_EQ(ParseDurationMs("10s").value(), 10'000);
  EXPECT_EQ(ParseDurationMs("5m").value(), 300'000);
  EXPECT_EQ(ParseDurationMs("24h").value(), 86'400'000);
  EXPECT_EQ(ParseDurationMs("30d").value(), 2'592'000'000);
  EXPECT_EQ(ParseDurationMs("0").value(), 0);
  EXPECT_EQ(ParseDurationMs("0s").value(), 0);
}

TEST(ParseDurationTest, RefusesMissingOrUnknownUnits) {
  for (const char* bad : {"", "10", "s", "-5s", "+5s", "1.5h", "10 s", "3w",
                          "10sec", "5S"}) {
    Result<int64_t> r = ParseDurationMs(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(ErrorOf(r.error()).find("expected a duration"),
              std::string::npos);
  }
  EXPECT_FALSE(ParseDurationMs("99999999999999999d").ok());
  EXPECT_FALSE(ParseDurationMs("999999999999999999999999ms").ok());
}

TEST(ParseSizeTest, AcceptsBinaryDecimalAndPlainBytes) {
  EXPECT_EQ(ParseSize("1048576").value(), 1048576u);
  EXPECT_EQ(ParseSize("512KiB").value(), 512u * 1024);
  EXPECT_EQ(ParseSize("64MiB").value(), 64ull << 20);
  EXPECT_EQ(ParseSize("1GiB").value(), 1ull << 30);
  EXPECT_EQ(ParseSize("2TiB").value(), 2ull << 40);
  EXPECT_EQ(ParseSize("10MB").value(), 10'000'000u);
  EXPECT_EQ(ParseSize("7B").value(), 7u);
  EXPECT_EQ(ParseSize("0").value(), 0u);
}

TEST(ParseSizeTest, RefusesGarbageAndOverflow) {
  for (const char* bad : {"", "MiB", "1.5GiB", "64mib", "64 MiB", "-1", "1Q"}) {
    Result<uint64_t> r = ParseSize(bad);
    ASSERT_FALSE(r.ok()) << bad;
  }
  EXPECT_FALSE(ParseSize("99999999TiB").ok());
}

TEST(ParseCountTest, ChecksRangeAndDigits) {
  EXPECT_EQ(ParseCount("0", 0, 10).value(), 0u);
  EXPECT_EQ(ParseCount("10", 0, 10).value(), 10u);
  EXPECT_FALSE(ParseCount("11", 0, 10).ok());
  EXPECT_FALSE(ParseCount("0", 1, 10).ok());
  EXPECT_FALSE(ParseCount("5x", 0, 10).ok());
  EXPECT_FALSE(ParseCount("", 0, 10).ok());
  Result<uint64_t> r = ParseCount("many", 1, 100);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(ErrorOf(r.error()),
            "expected a whole number from 1 to 100, got 'many'");
}

TEST(ParseSyncTest, AcceptsTheThreeModes) {
  EXPECT_EQ(ParseSync("always").value().mode, SyncMode::kAlways);
  EXPECT_EQ(ParseSync("none").value().mode, SyncMode::kNone);
  SyncSetting s = ParseSync("interval:250").value();
  EXPECT_EQ(s.mode, SyncMode::kInterval);
  EXPECT_EQ(s.interval_ms, 250);
  EXPECT_EQ(ParseSync("interval:2s").value().interval_ms, 2000);
}

TEST(ParseSyncTest, RefusalNamesTheChoices) {
  Result<SyncSetting> r = ParseSync("sometimes");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(ErrorOf(r.error()),
            "expected always, none or interval:<ms>, got 'sometimes'");
  EXPECT_FALSE(ParseSync("interval:").ok());
  EXPECT_FALSE(ParseSync("interval:0").ok());
  EXPECT_FALSE(ParseSync("interval:abc").ok());
  EXPECT_FALSE(ParseSync("Always").ok());
}

TEST(ParseListenTest, AcceptsHostsAndPorts) {
  ListenAddress a = ParseListen("127.0.0.1:7700").value();
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 7700);
  ListenAddress b = ParseListen("[::1]:0").value();
  EXPECT_EQ(b.host, "::1");
  EXPECT_EQ(b.port, 0);
  EXPECT_EQ(FormatListen(b), "[::1]:0");
  EXPECT_EQ(ParseListen("localhost:65535").value().host, "localhost");
}

TEST(ParseListenTest, RefusesMalformedAddresses) {
  for (const char* bad : {"", "7700", ":7700", "127.0.0.1", "127.0.0.1:",
                          "127.0.0.1:65536", "127.0.0.1:http", "::1:7700",
                          "[::1]7700", "[::1", "a b:1", "host:-1"}) {
    EXPECT_FALSE(ParseListen(bad).ok()) << bad;
  }
}

// A numeric host is itself, canonical, without a lookup; a name is what
// the resolver says. `localhost` only: the tests reach no DNS.
TEST(ResolveListenHostTest, NumericHostsAreThemselves) {
  EXPECT_EQ(ResolveListenHost("127.0.0.1").value(),
            std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(ResolveListenHost("::1").value(), std::vector<std::string>{"::1"});
  EXPECT_EQ(ResolveListenHost("0.0.0.0").value(),
            std::vector<std::string>{"0.0.0.0"});
  // inet_aton's short form, which the server's inet_pton would refuse.
  EXPECT_EQ(ResolveListenHost("127.1").value(),
            std::vector<std::string>{"127.0.0.1"});
}

TEST(ResolveListenHostTest, LocalhostIsItsLoopbackAddresses) {
  Result<std::vector<std::string>> a = ResolveListenHost("localhost");
  ASSERT_TRUE(a.ok()) << a.error();
  ASSERT_FALSE(a->empty());
  for (const std::string& address : *a) {
    // Numeric, each once; 127.0.0.1 and ::1 on a usual hosts file.
    EXPECT_EQ(ResolveListenHost(address).value(),
              std::vector<std::string>{address});
    EXPECT_EQ(std::count(a->begin(), a->end(), address), 1) << address;
    EXPECT_TRUE(address.starts_with("127.") || address == "::1") << address;
  }
}

TEST(ParseEnumsTest, EngineFormatLevel) {
  EXPECT_EQ(ParseEngine("memory").value(), Engine::kMemory);
  EXPECT_EQ(ParseEngine("file").value(), Engine::kFile);
  EXPECT_EQ(ParseEngine("postgres").value(), Engine::kPostgres);
  EXPECT_FALSE(ParseEngine("sqlite").ok());
  EXPECT_EQ(ParseLogFormat("json").value(), LogFormat::kJson);
  EXPECT_FALSE(ParseLogFormat("xml").ok());
  EXPECT_EQ(ParseLogLevel("warn").value(), LogLevel::kWarn);
  // The name log lines print for that level.
  EXPECT_EQ(ParseLogLevel("warning").value(), LogLevel::kWarn);
  EXPECT_FALSE(ParseLogLevel("verbose").ok());
  EXPECT_FALSE(ParseLogLevel("Warning").ok());
}

TEST(QuoteTest, ControlBytesAndLongValuesAreTamed) {
  Result<Engine> r = ParseEngine("a\nb" + std::string(100, 'x'));
  ASSERT_FALSE(r.ok());
  const std::string msg = ErrorOf(r.error());
  EXPECT_EQ(msg.find('\n'), std::string::npos);
  EXPECT_NE(msg.find("a?b"), std::string::npos);
  EXPECT_NE(msg.find("...'"), std::string::npos);
}

TEST(ParseTranscriptLimitsTest, TakesServesBoundsAndNamesTheFlag) {
  Result<TranscriptSizes> l = ParseTranscriptLimits("0", "1MiB");
  ASSERT_TRUE(l.ok()) << l.error();
  EXPECT_EQ(l->max_bytes, 0u);  // transcripts off
  EXPECT_EQ(l->max_tool_bytes, uint64_t{1} << 20);
  l = ParseTranscriptLimits("48MiB", "1");
  ASSERT_TRUE(l.ok()) << l.error();
  EXPECT_EQ(l->max_bytes, uint64_t{48} << 20);
  Result<TranscriptSizes> big = ParseTranscriptLimits("49MiB", "16KiB");
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().message().rfind("--transcript-max-bytes: must be", 0), 0u)
      << big.error();
  Result<TranscriptSizes> zero = ParseTranscriptLimits("16MiB", "0");
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().message().rfind("--transcript-max-tool-bytes: ", 0), 0u)
      << zero.error();
}

TEST(ChooseStoreTest, AFlagWinsAndTwoFlagsAreRefused) {
  using S = Source;
  Result<StoreChoice> c = ChooseStore(S::kUnset, S::kUnset);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->postgres);
  // Without a flag the URL variable names the store, over ACPSTORE_DATA_DIR.
  for (S data_dir : {S::kUnset, S::kEnvironment}) {
    c = ChooseStore(data_dir, S::kEnvironment);
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(c->postgres);
    EXPECT_EQ(c->note, "");
  }
  c = ChooseStore(S::kFlag, S::kEnvironment);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->postgres);
  EXPECT_EQ(c->note,
            "ACPSTORE_POSTGRES_URL ignored: --data-dir names the store");
  c = ChooseStore(S::kFlag, S::kUnset);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->postgres);
  EXPECT_EQ(c->note, "");
  for (S data_dir : {S::kUnset, S::kEnvironment}) {
    c = ChooseStore(data_dir, S::kFlag);
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(c->postgres);
  }
  c = ChooseStore(S::kFlag, S::kFlag);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorOf(c.error()),
            "--data-dir and --postgres-url name two stores: give one of them");
}

}  // namespace
}  // namespace acpstore::cli
