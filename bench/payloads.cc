// Tool-event payload generator (payloads.h).

#include "payloads.h"

#include <array>
#include <random>
#include <string_view>

namespace acpstore::bench {
namespace {

constexpr std::array<std::string_view, 6> kTools = {
    "Bash", "Read", "Edit", "Grep", "WebFetch", "Write"};
constexpr std::array<std::string_view, 12> kWords = {
    "const",  "return", "value",   "session", "config",  "handler",
    "result", "await",  "payload", "error",   "request", "buffer"};

std::string Word(std::mt19937_64& rng) {
  return std::string(kWords[rng() % kWords.size()]);
}

// One line of tool output, as rg/cat/tests print them.
std::string OutputLine(std::mt19937_64& rng) {
  std::string line =
      "src/" + Word(rng) + "/" + Word(rng) + "_" + std::to_string(rng() % 100) +
      ".ts:" + std::to_string(1 + rng() % 900) + ":  " + Word(rng) + " " +
      Word(rng) + " = " + Word(rng) + "(" + Word(rng) + ", " + Word(rng) + ");";
  return line + "\\n";  // an escaped newline inside the JSON string
}

std::string Payload(std::mt19937_64& rng, size_t index, size_t bytes) {
  std::string_view tool = kTools[index % kTools.size()];
  std::string id = "toolu_01";
  for (int i = 0; i < 22; ++i)
    id.push_back("ABCDEFGHJKLMNPQRSTUVWXYZabcdefgh"[rng() % 32]);
  std::string head =
      "{\"type\":\"tool_result\",\"tool\":\"" + std::string(tool) +
      "\",\"toolUseId\":\"" + id + "\",\"input\":{\"command\":\"rg -n \\\"" +
      Word(rng) + Word(rng) +
      "\\\" src/ --type ts\",\"description\":\"Find where the " + Word(rng) +
      " " + Word(rng) + " is built\",\"timeout\":120000},\"output\":\"";
  std::string tail =
      "\",\"isError\":false,\"exitCode\":0,\"durationMs\":" +
      std::to_string(rng() % 20000) +
      ",\"cwd\":\"/srv/agents/code/repo\",\"model\":\"claude-sonnet\","
      "\"tokens\":{\"input\":" +
      std::to_string(rng() % 50000) +
      ",\"output\":" + std::to_string(rng() % 4000) + "}}";
  if (bytes < head.size() + tail.size() + 16) {
    // Too small for a tool result: the shape of a "tool.started" event
    // (the call without its output), down to ~100 bytes.
    head = "{\"type\":\"tool_use\",\"tool\":\"" + std::string(tool) +
           "\",\"toolUseId\":\"" + id + "\",\"input\":{\"command\":\"";
    tail = "\"}}";
  }
  std::string output;
  while (head.size() + output.size() + tail.size() < bytes) {
    output += OutputLine(rng);
  }
  // Trim to the exact size, never inside an escape.
  size_t want =
      bytes > head.size() + tail.size() ? bytes - head.size() - tail.size() : 0;
  output.resize(want);
  if (!output.empty() && output.back() == '\\') output.back() = '.';
  return head + output + tail;
}

}  // namespace

std::vector<std::string> ToolEventPayloads(size_t count, size_t bytes,
                                           uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) out.push_back(Payload(rng, i, bytes));
  return out;
}

const char* ToolEventType(size_t index) {
  static constexpr std::array<const char*, 3> kTypes = {
      "tool.started", "tool.completed", "tool.output"};
  return kTypes[index % kTypes.size()];
}

}  // namespace acpstore::bench
