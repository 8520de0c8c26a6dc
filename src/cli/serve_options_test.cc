// `acpstore serve` option validation: defaults, every value reaching its
// field, and refusals that name the option (or its variable).

#include "cli/serve_options.h"

#include <gtest/gtest.h>

#include <set>

namespace acpstore::cli {
namespace {

OptionValues Flags(std::initializer_list<std::pair<std::string, std::string>> kv) {
  OptionValues out;
  for (const auto& [k, v] : kv) out[k] = OptionValue{v, false};
  return out;
}

std::string ErrorFor(const OptionValues& given) {
  Result<ServeConfig> c = ParseServeOptions(given);
  return c.ok() ? std::string() : std::string(c.error().message());
}

TEST(ServeOptionsTest, DefaultsAreTheSpecDefaults) {
  Result<ServeConfig> c = ParseServeOptions({});
  ASSERT_TRUE(c.ok()) << c.error();
  const StoreOptions defaults;
  EXPECT_EQ(c->store.data_dir, "./acpstore-data");
  EXPECT_EQ(c->store.engine, Engine::kFile);
  EXPECT_EQ(c->store.sync, SyncMode::kAlways);
  EXPECT_EQ(c->listen.host, "127.0.0.1");
  EXPECT_EQ(c->listen.port, 7700);
  EXPECT_EQ(c->store.retention.max_events_per_session,
            defaults.retention.max_events_per_session);
  EXPECT_EQ(c->store.retention.terminal_event_retention_ms,
            defaults.retention.terminal_event_retention_ms);
  EXPECT_EQ(c->store.retention.session_retention_ms,
            defaults.retention.session_retention_ms);
  EXPECT_EQ(c->store.retention.action_retention_ms,
            defaults.retention.action_retention_ms);
  EXPECT_EQ(c->store.retention.max_disk_bytes, 0u);
  EXPECT_EQ(c->store.memory_budget_bytes, defaults.memory_budget_bytes);
  EXPECT_EQ(c->store.limits.max_payload_bytes, defaults.limits.max_payload_bytes);
  EXPECT_EQ(c->store.segment_bytes, defaults.segment_bytes);
  EXPECT_EQ(c->store.snapshot_every_bytes, defaults.snapshot_every_bytes);
  EXPECT_EQ(c->server.max_body_bytes, 8u << 20);
  EXPECT_EQ(c->shutdown_timeout_ms, 10'000);
  EXPECT_EQ(c->log_format, LogFormat::kText);
  EXPECT_EQ(c->log_level, LogLevel::kInfo);
}

TEST(ServeOptionsTest, ValuesReachTheirFields) {
  Result<ServeConfig> c = ParseServeOptions(Flags({
      {"data-dir", "/srv/acp"},
      {"engine", "memory"},
      {"listen", "[::1]:0"},
      {"sync", "interval:50"},
      {"max-events-per-session", "0"},
      {"terminal-event-retention", "1h"},
      {"session-retention", "2d"},
      {"action-retention", "90m"},
      {"max-disk-bytes", "10GiB"},
      {"memory-budget", "64MiB"},
      {"max-payload-bytes", "512KiB"},
      {"max-body-bytes", "1MiB"},
      {"shutdown-timeout", "3s"},
      {"sse-heartbeat", "2s"},
      {"sse-coalesce", "20ms"},
      {"max-inflight-body-bytes", "64MiB"},
      {"log-format", "json"},
      {"log-level", "debug"},
  }));
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->store.data_dir, "/srv/acp");
  EXPECT_EQ(c->store.engine, Engine::kMemory);
  EXPECT_EQ(c->listen.host, "::1");
  EXPECT_EQ(c->listen.port, 0);
  EXPECT_EQ(c->store.sync, SyncMode::kInterval);
  EXPECT_EQ(c->store.sync_interval_ms, 50);
  EXPECT_EQ(c->store.retention.max_events_per_session, 0u);
  EXPECT_EQ(c->store.retention.terminal_event_retention_ms, 3'600'000);
  EXPECT_EQ(c->store.retention.session_retention_ms, 172'800'000);
  EXPECT_EQ(c->store.retention.action_retention_ms, 5'400'000);
  EXPECT_EQ(c->store.retention.max_disk_bytes, 10ull << 30);
  EXPECT_EQ(c->store.memory_budget_bytes, 64ull << 20);
  EXPECT_EQ(c->store.limits.max_payload_bytes, 512u << 10);
  EXPECT_EQ(c->server.max_body_bytes, 1u << 20);
  EXPECT_EQ(c->shutdown_timeout_ms, 3000);
  EXPECT_EQ(c->server.sse_heartbeat_ms, 2000);
  EXPECT_EQ(c->server.sse_coalesce_ms, 20);
  EXPECT_EQ(c->server.max_inflight_body_bytes, 64u << 20);
  EXPECT_EQ(c->log_format, LogFormat::kJson);
  EXPECT_EQ(c->log_level, LogLevel::kDebug);
}

TEST(ServeOptionsTest, BadSyncNamesTheFlag) {
  EXPECT_EQ(ErrorFor(Flags({{"sync", "sometimes"}})),
            "--sync: expected always, none or interval:<ms>, got 'sometimes'");
}

TEST(ServeOptionsTest, BadValueFromEnvironmentNamesTheVariable) {
  OptionValues g;
  g["sync"] = OptionValue{"sometimes", true};
  EXPECT_EQ(ErrorFor(g),
            "ACPSTORE_SYNC: expected always, none or interval:<ms>, got "
            "'sometimes'");
}

TEST(ServeOptionsTest, EveryBadValueNamesItsOption) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"engine", "sqlite"},
      {"listen", "localhost"},
      {"max-events-per-session", "-1"},
      {"terminal-event-retention", "24"},
      {"session-retention", "forever"},
      {"action-retention", "1y"},
      {"max-disk-bytes", "12XB"},
      {"memory-budget", "1KiB"},
      {"max-payload-bytes", "0"},
      {"max-body-bytes", "5GiB"},
      {"segment-bytes", "1"},
      {"snapshot-every-bytes", "lots"},
      {"max-header-bytes", "12"},
      {"max-connections", "0"},
      {"max-subscribers", "x"},
      {"max-subscribers-per-key", "1.5"},
      {"read-timeout", "0"},
      {"write-timeout", "-3s"},
      {"sse-buffer-bytes", "1"},
      {"sse-heartbeat", "0"},
      {"sse-coalesce", "2s"},
      {"max-inflight-body-bytes", "1MiB"},  // below --max-body-bytes
      {"threads", "100000"},
      {"shutdown-timeout", "0s"},
      {"log-format", "xml"},
      {"log-level", "loud"},
      {"data-dir", ""},
      {"ui-session-ttl", "0"},
      {"ui-max-sessions", "0"},
      {"ui-secure-cookie", "yes"},
      {"ui", "maybe"},
      {"cors-origin", "*"},
  };
  for (const auto& [name, value] : bad) {
    const std::string err = ErrorFor(Flags({{name, value}}));
    EXPECT_TRUE(err.starts_with("--" + name + ": ")) << name << " -> " << err;
  }
}

