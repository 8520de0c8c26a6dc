// Option value parsers. See option_parsing.h.
//
// Thread-safety: pure functions.

#include "cli/option_parsing.h"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <memory>
#include <optional>
#include <utility>

namespace acpstore::cli {
namespace {

// The user's text for an error message: at most 64 bytes, control bytes
// shown as '?', so a stray binary value cannot garble the terminal.
std::string Quote(std::string_view text) {
  std::string out = "'";
  for (size_t i = 0; i < text.size() && i < 64; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    out.push_back(c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c));
  }
  if (text.size() > 64) out += "...";
  out += "'";
  return out;
}

Status Expected(std::string_view what, std::string_view got) {
  return Status::InvalidArgument("expected " + std::string(what) + ", got " +
                                 Quote(got));
}

// The leading decimal digits of `text` as a number; the rest in *rest.
// std::nullopt when there are no digits or the number overflows.
std::optional<uint64_t> LeadingNumber(std::string_view text,
                                      std::string_view* rest) {
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(),
                                   value);
  if (ec != std::errc() || ptr == text.data()) return std::nullopt;
  *rest = text.substr(static_cast<size_t>(ptr - text.data()));
  return value;
}

bool MulOverflows(uint64_t a, uint64_t b, uint64_t limit) {
  return b != 0 && a > limit / b;
}

// The scale of `unit` in `units` (name, scale > 0); 0 if it is not there.
template <size_t N>
uint64_t UnitScale(const std::pair<std::string_view, uint64_t> (&units)[N],
                   std::string_view unit) {
  for (const auto& [name, scale] : units) {
    if (name == unit) return scale;
  }
  return 0;
}

}  // namespace

Result<int64_t> ParseDurationMs(std::string_view text) {
  constexpr std::string_view kWhat =
      "a duration like 500ms, 10s, 5m, 24h or 30d";
  if (text == "0") return int64_t{0};
  std::string_view unit;
  std::optional<uint64_t> n = LeadingNumber(text, &unit);
  if (!n) return Expected(kWhat, text);
  constexpr std::pair<std::string_view, uint64_t> kUnits[] = {
      {"ms", 1},
      {"s", 1000},
      {"m", uint64_t{60} * 1000},
      {"h", uint64_t{3600} * 1000},
      {"d", uint64_t{24} * 3600 * 1000},
  };
  const uint64_t scale = UnitScale(kUnits, unit);
  if (scale == 0) return Expected(kWhat, text);
  constexpr uint64_t kMax = std::numeric_limits<int64_t>::max();
  if (MulOverflows(*n, scale, kMax)) {
    return Status::InvalidArgument("duration " + Quote(text) + " is too long");
  }
  return static_cast<int64_t>(*n * scale);
}

Result<uint64_t> ParseSize(std::string_view text) {
  constexpr std::string_view kWhat =
      "a size like 1048576, 512KiB, 64MiB or 1GiB";
  std::string_view unit;
  std::optional<uint64_t> n = LeadingNumber(text, &unit);
  if (!n) return Expected(kWhat, text);
  constexpr std::pair<std::string_view, uint64_t> kUnits[] = {
      {"", 1},
      {"B", 1},
      {"KiB", 1ULL << 10},
      {"MiB", 1ULL << 20},
      {"GiB", 1ULL << 30},
      {"TiB", 1ULL << 40},
      {"KB", 1000},
      {"kB", 1000},
      {"MB", 1000ULL * 1000},
      {"GB", 1000ULL * 1000 * 1000},
      {"TB", 1000ULL * 1000 * 1000 * 1000},
  };
  const uint64_t scale = UnitScale(kUnits, unit);
  if (scale == 0) return Expected(kWhat, text);
  if (MulOverflows(*n, scale, std::numeric_limits<uint64_t>::max())) {
    return Status::InvalidArgument("size " + Quote(text) + " is too large");
  }
  return *n * scale;
}

Result<uint64_t> ParseSizeIn(std::string_view text, uint64_t min,
                             uint64_t max) {
  Result<uint64_t> n = ParseSize(text);
  if (!n) return n;
  if (*n < min || *n > max) {
    return Status::InvalidArgument("must be from " + std::to_string(min) +
                                   " to " + std::to_string(max) +
                                   " bytes, got '" + std::string(text) + "'");
  }
  return n;
}

Result<TranscriptSizes> ParseTranscriptLimits(
    std::string_view max_bytes, std::string_view max_tool_bytes) {
  TranscriptSizes limits;
  Result<uint64_t> bytes = ParseSizeIn(max_bytes, 0, kMaxTranscriptBytes);
  if (!bytes) {
    return Status::InvalidArgument("--transcript-max-bytes: " +
                                   std::string(bytes.error().message()));
  }
  Result<uint64_t> tool = ParseSizeIn(max_tool_bytes, 1, kMaxTranscriptToolBytes);
  if (!tool) {
    return Status::InvalidArgument("--transcript-max-tool-bytes: " +
                                   std::string(tool.error().message()));
  }
  limits.max_bytes = *bytes;
  limits.max_tool_bytes = *tool;
  return limits;
}

Result<uint64_t> ParseCount(std::string_view text, uint64_t min,
                            uint64_t max) {
  std::string_view rest;
  std::optional<uint64_t> n = LeadingNumber(text, &rest);
  const std::string range =
      "a whole number from " + std::to_string(min) + " to " +
      std::to_string(max);
  if (!n || !rest.empty() || *n < min || *n > max) {
    return Expected(range, text);
  }
  return *n;
}

