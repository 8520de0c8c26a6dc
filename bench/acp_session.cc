// The Aegis-shaped ACP session (acp_session.h).

#include "acp_session.h"

#include <random>
#include <string>
#include <utility>

namespace acpstore::bench {
namespace {

std::string Words(std::mt19937_64& rng, size_t n) {
  static const char* kWords[] = {"the ", "file ", "reads ", "function ",
                                 "returns ", "a ", "value ", "\\\"quoted\\\" ",
                                 "line\\n", "caf\xc3\xa9 "};
  std::string out;
  while (out.size() < n) out += kWords[rng() % 10];
  return out;
}

std::string Frame(const std::string& update, const std::string& body) {
  return R"({"jsonrpc":"2.0","method":"session/update","params":{"sessionId":"sess-1","update":{"sessionUpdate":")" +
         update + R"(",)" + body + "}}}";
}

}  // namespace

std::vector<NewEvent> AcpSessionEvents(uint64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<NewEvent> out;
  int tool = 0, msg = 0;
  while (out.size() < n) {
    const int r = static_cast<int>(rng() % 100);
    NewEvent e;
    if (r < 60) {
      const std::string t = Words(rng, 20 + rng() % 100);
      e.event_type = "message.delta";
      e.payload = R"({"acp":)" +
                  Frame("agent_message_chunk",
                        R"("content":{"type":"text","text":")" + t + "\"}") +
                  R"(,"messageId":"m)" + std::to_string(msg) + R"(","text":")" +
                  t + "\"}";
      if (rng() % 40 == 0) ++msg;
    } else if (r < 75) {
      const std::string t = Words(rng, 20 + rng() % 100);
      e.event_type = "thinking.delta";
      e.payload = R"({"acp":)" +
                  Frame("agent_thought_chunk",
                        R"("content":{"type":"text","text":")" + t + "\"}") +
                  R"(,"text":")" + t + "\"}";
    } else if (r < 83) {
      ++tool;
      e.event_type = "tool.started";
      e.payload = R"({"acp":)" +
                  Frame("tool_call", R"("toolCallId":"call_)" +
                                         std::to_string(tool) +
                                         R"(","title":"Read src/main.cc","kind":"read","status":"pending","rawInput":{"path":"src/main.cc"})") +
                  R"(,"input":{"path":"src/main.cc"},"kind":"read","status":"pending","title":"Read src/main.cc","toolCallId":"call_)" +
                  std::to_string(tool) + "\"}";
    } else if (r < 91 && tool > 0) {
      const std::string output = Words(rng, 200 + rng() % 4000);
      e.event_type = "tool.completed";
      e.payload = R"({"acp":)" +
                  Frame("tool_call_update",
                        R"("toolCallId":"call_)" + std::to_string(tool) +
                            R"(","status":"completed","content":[{"type":"content","content":{"type":"text","text":")" +
                            output + R"("}}])") +
                  R"(,"output":")" + output +
                  R"(","status":"completed","toolCallId":"call_)" +
                  std::to_string(tool) + "\"}";
    } else if (r < 94) {
      e.event_type = "usage.updated";
      e.payload = R"({"acp":)" + Frame("usage_update", R"("used":1234,"size":200000)") +
                  R"(,"inputTokens":)" + std::to_string(rng() % 5000) +
                  R"(,"outputTokens":)" + std::to_string(rng() % 900) + "}";
    } else if (r < 97) {
      e.event_type = "session.updated";
      e.payload = R"({"acp":)" + Frame("current_mode_update", R"("currentModeId":"code")") +
                  R"(,"mode":"code"})";
    } else {
      e.event_type = "turn.completed";
      e.payload = R"({"acp":{"jsonrpc":"2.0","id":7,"result":{"stopReason":"end_turn"}},"stopReason":"end_turn"})";
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<NewEvent> AcpWriterStream() {
  return AcpSessionEvents(kAcpWriterStreamEvents, 16);
}

double MeanPayloadBytes(const std::vector<NewEvent>& events) {
  if (events.empty()) return 0;
  double bytes = 0;
  for (const NewEvent& e : events)
    bytes += static_cast<double>(e.payload.size());
  return bytes / static_cast<double>(events.size());
}

}  // namespace acpstore::bench