TEST(ServeOptionsTest, PayloadLimitMustFitInABody) {
  const std::string err = ErrorFor(
      Flags({{"max-payload-bytes", "2MiB"}, {"max-body-bytes", "1MiB"}}));
  EXPECT_TRUE(err.starts_with("--max-payload-bytes: must not exceed"));
}

TEST(ServeOptionsTest, PostgresNeedsAUrl) {
  EXPECT_TRUE(ErrorFor(Flags({{"engine", "postgres"}}))
                  .starts_with("--postgres-url: "));
  EXPECT_EQ(ErrorFor(Flags({{"engine", "postgres"},
                            {"postgres-url", "host=/tmp dbname=acp"}})),
            "");
}

TEST(ServeOptionsTest, EveryOptionHasAnEnvNameAndAValidDefault) {
  std::set<std::string> names;
  for (const OptionSpec& spec : ServeOptionSpecs()) {
    EXPECT_TRUE(names.insert(std::string(spec.name)).second) << spec.name;
    EXPECT_FALSE(spec.help.empty()) << spec.name;
  }
  EXPECT_EQ(EnvName("data-dir"), "ACPSTORE_DATA_DIR");
  EXPECT_EQ(EnvName("max-subscribers-per-key"),
            "ACPSTORE_MAX_SUBSCRIBERS_PER_KEY");
  // Each default, given explicitly, is accepted.
  for (const OptionSpec& spec : ServeOptionSpecs()) {
    if (spec.name == "data-dir") continue;
    EXPECT_EQ(ErrorFor(Flags({{std::string(spec.name),
                               std::string(spec.default_value)}})),
              "")
        << spec.name;
  }
}

TEST(ServeOptionsTest, BrowserOptions) {
  Result<ServeConfig> d = ParseServeOptions({});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->server.ui_session_ttl_ms, 12 * 3600 * 1000);
  EXPECT_EQ(d->server.ui_max_sessions, 10000u);
  EXPECT_TRUE(d->server.ui_secure_cookie);
  EXPECT_TRUE(d->server.ui);  // the console is on by default
  EXPECT_TRUE(d->server.cors_origins.empty());  // nothing allowed by default
  // A repeated --cors-origin arrives joined by newlines; the variable
  // separates with commas.
  Result<ServeConfig> c = ParseServeOptions(
      Flags({{"cors-origin", "https://a.example\nhttp://localhost:5173, "
                             "http://[::1]:8080"},
             {"ui-session-ttl", "30m"},
             {"ui-secure-cookie", "false"},
             {"ui", "false"}}));
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->server.cors_origins,
            (std::vector<std::string>{"https://a.example",
                                      "http://localhost:5173",
                                      "http://[::1]:8080"}));
  EXPECT_EQ(c->server.ui_session_ttl_ms, 30 * 60 * 1000);
  EXPECT_FALSE(c->server.ui_secure_cookie);
  EXPECT_FALSE(c->server.ui);
  for (const char* bad : {"null", "https://a.example/", "a.example",
                          "ftp://a.example", "https://A.example"}) {
    EXPECT_FALSE(ParseServeOptions(Flags({{"cors-origin", bad}})).ok()) << bad;
  }
}

}  // namespace
}  // namespace acpstore::cli
