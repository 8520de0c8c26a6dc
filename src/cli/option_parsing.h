// Parsers for the values of command-line options and ACPSTORE_* variables:
// durations, sizes, counts, --sync, --listen and the small enums. No CLI11
// here, so the rules are unit-tested on their own. All are pure but
// ResolveListenHost, which asks the system's resolver.
//
// Every parser returns the value or kInvalidArgument whose message is one
// line meant to follow "acpstore: --<option>: ", e.g.
//   expected always, none or interval:<ms>, got 'sometimes'
//
// Thread-safety: pure functions.

#ifndef ACPSTORE_CLI_OPTION_PARSING_H_
#define ACPSTORE_CLI_OPTION_PARSING_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "acpstore/options.h"
#include "acpstore/result.h"

namespace acpstore::cli {

// "500ms", "10s", "5m", "24h", "30d" (a whole number and one unit), or "0".
// Milliseconds.
Result<int64_t> ParseDurationMs(std::string_view text);

// "1048576", "512KiB", "64MiB", "1GiB", "2TiB" (powers of 1024); "KB",
// "MB", "GB", "TB" are powers of 1000; "B" is bytes. Bytes.
Result<uint64_t> ParseSize(std::string_view text);

// ParseSize within [min, max] bytes: "must be from <min> to <max> bytes,
// got '<text>'" otherwise.
Result<uint64_t> ParseSizeIn(std::string_view text, uint64_t min,
                             uint64_t max);

// The bounds of --transcript-max-bytes (0 = off) and
// --transcript-max-tool-bytes, shared by `serve` and the offline tools that
// fold transcripts themselves (`compact`, `import-aegis`).
inline constexpr uint64_t kMaxTranscriptBytes = uint64_t{48} << 20;
inline constexpr uint64_t kMaxTranscriptToolBytes = uint64_t{1} << 20;

// --transcript-max-bytes and --transcript-max-tool-bytes as given to
// `compact` or `import-aegis`, checked against the bounds above; the
// message names the flag ("--transcript-max-bytes: must be from ...").
struct TranscriptSizes {
  uint64_t max_bytes = 0;       // 0: transcripts off
  uint64_t max_tool_bytes = 0;
};
Result<TranscriptSizes> ParseTranscriptLimits(std::string_view max_bytes,
                                              std::string_view max_tool_bytes);

// A plain decimal integer in [min, max].
Result<uint64_t> ParseCount(std::string_view text, uint64_t min,
                            uint64_t max);

struct SyncSetting {
  SyncMode mode = SyncMode::kAlways;
  int64_t interval_ms = 0;  // kInterval only
};
// "always", "none", "interval:<ms>" (also "interval:<duration>", e.g.
// interval:1s). The interval is at least 1 ms.
Result<SyncSetting> ParseSync(std::string_view text);

struct ListenAddress {
  std::string host;  // IPv4 dotted quad, IPv6 without brackets, or a name
  uint16_t port = 0;  // 0 = any free port
  // What `host` stands for, numeric (ResolveListenHost); the server
  // listens on each. Empty until resolved.
  std::vector<std::string> addresses;
};
// "127.0.0.1:7700", "[::1]:7700", "localhost:7700", "0.0.0.0:0". Only the
// syntax: a name is resolved by ResolveListenHost.
Result<ListenAddress> ParseListen(std::string_view text);
std::string FormatListen(const ListenAddress& address);

// The numeric addresses `host` stands for, each once, in the resolver's
// order: a numeric address itself (in its canonical form: "127.1" ->
// "127.0.0.1"), without a lookup; a name through getaddrinfo (the hosts
// file, then DNS, as nsswitch.conf says), e.g. "localhost" -> 127.0.0.1
// and ::1 where the hosts file lists both. A name that resolves to nothing
// is kInvalidArgument: "cannot resolve host name 'x': <why>".
Result<std::vector<std::string>> ResolveListenHost(const std::string& host);

// "file", "memory", "postgres".
Result<Engine> ParseEngine(std::string_view text);

enum class LogFormat : uint8_t { kText, kJson };
// "text", "json".
Result<LogFormat> ParseLogFormat(std::string_view text);

enum class LogLevel : uint8_t { kTrace, kDebug, kInfo, kWarn, kError, kOff };
// "trace", "debug", "info", "warn" (also "warning", the name log lines
// print for it), "error", "off".
Result<LogLevel> ParseLogLevel(std::string_view text);

// Where a setting came from.
enum class Source : uint8_t { kUnset, kEnvironment, kFlag };

// Which store a tool works on: a data directory (--data-dir, else
// ACPSTORE_DATA_DIR) or a postgres-engine schema (--postgres-url, else
// ACPSTORE_POSTGRES_URL). The one rule of every tool that takes a store
// (inspect, verify, keys, import-aegis, export-aegis, compact):
// - both flags on the command line: refused ("--data-dir and
//   --postgres-url name two stores ..."), since either guess would read or
//   change a store the operator did not mean;
// - one flag: that store, whatever the variables say (a flag wins over a
//   variable); --data-dir over a set ACPSTORE_POSTGRES_URL says so in
//   `note`, as before this rule the variable won;
// - no flag: ACPSTORE_POSTGRES_URL when set, else the data directory.
// `serve` chooses by --engine instead (ParseServeOptions).
struct StoreChoice {
  bool postgres = false;
  std::string note;  // one line for stderr, or empty
};
Result<StoreChoice> ChooseStore(Source data_dir, Source postgres_url);

}  // namespace acpstore::cli

#endif  // ACPSTORE_CLI_OPTION_PARSING_H_
