// `acpstore serve` option validation: defaults, every value reaching its
// field, and refusals that name the option (or its variable).

#include "cli/serve_options.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

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
  EXPECT_EQ(c->listen.addresses, std::vector<std::string>{"127.0.0.1"});
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
  EXPECT_EQ(c->store.max_page_bytes, 8u << 20);
  EXPECT_EQ(c->store.segment_bytes, defaults.segment_bytes);
  EXPECT_EQ(c->store.snapshot_every_bytes, defaults.snapshot_every_bytes);
  EXPECT_EQ(c->store.postgres_schema, defaults.postgres_schema);
  EXPECT_EQ(c->store.postgres_pool, defaults.postgres_pool);
  EXPECT_EQ(c->store.transcript_max_bytes, defaults.transcript_max_bytes);
  EXPECT_EQ(c->store.transcript_max_tool_bytes,
            defaults.transcript_max_tool_bytes);
  // The table's server defaults are ServerLimits' own, so a ServeConfig
  // built by hand (tests, embedders) serves with the documented limits.
  const ServerLimits limits;
  EXPECT_EQ(c->server.max_body_bytes, 8u << 20);
  EXPECT_EQ(c->server.max_body_bytes, limits.max_body_bytes);
  EXPECT_EQ(c->server.max_header_bytes, limits.max_header_bytes);
  EXPECT_EQ(c->server.max_connections, limits.max_connections);
  EXPECT_EQ(c->server.max_subscribers, limits.max_subscribers);
  EXPECT_EQ(c->server.max_subscribers_per_key, limits.max_subscribers_per_key);
  EXPECT_EQ(c->server.read_timeout_ms, limits.read_timeout_ms);
  EXPECT_EQ(c->server.write_timeout_ms, limits.write_timeout_ms);
  EXPECT_EQ(c->server.sse_buffer_bytes, limits.sse_buffer_bytes);
  EXPECT_EQ(c->server.sse_heartbeat_ms, limits.sse_heartbeat_ms);
  EXPECT_EQ(c->server.sse_coalesce_ms, limits.sse_coalesce_ms);
  EXPECT_EQ(c->server.max_inflight_body_bytes, limits.max_inflight_body_bytes);
  EXPECT_EQ(c->server.threads, limits.threads);
  EXPECT_EQ(c->server.ui, limits.ui);
  EXPECT_EQ(c->server.ui_session_ttl_ms, limits.ui_session_ttl_ms);
  EXPECT_EQ(c->server.ui_max_sessions, limits.ui_max_sessions);
  EXPECT_EQ(c->server.ui_secure_cookie, limits.ui_secure_cookie);
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
      {"max-page-bytes", "2MiB"},
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
  EXPECT_EQ(c->store.max_page_bytes, 2u << 20);
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

