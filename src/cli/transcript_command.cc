// `acpstore transcript SESSION`: prints a session's transcript (SPEC §13)
// from a running server (GET /v1/sessions/{id}/transcript, every page) as
// readable text, or with --json one entry per line as the server sent it.
// The token comes from --token-file or $ACPSTORE_TOKEN and is never
// printed. A data directory is not read directly: a running server holds
// its lock (start one on it, or use `acpstore serve` then this command).
//
// Readable form, one block per entry:
//   #<index> <kind> seq <first>-<last> <firstAt>
//   <text, or for a tool: title, status, input, result; for small entries
//   their fields>
// and a last line with the totals, and "incomplete" with what is known of
// why when the transcript is not complete.
// Control characters in what the server sent are printed escaped
// (terminal_text.h), as `acpstore tail` shows them.
//
// Exit codes: 0 printed; 1 the server refused or could not be reached;
// 2 bad command line.
//
// Thread-safety: main thread only.

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cli/command.h"
#include "cli/server_access.h"
#include "cli/terminal_text.h"
#include "net/http_client.h"
#include "net/url.h"
#include "record/canonical_json.h"

namespace acpstore::cli {
namespace {

namespace json = boost::json;

struct TranscriptFlags : ServerAccess {
  std::string session;
  // Given empty, it is refused like any other list without a kind (it
  // printed every kind when an empty string meant "not given").
  std::optional<std::string> kinds;
  bool json = false;
  // Not an option of this command: taken only to say what to do instead
  // (the generic "arguments were not expected" did not; found by a probe).
  std::string data_dir;
};

// The entry kinds of SPEC §13 (TranscriptEntry::kind in records.h), fixed
// by the contract: a misspelt --kind is refused here, naming the flag,
// rather than relayed as the server's 400 about its `kind` query (exit 1;
// found by an outside tester). Checked as the server splits the list:
// at every comma, an empty name included.
constexpr std::string_view kKinds[] = {"assistant", "thought",  "tool",
                                       "approval",  "error",    "turn_end",
                                       "usage"};

Status CheckKinds(std::string_view list) {
  size_t start = 0;
  while (true) {
    const size_t comma = list.find(',', start);
    const std::string_view name = list.substr(start, comma - start);
    if (std::find(std::begin(kKinds), std::end(kKinds), name) ==
        std::end(kKinds)) {
      return Status::InvalidArgument(
          "--kind: expected kinds among assistant, thought, tool, approval, "
          "error, turn_end and usage, comma-separated, got '" +
          std::string(name) + "'");
    }
    if (comma == std::string_view::npos) return Status::OK();
    start = comma + 1;
  }
}

// `v` as the server wrote it: Boost.JSON writes a double as 1.5E0 and
// 0.1 as 1E-1, and canonicalising that text restores SPEC §2.7's form
// (the shortest that reads back; found by a probe of --json).
std::string Canonical(const json::value& v) {
  std::string text = json::serialize(v);
  Limits limits;
  limits.max_payload_bytes = static_cast<uint32_t>(
      std::min<size_t>(text.size() + 1, UINT32_MAX));
  limits.max_json_depth = 1024;
  Result<std::string> canonical =
      record::CanonicalizePayloadWithParser(text, limits, "entry");
  return canonical.ok() ? std::move(*canonical) : text;
}

std::string Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return "";
  if (v->is_string()) return std::string(v->as_string());
  return Canonical(*v);
}

void Print(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }

// Every string from the server goes through TerminalSafe: the text and
// titles are the agent's, never to be trusted with a terminal.
void PrintEntry(const json::object& e) {
  const std::string kind = Str(e, "kind");
  auto line = [&](std::string_view key) {
    return TerminalSafe(Str(e, key), false);
  };
  auto block = [&](std::string_view key) {
    return TerminalSafe(Str(e, key), true);
  };
  Print("#" + line("index") + " " + TerminalSafe(kind, false) + " seq " +
        line("firstSeq") + "-" + line("lastSeq") + " " + line("firstAt") +
        "\n");
  if (kind == "assistant" || kind == "thought") {
    Print(block("text") + "\n\n");
    return;
  }
  if (kind == "tool") {
    std::string head = "  " + line("title");
    if (e.contains("toolKind")) head += " [" + line("toolKind") + "]";
    if (e.contains("status")) head += " " + line("status");
    Print(head + "\n");
    if (e.contains("input")) {
      Print("  input: " + line("input") +
            (Str(e, "inputTruncated") == "true" ? " (cut)" : "") + "\n");
    }
    if (e.contains("result")) {
      Print("  result: " + block("result") +
            (Str(e, "resultTruncated") == "true" ? " (cut)" : "") + "\n");
    }
    Print("\n");
    return;
  }
  Print("  " + line("fields") + "\n\n");
}

// What the last page says of a transcript that is not complete. Only the
// per-session cap drops entries, and then the oldest kept one is above 1;
// the other causes (SPEC §13: events gone before they were folded, an
// import of a pruned stream, an import placeholder) drop none, so that is
// said instead of blaming the cap (it said "older entries dropped" for
// every cause; found by a review).
std::string Incompleteness(const json::object& page) {
  const json::value* complete = page.if_contains("complete");
  if (complete == nullptr || !complete->is_bool() || complete->as_bool()) {
    return "";
  }
  const json::value* first = page.if_contains("firstIndex");
  const uint64_t first_index =
      first != nullptr && first->is_number() ? first->to_number<uint64_t>() : 1;
  if (first_index > 1) {
    return ", incomplete: the per-session cap (--transcript-max-bytes) "
           "dropped entries 1.." +
           std::to_string(first_index - 1);
  }
  return ", incomplete: some of its events were never folded (gone to event "
         "retention or damage first, or missing from an Aegis import); no "
         "entry was dropped";
}

int RunTranscript(const TranscriptFlags& f) {
  if (!f.data_dir.empty()) {
    PrintError(
        "transcript reads from a running server (--url, default "
        "http://127.0.0.1:7700), not a data directory: start `acpstore serve "
        "--data-dir " + f.data_dir + "` and run this again with its --url");
    return kExitUsage;
  }
  if (f.kinds) {
    if (Status s = CheckKinds(*f.kinds); !s.ok()) {
      PrintError(s.message());
      return kExitUsage;
    }
  }
  Result<ServerTarget> server = ResolveServer(f);
  if (!server) {
    PrintError(std::string(server.error().message()));
    return kExitUsage;
  }
  const net::Url& url = server->url;
  net::HttpClient http(net::ClientOptions{.host = url.host,
                                          .port = url.port,
                                          .token = server->token,
                                          .retry_stale = true});
  uint64_t after = 0;
  json::object last;
  while (true) {
    std::string target = url.base_path + "/v1/sessions/" +
                         net::EncodePathSegment(f.session) +
                         "/transcript?limit=1000&after=" + std::to_string(after);
    // Encoded as a query value (unreserved bytes kept): a '&' or a line
    // break in the flag must not become another parameter or header.
    if (f.kinds) target += "&kind=" + net::EncodePathSegment(*f.kinds);
    Result<net::Response> r = http.Get(target);
    if (!r.ok()) {
      PrintError("cannot reach " + f.url + ": " + std::string(r.error().message()));
      return 1;
    }
    boost::system::error_code ec;
    json::value v = json::parse(r->body, ec);
    if (r->status != 200 || ec || !v.is_object()) {
      PrintError("the server answered " + std::to_string(r->status) + ": " +
                 r->body.substr(0, 300));
      return 1;
    }
    last = std::move(v.as_object());
    for (const json::value& e : last["entries"].as_array()) {
      if (f.json) {
        Print(Canonical(e) + "\n");
      } else if (e.is_object()) {
        PrintEntry(e.as_object());
      }
    }
    const uint64_t next = last["next"].to_number<uint64_t>();
    if (next + 1 >= last["endIndex"].to_number<uint64_t>()) break;
    // A server that moves `next` nowhere has nothing more to show (0.1.x
    // answered so when the cap had dropped every entry): never ask again.
    if (next <= after && last["entries"].as_array().empty()) break;
    after = next;
  }
  if (!f.json) {
    Print("-- entries " + Str(last, "firstIndex") + ".." +
          std::to_string(last["endIndex"].to_number<uint64_t>() - 1) +
          ", events folded through seq " + Str(last, "foldedSeq") + ", usage " +
          TerminalSafe(Str(last["totals"].as_object(), "usage"), false) +
          Incompleteness(last) + "\n");
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace

void AddTranscriptCommand(CLI::App& root, Runner* run) {
  auto flags = std::make_shared<TranscriptFlags>();
  CLI::App* cmd = root.add_subcommand(
      "transcript",
      "Print a session's transcript (its conversation, kept after event "
      "retention) from a running server");
  cmd->add_option("SESSION", flags->session, "Session id")->required();
  AddServerAccessOptions(*cmd, *flags);
  cmd->add_option("--kind", flags->kinds,
                  "Only these entry kinds, comma-separated (assistant, "
                  "thought, tool, approval, error, turn_end, usage)")
      ->type_name("KINDS");
  cmd->add_flag("--json", flags->json,
                "One entry per line, as the server sent it");
  cmd->add_option("--data-dir", flags->data_dir)->group("");  // hidden
  cmd->callback(
      [run, flags] { *run = [flags] { return RunTranscript(*flags); }; });
}

}  // namespace acpstore::cli
