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

// The payloads of each event type, as Aegis's mapper writes them: the raw
// ACP frame under "acp", then the fields the mapper lifts out of it.
NewEvent Delta(std::mt19937_64& rng, bool thought, int msg) {
  const std::string t = Words(rng, 20 + rng() % 100);
  NewEvent e;
  e.event_type = thought ? "thinking.delta" : "message.delta";
  e.payload = R"({"acp":)" +
              Frame(thought ? "agent_thought_chunk" : "agent_message_chunk",
                    R"("content":{"type":"text","text":")" + t + "\"}") +
              (thought ? std::string()
                       : R"(,"messageId":"m)" + std::to_string(msg) + "\"") +
              R"(,"text":")" + t + "\"}";
  return e;
}

NewEvent ToolStarted(int tool) {
  NewEvent e;
  e.event_type = "tool.started";
  e.payload = R"({"acp":)" +
              Frame("tool_call", R"("toolCallId":"call_)" +
                                     std::to_string(tool) +
                                     R"(","title":"Read src/main.cc","kind":"read","status":"pending","rawInput":{"path":"src/main.cc"})") +
              R"(,"input":{"path":"src/main.cc"},"kind":"read","status":"pending","title":"Read src/main.cc","toolCallId":"call_)" +
              std::to_string(tool) + "\"}";
  return e;
}

NewEvent ToolCompleted(std::mt19937_64& rng, int tool) {
  const std::string output = Words(rng, 200 + rng() % 4000);
  NewEvent e;
  e.event_type = "tool.completed";
  e.payload = R"({"acp":)" +
              Frame("tool_call_update",
                    R"("toolCallId":"call_)" + std::to_string(tool) +
                        R"(","status":"completed","content":[{"type":"content","content":{"type":"text","text":")" +
                        output + R"("}}])") +
              R"(,"output":")" + output +
              R"(","status":"completed","toolCallId":"call_)" +
              std::to_string(tool) + "\"}";
  return e;
}

NewEvent UsageUpdated(std::mt19937_64& rng) {
  NewEvent e;
  e.event_type = "usage.updated";
  e.payload = R"({"acp":)" + Frame("usage_update", R"("used":1234,"size":200000)") +
              R"(,"inputTokens":)" + std::to_string(rng() % 5000) +
              R"(,"outputTokens":)" + std::to_string(rng() % 900) + "}";
  return e;
}

NewEvent SessionUpdated() {
  NewEvent e;
  e.event_type = "session.updated";
  e.payload = R"({"acp":)" + Frame("current_mode_update", R"("currentModeId":"code")") +
              R"(,"mode":"code"})";
  return e;
}

NewEvent TurnCompleted() {
  NewEvent e;
  e.event_type = "turn.completed";
  e.payload = R"({"acp":{"jsonrpc":"2.0","id":7,"result":{"stopReason":"end_turn"}},"stopReason":"end_turn"})";
  return e;
}

}  // namespace

std::vector<NewEvent> AcpSessionEvents(uint64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<NewEvent> out;
  int tool = 0, msg = 0;
  while (out.size() < n) {
    const int r = static_cast<int>(rng() % 100);
    if (r < 60) {
      out.push_back(Delta(rng, false, msg));
      if (rng() % 40 == 0) ++msg;
    } else if (r < 75) {
      out.push_back(Delta(rng, true, msg));
    } else if (r < 83) {
      out.push_back(ToolStarted(++tool));
    } else if (r < 91 && tool > 0) {
      out.push_back(ToolCompleted(rng, tool));
    } else if (r < 94) {
      out.push_back(UsageUpdated(rng));
    } else if (r < 97) {
      out.push_back(SessionUpdated());
    } else {
      out.push_back(TurnCompleted());
    }
  }
  return out;
}

std::vector<NewEvent> AcpTurnEvents(uint64_t n, uint64_t seed) {
  // Per turn on average: 5 thought deltas, 21 message deltas in two
  // messages, 2.5 tool calls (5 events), a usage and a mode update and the
  // end: 34 events, about AcpSessionEvents' shares of each type.
  std::mt19937_64 rng(seed);
  std::vector<NewEvent> out;
  int tool = 0, msg = 0;
  auto run = [&](bool thought, uint64_t k) {
    for (uint64_t i = 0; i < k; ++i) out.push_back(Delta(rng, thought, msg));
  };
  while (out.size() < n) {
    run(true, rng() % 11);
    run(false, 1 + rng() % 20);
    ++msg;
    for (uint64_t calls = rng() % 6; calls > 0;) {
      // Every fourth time two calls overlap: both start, then both end.
      if (calls >= 2 && rng() % 4 == 0) {
        out.push_back(ToolStarted(tool + 1));
        out.push_back(ToolStarted(tool + 2));
        out.push_back(ToolCompleted(rng, tool + 1));
        out.push_back(ToolCompleted(rng, tool + 2));
        tool += 2;
        calls -= 2;
      } else {
        out.push_back(ToolStarted(++tool));
        out.push_back(ToolCompleted(rng, tool));
        calls -= 1;
      }
    }
    run(false, 1 + rng() % 20);
    ++msg;
    out.push_back(UsageUpdated(rng));
    out.push_back(SessionUpdated());
    out.push_back(TurnCompleted());
  }
  out.resize(n);
  return out;
}

std::vector<NewEvent> AcpWriterStream(bool turns) {
  return turns ? AcpTurnEvents(kAcpWriterStreamEvents, 16)
               : AcpSessionEvents(kAcpWriterStreamEvents, 16);
}

double MeanPayloadBytes(const std::vector<NewEvent>& events) {
  if (events.empty()) return 0;
  double bytes = 0;
  for (const NewEvent& e : events)
    bytes += static_cast<double>(e.payload.size());
  return bytes / static_cast<double>(events.size());
}

}  // namespace acpstore::bench
