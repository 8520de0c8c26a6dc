// Progress line and formatting for the offline tools. See tool_output.h.
//
// Thread-safety: main thread only.

#include "cli/tool_output.h"

#include <unistd.h>

#include <cstdio>
#include <string>

#include "base/time_format.h"

namespace acpstore::cli {

std::string FormatBytes(uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  while (v >= 1024 && unit + 1 < std::size(kUnits)) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f %s", v, kUnits[unit]);
  return buf;
}

std::string Plural(uint64_t n, std::string_view noun) {
  return std::to_string(n) + " " + std::string(noun) + (n == 1 ? "" : "s");
}

std::string FormatTime(std::optional<TimestampMs> ms) {
  return ms ? base::FormatIso8601(*ms) : "-";
}

std::string DescribeProblem(const engine::Problem& p) {
  std::string out = p.file + " at offset " + std::to_string(p.offset);
  if (p.length > 0) out += " (" + std::to_string(p.length) + " bytes)";
  return out + ": " + p.what;
}

ProgressLine::ProgressLine(std::string command)
    : command_(std::move(command)), enabled_(::isatty(STDERR_FILENO) == 1) {}

ProgressLine::~ProgressLine() {
  if (shown_) std::fputs("\r\033[K", stderr);
}

engine::ToolProgress ProgressLine::Callback() {
  if (!enabled_) return nullptr;
  return [this](std::string_view stage, uint64_t done, uint64_t total) {
    Show(stage, done, total);
  };
}

void ProgressLine::Show(std::string_view stage, uint64_t done,
                        uint64_t total) {
  const auto now = std::chrono::steady_clock::now();
  if (shown_ && done != total && now - last_ < std::chrono::milliseconds(100)) {
    return;
  }
  last_ = now;
  shown_ = true;
  std::fprintf(stderr, "\r\033[K%s: %.*s %llu/%llu", command_.c_str(),
               static_cast<int>(stage.size()), stage.data(),
               static_cast<unsigned long long>(done),
               static_cast<unsigned long long>(total));
  std::fflush(stderr);
}

}  // namespace acpstore::cli