// One bad value per option, each refused on its own.
const std::vector<std::pair<std::string, std::string>>& BadValues() {
  static const std::vector<std::pair<std::string, std::string>> kBad = {
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
  return kBad;
}

TEST(ServeOptionsTest, EveryBadValueNamesItsOption) {
  for (const auto& [name, value] : BadValues()) {
    const std::string err = ErrorFor(Flags({{name, value}}));
    EXPECT_TRUE(err.starts_with("--" + name + ": ")) << name << " -> " << err;
  }
}

// The checks of one value against another name the variable too (the
// in-flight limit's named the flag whatever set it).
TEST(ServeOptionsTest, EveryBadValueFromTheEnvironmentNamesItsVariable) {
  for (const auto& [name, value] : BadValues()) {
    OptionValues env;
    env[name] = OptionValue{value, true};
    const std::string err = ErrorFor(env);
    EXPECT_TRUE(err.starts_with(EnvName(name) + ": ")) << name << " -> " << err;
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

// A --listen host name is resolved while validating, so one that resolves
// to nothing exits 2 before the data directory is made; the server listens
// on every address it stands for. It was passed on as it was, and the
// server, which binds numeric addresses only, failed after start-up had
// created the data directory and the bootstrap key.
TEST(ServeOptionsTest, ListenResolvesItsHostName) {
  Result<ServeConfig> c = ParseServeOptions(Flags({{"listen", "localhost:0"}}));
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->listen.host, "localhost");
  ASSERT_FALSE(c->listen.addresses.empty());
  EXPECT_TRUE(c->listen.addresses[0].starts_with("127.") ||
              c->listen.addresses[0] == "::1")
      << c->listen.addresses[0];

  std::vector<std::string> asked;
  const HostResolver two = [&](const std::string& host)
      -> Result<std::vector<std::string>> {
    asked.push_back(host);
    return std::vector<std::string>{"127.0.0.1", "::1"};
  };
  c = ParseServeOptions(Flags({{"listen", "acp.example:7700"}}), two);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(asked, std::vector<std::string>{"acp.example"});
  EXPECT_EQ(c->listen.addresses,
            (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_EQ(c->listen.port, 7700);
}

TEST(ServeOptionsTest, AHostNameThatDoesNotResolveNamesItsOption) {
  const HostResolver none = [](const std::string& host)
      -> Result<std::vector<std::string>> {
    return Status::InvalidArgument("cannot resolve host name '" + host +
                                   "': Name or service not known");
  };
  Result<ServeConfig> c =
      ParseServeOptions(Flags({{"listen", "nohost:7700"}}), none);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message(),
            "--listen: cannot resolve host name 'nohost': Name or service "
            "not known");
  OptionValues env;
  env["listen"] = OptionValue{"nohost:7700", true};
  c = ParseServeOptions(env, none);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(c.error().message().starts_with("ACPSTORE_LISTEN: cannot resolve"))
      << c.error();
  // Another bad value is reported without a lookup.
  bool asked = false;
  const HostResolver watch = [&](const std::string&)
      -> Result<std::vector<std::string>> {
    asked = true;
    return std::vector<std::string>{"127.0.0.1"};
  };
  EXPECT_FALSE(ParseServeOptions(Flags({{"listen", "nohost:7700"},
                                        {"sync", "sometimes"}}),
                                 watch)
                   .ok());
  EXPECT_FALSE(asked);
}

// Log lines print the warn level as "warning"; that word selects it too,
// from the flag and from the variable.
TEST(ServeOptionsTest, LogLevelWarningIsWarn) {
  Result<ServeConfig> flag = ParseServeOptions(Flags({{"log-level", "warning"}}));
  ASSERT_TRUE(flag.ok()) << flag.error();
  EXPECT_EQ(flag->log_level, LogLevel::kWarn);
  OptionValues env;
  env["log-level"] = OptionValue{"warning", true};
  Result<ServeConfig> from_env = ParseServeOptions(env);
  ASSERT_TRUE(from_env.ok()) << from_env.error();
  EXPECT_EQ(from_env->log_level, LogLevel::kWarn);
}

// An engine set in an options file is not on the command line the
// operator sees: the refusal says where it came from.
TEST(ServeOptionsTest, AMissingUrlNamesWhereTheEngineCameFrom) {
  EXPECT_EQ(ErrorFor(Flags({{"engine", "postgres"}})),
            "--postgres-url: required with --engine postgres");
  OptionValues env;
  env["engine"] = OptionValue{"postgres", true};
  EXPECT_EQ(ErrorFor(env),
            "--postgres-url: required with ACPSTORE_ENGINE=postgres");
}

// The engine chooses the store: a URL flag on a server that would not use
// it is refused (serving the data directory instead looked like success);
// the variable, set for the tools, is not.
TEST(ServeOptionsTest, AUrlFlagNeedsThePostgresEngine) {
  EXPECT_EQ(ErrorFor(Flags({{"postgres-url", "host=/tmp dbname=acp"}})),
            "--postgres-url: only with --engine postgres (the engine is file)");
  EXPECT_EQ(ErrorFor(Flags({{"engine", "memory"},
                            {"postgres-url", "host=/tmp dbname=acp"}})),
            "--postgres-url: only with --engine postgres (the engine is "
            "memory)");
  OptionValues env = Flags({{"data-dir", "/srv/acp"}});
  env["postgres-url"] = OptionValue{"host=/tmp dbname=acp", true};
  EXPECT_EQ(ErrorFor(env), "");
  // With the postgres engine --data-dir keeps the bootstrap token.
  EXPECT_EQ(ErrorFor(Flags({{"engine", "postgres"},
                            {"data-dir", "/srv/acp"},
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

// docs/operations.md, "Options": one row per option,
//   | `--name VALUE` | `default` | meaning |
// with "—" or "none" for an option that has no default. The rows are the
// option table, by name, value name and default, in both directions.
TEST(ServeOptionsTest, OperationsGuideListsEveryOptionWithItsDefault) {
  std::ifstream in(ACPSTORE_OPERATIONS_MD);
  ASSERT_TRUE(in) << ACPSTORE_OPERATIONS_MD;
  std::map<std::string, std::pair<std::string, std::string>> documented;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("| `--", 0) != 0) continue;
    const size_t space = line.find(' ', 5);
    const size_t flag_end = line.find('`', 5);
    ASSERT_NE(flag_end, std::string::npos) << line;
    ASSERT_LT(space, flag_end) << "no value name: " << line;
    const std::string name = line.substr(5, space - 5);
    const std::string value_name = line.substr(space + 1, flag_end - space - 1);
    const size_t cell = line.find("| ", flag_end);
    ASSERT_NE(cell, std::string::npos) << line;
    std::string def =
        line.substr(cell + 2, line.find(" |", cell + 2) - cell - 2);
    if (def == "—" || def == "none") {
      def.clear();
    } else {
      ASSERT_TRUE(def.size() > 2 && def.front() == '`' && def.back() == '`')
          << line;
      def = def.substr(1, def.size() - 2);
    }
    EXPECT_TRUE(documented.emplace(name, std::pair{value_name, def}).second)
        << "--" << name << " documented twice";
  }
  std::set<std::string> specified;
  for (const OptionSpec& spec : ServeOptionSpecs()) {
    const std::string name(spec.name);
    specified.insert(name);
    auto it = documented.find(name);
    if (it == documented.end()) {
      ADD_FAILURE() << "--" << name << " is missing from docs/operations.md";
      continue;
    }
    EXPECT_EQ(it->second.first, spec.value_name) << "--" << name;
    EXPECT_EQ(it->second.second, spec.default_value) << "--" << name;
  }
  for (const auto& [name, row] : documented) {
    EXPECT_TRUE(specified.count(name) == 1)
        << "docs/operations.md documents --" << name
        << ", which serve does not have";
  }
}

// docs/spec.md (§4) gives the retention and memory defaults in a table of
// its own, | `--name` | default | meaning |, "unlimited" for 0: each row is
// an option with that default.
TEST(ServeOptionsTest, SpecDefaultsAreTheOptionTables) {
  std::ifstream in(ACPSTORE_SPEC_MD);
  ASSERT_TRUE(in) << ACPSTORE_SPEC_MD;
  std::map<std::string, std::string> defaults;
  for (const OptionSpec& spec : ServeOptionSpecs()) {
    defaults[std::string(spec.name)] = std::string(spec.default_value);
  }
  size_t rows = 0;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("| `--", 0) != 0) continue;
    const size_t flag_end = line.find("` | ");
    ASSERT_NE(flag_end, std::string::npos) << line;
    const std::string name = line.substr(5, flag_end - 5);
    const size_t cell = flag_end + 4;
    std::string def = line.substr(cell, line.find(" |", cell) - cell);
    if (name == "sync") continue;  // the durability table: modes, no default
    if (def == "unlimited") def = "0";
    auto it = defaults.find(name);
    ASSERT_NE(it, defaults.end()) << "docs/spec.md: no option --" << name;
    EXPECT_EQ(def, it->second) << "--" << name;
    ++rows;
  }
  EXPECT_GE(rows, 6u);  // retention (five) and the memory budget
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
