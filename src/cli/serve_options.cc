// The serve option table and its validation. See serve_options.h.
//
// Thread-safety: functions over constant data (and the resolver given).

#include "cli/serve_options.h"

#include <array>
#include <cassert>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace acpstore::cli {
namespace {

constexpr uint64_t kU32Max = std::numeric_limits<uint32_t>::max();
constexpr uint64_t kI64Max = std::numeric_limits<int64_t>::max();

// Defaults are the ones SPEC §3, §4 and §7 give; keep them in step with
// include/acpstore/options.h and docs/operations.md.
constexpr std::array kSpecs = {
    OptionSpec{"data-dir", "DIR", "./acpstore-data",
               "Data directory: journal, snapshots and keys (created 0700)"},
    OptionSpec{"engine", "ENGINE", "file", "Storage engine: file, memory or postgres"},
    OptionSpec{"postgres-url", "URL", "",
               "libpq connection string, for --engine postgres"},
    OptionSpec{"postgres-schema", "NAME", "acpstore",
               "Postgres engine: the schema acpstore owns, at most 56 bytes "
               "(created and migrated at start)"},
    OptionSpec{"postgres-pool", "N", "8",
               "Postgres engine: connections per server (plus one that "
               "listens for live events)"},
    OptionSpec{"postgres-lock-timeout", "DUR", "5s",
               "Postgres engine: a write waits this long for a row another "
               "transaction locked, then answers 503; 0 = for ever"},
    OptionSpec{"postgres-idle-in-transaction-timeout", "DUR", "60s",
               "Postgres engine: PostgreSQL ends this server's connection "
               "idle this long inside a transaction (a frozen server's "
               "locks); 0 = never"},
    OptionSpec{"listen", "ADDR:PORT", "127.0.0.1:7700",
               "Address to serve HTTP on: IPv4, [IPv6] or a host name (every "
               "address it resolves to); port 0 picks a free port"},
    OptionSpec{"sync", "MODE", "always",
               "When a write is acknowledged: always (fdatasync), "
               "interval:<ms>, or none"},
    OptionSpec{"max-events-per-session", "N", "10000",
               "Drop a session's oldest events beyond N; 0 = unlimited"},
    OptionSpec{"terminal-event-retention", "DUR", "24h",
               "Drop a closed/failed session's events this long after it "
               "ended; 0 = keep"},
    OptionSpec{"session-retention", "DUR", "30d",
               "Delete a terminal session, its actions and pauses this long "
               "after it ended; 0 = keep"},
    OptionSpec{"action-retention", "DUR", "7d",
               "Delete terminal actions this long after they finished; 0 = keep"},
    OptionSpec{"max-disk-bytes", "SIZE", "0",
               "Past this, drop the oldest events (terminal sessions first); "
               "0 = unlimited"},
    OptionSpec{"memory-budget", "SIZE", "256MiB",
               "Payload cache and write buffers"},
    OptionSpec{"transcript-max-bytes", "SIZE", "16MiB",
               "A session's transcript drops its oldest entries past this "
               "(at most 48MiB); 0 = no transcripts"},
    OptionSpec{"transcript-max-tool-bytes", "SIZE", "16KiB",
               "Cut a transcript tool entry's input and result to this"},
    OptionSpec{"max-payload-bytes", "SIZE", "1MiB",
               "Largest event payload (canonical JSON)"},
    OptionSpec{"max-page-bytes", "SIZE", "8MiB",
               "A page of events or transcript entries stops past this many "
               "payload bytes (at least one)"},
    OptionSpec{"max-body-bytes", "SIZE", "8MiB", "Largest HTTP request body"},
    OptionSpec{"segment-bytes", "SIZE", "64MiB",
               "File engine: start a new journal segment past this size"},
    OptionSpec{"snapshot-every-bytes", "SIZE", "256MiB",
               "File engine: snapshot after this many journal bytes"},
    OptionSpec{"max-header-bytes", "SIZE", "16KiB",
               "Largest HTTP request header block (431 beyond)"},
    OptionSpec{"max-connections", "N", "1024",
               "Open HTTP connections; more are refused"},
    OptionSpec{"max-subscribers", "N", "2048", "SSE streams in total (429 beyond)"},
    OptionSpec{"max-subscribers-per-key", "N", "64",
               "SSE streams per API key (429 beyond)"},
    OptionSpec{"read-timeout", "DUR", "30s",
               "Time a client has to send a whole request (408 beyond); an "
               "idle keep-alive connection is closed after it too"},
    OptionSpec{"write-timeout", "DUR", "30s",
               "Time a response or SSE write may take before the client is "
               "dropped as too slow"},
    OptionSpec{"sse-buffer-bytes", "SIZE", "1MiB",
               "SSE bytes buffered per stream; a client that falls further "
               "behind is disconnected"},
    OptionSpec{"sse-heartbeat", "DUR", "15s",
               "Interval of ': ping' comments on idle SSE streams"},
    OptionSpec{"sse-coalesce", "DUR", "5ms",
               "An SSE stream that just wrote events waits this long before "
               "sending more, so a busy session's events share writes; the "
               "most it delays an event (0 to 1s; 0 = off)"},
    OptionSpec{"max-inflight-body-bytes", "SIZE", "256MiB",
               "Request body bytes held at once over all connections; a "
               "request beyond it gets 429 before its body is read"},
    OptionSpec{"threads", "N", "0", "HTTP threads; 0 = one per CPU the process may run on"},
    OptionSpec{"ui", "BOOL", "true",
               "Serve the web console at /ui/ (false: /ui/ answers 404)"},
    OptionSpec{"ui-session-ttl", "DUR", "12h",
               "Lifetime of a browser session cookie (POST /v1/auth/session)"},
    OptionSpec{"ui-max-sessions", "N", "10000",
               "Live browser sessions on this server (429 beyond)"},
    OptionSpec{"ui-secure-cookie", "BOOL", "true",
               "Mark the browser session cookie Secure (__Host- prefix); "
               "false only for plain HTTP on a host other than localhost"},
    OptionSpec{"cors-origin", "ORIGIN", "",
               "An origin (scheme://host[:port]) whose pages may call the "
               "API with a bearer token; repeat the flag (or separate with "
               "commas) for several; none by default"},
    OptionSpec{"shutdown-timeout", "DUR", "10s",
               "On SIGTERM/SIGINT, finish requests and flush within this"},
    OptionSpec{"log-format", "FORMAT", "text", "text or json (one object a line)"},
    OptionSpec{"log-level", "LEVEL", "info",
               "trace, debug, info, warn (or warning), error or off"},
};

struct Raw {
  std::string_view text;
  std::string label;  // "--sync" or "ACPSTORE_SYNC"
};

Raw Lookup(const OptionValues& given, std::string_view name) {
  if (auto it = given.find(name); it != given.end()) {
    return {it->second.text, it->second.from_env ? EnvName(name)
                                                 : "--" + std::string(name)};
  }
  for (const OptionSpec& spec : kSpecs) {
    if (spec.name == name) return {spec.default_value, "--" + std::string(name)};
  }
  assert(false && "option missing from kSpecs");
  return {"", std::string(name)};
}

Status Named(const std::string& label, const Status& error) {
  return Status::InvalidArgument(label + ": " + std::string(error.message()));
}

// Parses option `name` with `parse` into *out.
template <typename T, typename Parse>
Status Take(const OptionValues& given, std::string_view name, Parse parse,
            T* out) {
  const Raw raw = Lookup(given, name);
  auto parsed = parse(raw.text);
  if (!parsed) return Named(raw.label, parsed.error());
  *out = static_cast<T>(*parsed);
  return Status::OK();
}

// A size within [min, max].
auto SizeIn(uint64_t min, uint64_t max) {
  return [min, max](std::string_view text) -> Result<uint64_t> {
    return ParseSizeIn(text, min, max);
  };
}

auto Count(uint64_t min, uint64_t max) {
  return [min, max](std::string_view text) {
    return ParseCount(text, min, max);
  };
}

Result<int64_t> PositiveDuration(std::string_view text) {
  Result<int64_t> ms = ParseDurationMs(text);
  if (ms && *ms <= 0) {
    return Status::InvalidArgument("must be longer than 0, got '" +
                                   std::string(text) + "'");
  }
  return ms;
}

auto DurationUpTo(int64_t max_ms) {
  return [max_ms](std::string_view text) -> Result<int64_t> {
    Result<int64_t> ms = ParseDurationMs(text);
    if (ms && *ms > max_ms) {
      return Status::InvalidArgument("must be at most " +
                                     std::to_string(max_ms) + "ms, got '" +
                                     std::string(text) + "'");
    }
    return ms;
  };
}

Result<std::string> AnyText(std::string_view text) {
  return std::string(text);
}

Result<bool> ParseBool(std::string_view text) {
  if (text == "true") return true;
  if (text == "false") return false;
  return Status::InvalidArgument("expected true or false, got '" +
                                 std::string(text) + "'");
}

// Origins separated by commas or newlines (a repeated flag is joined with
// newlines). Each exactly as a browser sends it: scheme://host[:port],
// http or https, no path, no trailing slash; "*" and "null" are refused.
Result<std::vector<std::string>> ParseOrigins(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const size_t end = text.find_first_of(",\n");
    std::string_view o = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view()
                                         : text.substr(end + 1);
    while (!o.empty() && o.front() == ' ') o.remove_prefix(1);
    while (!o.empty() && o.back() == ' ') o.remove_suffix(1);
    if (o.empty()) continue;
    const size_t scheme_end = o.find("://");
    const std::string_view scheme = o.substr(0, scheme_end);
    const std::string_view host =
        scheme_end == std::string_view::npos ? "" : o.substr(scheme_end + 3);
    bool ok = (scheme == "http" || scheme == "https") && !host.empty();
    for (char c : host) {
      const bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                           c == '.' || c == '-' || c == ':' || c == '[' ||
                           c == ']';
      ok = ok && allowed;
    }
    if (!ok) {
      return Status::InvalidArgument(
          "expected an origin such as https://console.example.com or "
          "http://localhost:5173 (lower case, no path), got '" +
          std::string(o) + "'");
    }
    out.emplace_back(o);
  }
  return out;
}

}  // namespace

