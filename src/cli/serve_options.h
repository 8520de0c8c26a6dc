// The options of `acpstore serve`: one table (name, default, help) that
// serve_command.cc turns into flags and ACPSTORE_* variables, and the
// function that validates every value and builds a ServeConfig. No CLI11
// here, so all of it is unit-tested.
//
// Thread-safety: functions over constant data; ParseServeOptions also asks
// the resolver it is given (by default the system's) for --listen's host.

#ifndef ACPSTORE_CLI_SERVE_OPTIONS_H_
#define ACPSTORE_CLI_SERVE_OPTIONS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "acpstore/options.h"
#include "acpstore/result.h"
#include "cli/option_parsing.h"

namespace acpstore::cli {

struct OptionSpec {
  std::string_view name;           // the flag without dashes: "sync"
  std::string_view value_name;     // for --help: "MODE"
  std::string_view default_value;  // parsed like a user's value
  std::string_view help;
};

// Every serve option, in --help order.
std::span<const OptionSpec> ServeOptionSpecs();

// "max-body-bytes" -> "ACPSTORE_MAX_BODY_BYTES".
std::string EnvName(std::string_view option_name);

struct OptionValue {
  std::string text;
  bool from_env = false;  // names ACPSTORE_X instead of --x in errors
};
// The values given, by option name; an absent option takes its default.
using OptionValues = std::map<std::string, OptionValue, std::less<>>;

// Limits of the HTTP server (SPEC §6), copied onto server::ServerOptions
// by serve.cc. The defaults here only fill a ServeConfig built by hand;
// the option table's defaults are what `serve` uses.
struct ServerLimits {
  uint64_t max_body_bytes = 8ULL << 20;
  uint64_t max_header_bytes = 16ULL << 10;
  uint64_t max_connections = 1024;
  uint64_t max_subscribers = 2048;
  uint64_t max_subscribers_per_key = 64;
  int64_t read_timeout_ms = 30'000;
  int64_t write_timeout_ms = 30'000;
  uint64_t sse_buffer_bytes = 1ULL << 20;
  int64_t sse_heartbeat_ms = 15'000;
  int64_t sse_coalesce_ms = 5;  // decision 0025
  uint64_t max_inflight_body_bytes = 256ULL << 20;
  uint64_t threads = 0;  // 0 = one per CPU in the affinity mask
  // Browser access (SPEC §12).
  bool ui = true;  // the web console at /ui/ (SPEC §12)
  int64_t ui_session_ttl_ms = int64_t{12} * 3600 * 1000;
  uint64_t ui_max_sessions = 10000;
  bool ui_secure_cookie = true;
  std::vector<std::string> cors_origins;
};

struct ServeConfig {
  StoreOptions store;
  ListenAddress listen;
  ServerLimits server;
  int64_t shutdown_timeout_ms = 10'000;
  LogFormat log_format = LogFormat::kText;
  LogLevel log_level = LogLevel::kInfo;
};

// Turns --listen's host into the addresses to listen on (ResolveListenHost;
// tests pass their own).
using HostResolver =
    std::function<Result<std::vector<std::string>>(const std::string& host)>;

// Validates every value (and the combinations, e.g. --engine postgres
// needs --postgres-url), and last resolves --listen's host with `resolve`
// into config.listen.addresses, so that a name that resolves to nothing
// stops `serve` before anything touches the disk. A failure's message
// names the option first:
//   --sync: expected always, none or interval:<ms>, got 'sometimes'
//   ACPSTORE_SYNC: expected always, none or interval:<ms>, got 'sometimes'
//   --listen: cannot resolve host name 'nohost': Name or service not known
Result<ServeConfig> ParseServeOptions(
    const OptionValues& given, const HostResolver& resolve = ResolveListenHost);

}  // namespace acpstore::cli

#endif  // ACPSTORE_CLI_SERVE_OPTIONS_H_
