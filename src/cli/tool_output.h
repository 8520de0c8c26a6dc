// Helpers shared by the offline tools (inspect, verify, compact): a
// progress line on stderr and human-readable sizes and times.
//
// Thread-safety: main thread only.

#ifndef ACPSTORE_CLI_TOOL_OUTPUT_H_
#define ACPSTORE_CLI_TOOL_OUTPUT_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "acpstore/clock.h"
#include "engine/file_tools.h"

namespace acpstore::cli {

// "512 B", "1.5 KiB", "64.0 MiB".
std::string FormatBytes(uint64_t bytes);
// "1 segment", "3 segments".
std::string Plural(uint64_t n, std::string_view noun);
// ISO-8601, or "-" when absent.
std::string FormatTime(std::optional<TimestampMs> ms);
// "<file> at offset <n> (<len> bytes): <what>" (no length part when it is
// 0): a damaged range as verify prints it, a lost one as compact --repair.
std::string DescribeProblem(const engine::Problem& p);

// Shows "<command>: <stage> <done>/<total>" on one rewritten stderr line,
// at most ten times a second, and only when stderr is a terminal (logs and
// pipes stay clean). The destructor clears the line.
class ProgressLine {
 public:
  explicit ProgressLine(std::string command);
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // A callback for the tools; null when stderr is not a terminal. Valid
  // while this object lives.
  engine::ToolProgress Callback();

 private:
  void Show(std::string_view stage, uint64_t done, uint64_t total);

  const std::string command_;
  const bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace acpstore::cli

#endif  // ACPSTORE_CLI_TOOL_OUTPUT_H_