std::span<const OptionSpec> ServeOptionSpecs() { return kSpecs; }

std::string EnvName(std::string_view option_name) {
  std::string out = "ACPSTORE_";
  for (char c : option_name) {
    out.push_back(c == '-' ? '_' : static_cast<char>(c >= 'a' && c <= 'z'
                                                          ? c - 'a' + 'A'
                                                          : c));
  }
  return out;
}

Result<ServeConfig> ParseServeOptions(const OptionValues& g,
                                      const HostResolver& resolve) {
  ServeConfig c;
  StoreOptions& s = c.store;
  ACPSTORE_RETURN_IF_ERROR(Take(g, "data-dir", AnyText, &s.data_dir));
  if (s.data_dir.empty()) {
    return Status::InvalidArgument(Lookup(g, "data-dir").label +
                                   ": must not be empty");
  }
  ACPSTORE_RETURN_IF_ERROR(Take(g, "engine", ParseEngine, &s.engine));
  ACPSTORE_RETURN_IF_ERROR(Take(g, "postgres-url", AnyText, &s.postgres_url));
  if (s.engine == Engine::kPostgres && s.postgres_url.empty()) {
    // Names where the engine came from: an ACPSTORE_ENGINE=postgres in an
    // options file is not something the command line shows.
    const Raw engine = Lookup(g, "engine");
    return Status::InvalidArgument(
        Lookup(g, "postgres-url").label + ": required with " +
        (engine.label.starts_with("--") ? engine.label + " postgres"
                                        : engine.label + "=postgres"));
  }
  // The engine chooses the store. A URL on the command line of a server
  // that would not use it is a forgotten --engine postgres: serving the
  // data directory instead would look like success. The variable may be
  // set for the tools (ChooseStore) and is ignored.
  if (auto url = g.find("postgres-url");
      s.engine != Engine::kPostgres && url != g.end() &&
      !url->second.from_env && !url->second.text.empty()) {
    return Status::InvalidArgument(
        "--postgres-url: only with --engine postgres (the engine is " +
        std::string(Lookup(g, "engine").text) + ")");
  }
  ACPSTORE_RETURN_IF_ERROR(
      Take(g, "postgres-schema", AnyText, &s.postgres_schema));
  if (s.postgres_schema.empty()) {
    return Status::InvalidArgument(Lookup(g, "postgres-schema").label +
                                   ": must not be empty");
  }
  uint64_t pool = 0;
  ACPSTORE_RETURN_IF_ERROR(Take(g, "postgres-pool", Count(1, 1000), &pool));
  s.postgres_pool = static_cast<uint32_t>(pool);
  // PostgreSQL keeps both in an int of milliseconds; a day is plenty.
  constexpr int64_t kDayMs = int64_t{24} * 3600 * 1000;
  ACPSTORE_RETURN_IF_ERROR(Take(g, "postgres-lock-timeout",
                                DurationUpTo(kDayMs),
                                &s.postgres_lock_timeout_ms));
  ACPSTORE_RETURN_IF_ERROR(Take(g, "postgres-idle-in-transaction-timeout",
                                DurationUpTo(kDayMs),
                                &s.postgres_idle_in_transaction_timeout_ms));
  ACPSTORE_RETURN_IF_ERROR(Take(g, "listen", ParseListen, &c.listen));
  SyncSetting sync;
  ACPSTORE_RETURN_IF_ERROR(Take(g, "sync", ParseSync, &sync));
  s.sync = sync.mode;
  if (sync.mode == SyncMode::kInterval) s.sync_interval_ms = sync.interval_ms;

  RetentionOptions& r = s.retention;
  ACPSTORE_RETURN_IF_ERROR(Take(g, "max-events-per-session", Count(0, kI64Max),
                                &r.max_events_per_session));
  ACPSTORE_RETURN_IF_ERROR(Take(g, "terminal-event-retention", ParseDurationMs,
                                &r.terminal_event_retention_ms));
  ACPSTORE_RETURN_IF_ERROR(
      Take(g, "session-retention", ParseDurationMs, &r.session_retention_ms));
  ACPSTORE_RETURN_IF_ERROR(
      Take(g, "action-retention", ParseDurationMs, &r.action_retention_ms));
  ACPSTORE_RETURN_IF_ERROR(Take(g, "max-disk-bytes", ParseSize, &r.max_disk_bytes));
  ACPSTORE_RETURN_IF_ERROR(Take(g, "memory-budget", SizeIn(1 << 20, UINT64_MAX),
                                &s.memory_budget_bytes));
  ACPSTORE_RETURN_IF_ERROR(Take(g, "transcript-max-bytes",
                                SizeIn(0, kMaxTranscriptBytes),
                                &s.transcript_max_bytes));
  ACPSTORE_RETURN_IF_ERROR(Take(g, "transcript-max-tool-bytes",
                                SizeIn(1, kMaxTranscriptToolBytes),
                                &s.transcript_max_tool_bytes));
  ACPSTORE_RETURN_IF_ERROR(Take(g, "max-payload-bytes", SizeIn(1, kU32Max),
                                &s.limits.max_payload_bytes));
  ACPSTORE_RETURN_IF_ERROR(Take(g, "max-page-bytes", SizeIn(1, UINT64_MAX),
                                &s.max_page_bytes));
  ACPSTORE_RETURN_IF_ERROR(Take(g, "max-body-bytes", SizeIn(1024, kU32Max),
                                &c.server.max_body_bytes));
  if (s.limits.max_payload_bytes > c.server.max_body_bytes) {
    return Status::InvalidArgument(
        Lookup(g, "max-payload-bytes").label +
        ": must not exceed --max-body-bytes (" +
        std::to_string(c.server.max_body_bytes) + " bytes)");
  }
  ACPSTORE_RETURN_IF_ERROR(
      Take(g, "segment-bytes", SizeIn(4096, UINT64_MAX), &s.segment_bytes));
  ACPSTORE_RETURN_IF_ERROR(Take(g, "snapshot-every-bytes",
                                SizeIn(4096, UINT64_MAX),
                                &s.snapshot_every_bytes));

  ServerLimits& l = c.server;
  ACPSTORE_RETURN_IF_ERROR(Take(g, "max-header-bytes", SizeIn(1024, kU32Max),
                                &l.max_header_bytes));
  ACPSTORE_RETURN_IF_ERROR(
      Take(g, "max-connections", Count(1, kU32Max), &l.max_connections));
  ACPSTORE_RETURN_IF_ERROR(
      Take(g, "max-subscribers", Count(0, kU32Max), &l.max_subscribers));
  ACPSTORE_RETURN_IF_ERROR(Take(g, "max-subscribers-per-key", Count(0, kU32Max),
                                &l.max_subscribers_per_key));
  ACPSTORE_RETURN_IF_ERROR(
      Take(g, "read-timeout", PositiveDuration, &l.read_timeout_ms));
  ACPSTORE_RETURN_IF_ERROR(
      Take(g, "write-timeout", PositiveDuration, &l.write_timeout_ms));
  ACPSTORE_RETURN_IF_ERROR(Take(g, "sse-buffer-bytes", SizeIn(4096, kU32Max),
                                &l.sse_buffer_bytes));
  ACPSTORE_RETURN_IF_ERROR(
      Take(g, "sse-heartbeat", PositiveDuration, &l.sse_heartbeat_ms));
  ACPSTORE_RETURN_IF_ERROR(
      Take(g, "sse-coalesce", DurationUpTo(1000), &l.sse_coalesce_ms));
  ACPSTORE_RETURN_IF_ERROR(Take(g, "max-inflight-body-bytes",
                                SizeIn(1024, UINT64_MAX),
                                &l.max_inflight_body_bytes));
  if (l.max_inflight_body_bytes < l.max_body_bytes) {
    return Status::InvalidArgument(
        Lookup(g, "max-inflight-body-bytes").label +
        ": must be at least --max-body-bytes (" +
        std::to_string(l.max_body_bytes) + " bytes)");
  }
  ACPSTORE_RETURN_IF_ERROR(Take(g, "threads", Count(0, 1024), &l.threads));
  ACPSTORE_RETURN_IF_ERROR(Take(g, "ui", ParseBool, &l.ui));
  ACPSTORE_RETURN_IF_ERROR(
      Take(g, "ui-session-ttl", PositiveDuration, &l.ui_session_ttl_ms));
  ACPSTORE_RETURN_IF_ERROR(
      Take(g, "ui-max-sessions", Count(1, kU32Max), &l.ui_max_sessions));
  ACPSTORE_RETURN_IF_ERROR(
      Take(g, "ui-secure-cookie", ParseBool, &l.ui_secure_cookie));
  {
    const Raw raw = Lookup(g, "cors-origin");
    Result<std::vector<std::string>> origins = ParseOrigins(raw.text);
    if (!origins) return Named(raw.label, origins.error());
    l.cors_origins = std::move(*origins);
  }

  ACPSTORE_RETURN_IF_ERROR(Take(g, "shutdown-timeout", PositiveDuration,
                                &c.shutdown_timeout_ms));
  ACPSTORE_RETURN_IF_ERROR(Take(g, "log-format", ParseLogFormat, &c.log_format));
  ACPSTORE_RETURN_IF_ERROR(Take(g, "log-level", ParseLogLevel, &c.log_level));
  // Last: a lookup may wait on DNS, and a typo elsewhere needs none. The
  // server cannot resolve (it binds numeric addresses), and a name that
  // does not resolve must stop here, before the data directory and the
  // bootstrap key are made.
  {
    const Raw raw = Lookup(g, "listen");
    Result<std::vector<std::string>> addresses = resolve(c.listen.host);
    if (!addresses) return Named(raw.label, addresses.error());
    c.listen.addresses = std::move(*addresses);
  }
  return c;
}

}  // namespace acpstore::cli