Result<SyncSetting> ParseSync(std::string_view text) {
  constexpr std::string_view kWhat = "always, none or interval:<ms>";
  if (text == "always") return SyncSetting{SyncMode::kAlways, 0};
  if (text == "none") return SyncSetting{SyncMode::kNone, 0};
  constexpr std::string_view kPrefix = "interval:";
  if (!text.starts_with(kPrefix)) return Expected(kWhat, text);
  const std::string_view period = text.substr(kPrefix.size());
  std::string_view rest;
  std::optional<uint64_t> n = LeadingNumber(period, &rest);
  int64_t ms = 0;
  if (n && rest.empty()) {
    if (*n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Expected(kWhat, text);
    }
    ms = static_cast<int64_t>(*n);
  } else {
    Result<int64_t> d = ParseDurationMs(period);
    if (!d) return Expected(kWhat, text);
    ms = *d;
  }
  if (ms < 1) {
    return Status::InvalidArgument("the sync interval must be at least 1 ms, got " +
                                   Quote(text));
  }
  return SyncSetting{SyncMode::kInterval, ms};
}

Result<ListenAddress> ParseListen(std::string_view text) {
  constexpr std::string_view kWhat =
      "ADDR:PORT like 127.0.0.1:7700 or [::1]:7700";
  ListenAddress out;
  std::string_view port_text;
  if (text.starts_with("[")) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() ||
        text[close + 1] != ':') {
      return Expected(kWhat, text);
    }
    out.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return Expected(kWhat, text);
    out.host = std::string(text.substr(0, colon));
    // A bare IPv6 address is ambiguous with its port: require brackets.
    if (out.host.find(':') != std::string::npos) return Expected(kWhat, text);
    port_text = text.substr(colon + 1);
  }
  if (out.host.empty()) return Expected(kWhat, text);
  for (char c : out.host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '.' || c == '-' ||
                    c == ':' || c == '_' || c == '%';
    if (!ok) return Expected(kWhat, text);
  }
  std::string_view rest;
  std::optional<uint64_t> port = LeadingNumber(port_text, &rest);
  if (!port || !rest.empty() || *port > 65535) {
    return Status::InvalidArgument("expected a port from 0 to 65535 in " +
                                   Quote(text));
  }
  out.port = static_cast<uint16_t>(*port);
  return out;
}

std::string FormatListen(const ListenAddress& address) {
  const bool v6 = address.host.find(':') != std::string::npos;
  return (v6 ? "[" + address.host + "]" : address.host) + ":" +
         std::to_string(address.port);
}

namespace {

// getaddrinfo over `host` with `flags`; the addresses as numeric text,
// each once, in the order given. A gai error code on failure.
struct AddressLookup {
  std::vector<std::string> addresses;
  int error = 0;
};

AddressLookup GetAddresses(const std::string& host, int flags) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = flags;
  addrinfo* found = nullptr;
  AddressLookup out;
  out.error = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (out.error != 0) return out;
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(found,
                                                             ::freeaddrinfo);
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    if (a->ai_family != AF_INET && a->ai_family != AF_INET6) continue;
    char text[NI_MAXHOST];
    if (::getnameinfo(a->ai_addr, a->ai_addrlen, text, sizeof(text), nullptr,
                      0, NI_NUMERICHOST) != 0) {
      continue;
    }
    if (std::find(out.addresses.begin(), out.addresses.end(), text) ==
        out.addresses.end()) {
      out.addresses.emplace_back(text);
    }
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> ResolveListenHost(const std::string& host) {
  // A numeric address needs no lookup (and must not wait on DNS).
  AddressLookup numeric = GetAddresses(host, AI_NUMERICHOST);
  if (numeric.error == 0 && !numeric.addresses.empty()) {
    return numeric.addresses;
  }
  AddressLookup named = GetAddresses(host, 0);
  if (named.error != 0) {
    return Status::InvalidArgument("cannot resolve host name " + Quote(host) +
                                   ": " + ::gai_strerror(named.error));
  }
  if (named.addresses.empty()) {
    return Status::InvalidArgument("host name " + Quote(host) +
                                   " resolves to no IPv4 or IPv6 address");
  }
  return named.addresses;
}

Result<Engine> ParseEngine(std::string_view text) {
  if (text == "file") return Engine::kFile;
  if (text == "memory") return Engine::kMemory;
  if (text == "postgres") return Engine::kPostgres;
  return Expected("file, memory or postgres", text);
}

Result<LogFormat> ParseLogFormat(std::string_view text) {
  if (text == "text") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  return Expected("text or json", text);
}

Result<LogLevel> ParseLogLevel(std::string_view text) {
  if (text == "trace") return LogLevel::kTrace;
  if (text == "debug") return LogLevel::kDebug;
  if (text == "info") return LogLevel::kInfo;
  // Log lines print this level as "warning" (spdlog's name), so the word
  // an operator copies from a line must select it too.
  if (text == "warn" || text == "warning") return LogLevel::kWarn;
  if (text == "error") return LogLevel::kError;
  if (text == "off") return LogLevel::kOff;
  return Expected("trace, debug, info, warn (or warning), error or off", text);
}

Result<StoreChoice> ChooseStore(Source data_dir, Source postgres_url) {
  StoreChoice out;
  if (data_dir == Source::kFlag && postgres_url == Source::kFlag) {
    return Status::InvalidArgument(
        "--data-dir and --postgres-url name two stores: give one of them");
  }
  if (data_dir == Source::kFlag) {
    if (postgres_url == Source::kEnvironment) {
      out.note = "ACPSTORE_POSTGRES_URL ignored: --data-dir names the store";
    }
    return out;
  }
  out.postgres = postgres_url != Source::kUnset;
  return out;
}

}  // namespace acpstore::cli
