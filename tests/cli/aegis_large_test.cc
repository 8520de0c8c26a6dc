// `acpstore import-aegis` on a generated ~200 MB state file: it must stream
// (peak RSS of the import process far below the file size), import every
// record, and finish in reasonable time. The peak RSS comes from wait4()'s
// rusage of the child (testing/process.h). Under AddressSanitizer (whose
// shadow memory and slow-down would measure the tool, not the import) the
// file is 50 MB.
//
// Label "e2e-large": `ctest -L e2e` runs it, `ctest -LE large` skips it.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "io/test_dir.h"
#include "testing/process.h"

namespace acpstore::testing {
namespace {

const std::string kBinary = ACPSTORE_BIN;

#if defined(__SANITIZE_ADDRESS__)
constexpr uint64_t kTargetBytes = 50ull << 20;
#else
constexpr uint64_t kTargetBytes = 200ull << 20;
#endif
constexpr int kEventsPerSession = 500;
constexpr size_t kPayloadText = 900;

struct Generated {
  uint64_t bytes = 0;
  uint64_t sessions = 0;
  uint64_t events = 0;
};

// Sessions first, then every session's events in one flat array; compact,
// one record per line, in the fields real Aegis writes
// (docs/aegis_format.md).
//
// `event_type` terminal.output is a type the transcript fold (SPEC §13)
// does not keep: that import measures that the file is streamed.
// message.delta events carry ~157 MB of transcript text in ~350
// transcripts, of which the file engine keeps about a quarter of the
// import's memory budget in memory (decision 0018) and the rest on disk.
Generated Generate(const std::string& path, const char* event_type) {
  Generated g;
  const uint64_t per_session =
      kEventsPerSession * (kPayloadText + 300);  // about
  g.sessions = kTargetBytes / per_session + 1;
  std::FILE* f = std::fopen(path.c_str(), "w");
  std::string filler(kPayloadText, 'x');
  for (size_t i = 0; i < filler.size(); i += 37) filler[i] = ' ';
  std::fputs("{\"version\":1,\"sessions\":[\n", f);
  for (uint64_t s = 0; s < g.sessions; ++s) {
    std::fprintf(
        f,
        "%s{\"id\":\"sess-%06llu\",\"tenantId\":\"t%llu\",\"ownerKeyId\":"
        "\"key_%llu\",\"conversationId\":\"c-%06llu\",\"transcriptId\":"
        "\"r-%06llu\",\"status\":\"running\",\"createdAt\":%llu,"
        "\"updatedAt\":%llu}\n",
        s == 0 ? "" : ",", static_cast<unsigned long long>(s),
        static_cast<unsigned long long>(s % 3),
        static_cast<unsigned long long>(s % 7),
        static_cast<unsigned long long>(s), static_cast<unsigned long long>(s),
        1779504960000ull + s, 1779504960000ull + s + 1);
  }
  std::fputs("],\"events\":[\n", f);
  bool first = true;
  for (uint64_t s = 0; s < g.sessions; ++s) {
    for (int seq = 1; seq <= kEventsPerSession; ++seq) {
      std::fprintf(
          f,
          "%s{\"eventId\":\"t%llu:key_%llu:sess-%06llu:%d\","
          "\"sessionId\":\"sess-%06llu\",\"tenantId\":\"t%llu\","
          "\"ownerKeyId\":\"key_%llu\",\"eventSeq\":%d,"
          "\"eventType\":\"%s\",\"occurredAt\":\"2026-05-23T02:56:"
          "01.000Z\",\"ingestedAt\":\"2026-05-23T02:56:01.001Z\",\"payload\":{"
          "\"n\":%d,\"text\":\"%s\",\"tokens\":[1,2,3.5]}}\n",
          first ? "" : ",", static_cast<unsigned long long>(s % 3),
          static_cast<unsigned long long>(s % 7),
          static_cast<unsigned long long>(s), seq,
          static_cast<unsigned long long>(s),
          static_cast<unsigned long long>(s % 3),
          static_cast<unsigned long long>(s % 7), seq, event_type, seq,
          filler.c_str());
      first = false;
      ++g.events;
    }
  }
  std::fputs("],\"actions\":[],\"pauseInterventions\":[]}\n", f);
  std::fclose(f);
  struct stat st;
  ::stat(path.c_str(), &st);
  g.bytes = static_cast<uint64_t>(st.st_size);
  return g;
}

struct Child {
  int exit_code = -1;
  long max_rss_kib = 0;
  std::string out;
};

// Runs the binary with stdout and stderr to one file; the child's own peak
// RSS.
Child RunMeasured(const std::vector<std::string>& args,
                  const std::string& out) {
  proc::Spec spec{.argv = args,
                  .out = proc::Output::File(out),
                  .err = proc::Output::SameAsStdout()};
#if defined(__SANITIZE_ADDRESS__)
  // ASan keeps freed memory in a 256 MiB quarantine by default, which
  // would be measured as the import's; keep it small.
  std::string asan = "quarantine_size_mb=4:thread_local_quarantine_size_kb=64";
  if (const char* old = std::getenv("ASAN_OPTIONS")) {
    asan = std::string(old) + ":" + asan;
  }
  spec.env.push_back("ASAN_OPTIONS=" + asan);
#endif
  proc::Process p(spec);
  Child c;
  if (p.pid() < 0) {
    c.out = std::string(p.status().message());
    return c;
  }
  const std::optional<int> code = p.Wait(std::chrono::hours(2));
  const proc::Exit& e = code ? *p.exit() : p.Kill();
  c.exit_code = e.code();
  c.max_rss_kib = e.usage.ru_maxrss;
  c.out = p.Text(proc::Stream::kStdout);
  return c;
}

// Imports a generated file of `event_type` events; checks the peak RSS
// against `release_bound` (a fraction of the file) in a release build.
void ImportInBoundedMemory(const char* event_type,
                           [[maybe_unused]] double release_bound) {
  io::TempDir tmp;
  const std::string file = tmp.Join("acp-local-storage.json");
  const Generated g = Generate(file, event_type);
  ASSERT_GE(g.bytes, kTargetBytes * 9 / 10);

  const auto start = std::chrono::steady_clock::now();
  Child c = RunMeasured(
      {kBinary, "import-aegis", file, "--data-dir", tmp.Join("data")},
      tmp.Join("import.log"));
  const auto seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  ASSERT_EQ(c.exit_code, 0) << c.out;
  EXPECT_NE(c.out.find(std::to_string(g.events) + "   "), std::string::npos)
      << c.out;
  // The real format needs no repair.
  EXPECT_EQ(c.out.find("report line"), std::string::npos) << c.out;
  const uint64_t rss = static_cast<uint64_t>(c.max_rss_kib) * 1024;
  ::testing::Test::RecordProperty("file_bytes", std::to_string(g.bytes));
  ::testing::Test::RecordProperty("peak_rss_bytes", std::to_string(rss));
  ::testing::Test::RecordProperty("seconds", std::to_string(seconds));
  std::printf(
      "imported %llu bytes (%llu events) in %.1f s, peak RSS %.1f MiB\n",
      static_cast<unsigned long long>(g.bytes),
      static_cast<unsigned long long>(g.events), seconds,
      static_cast<double>(rss) / (1 << 20));
#if defined(__SANITIZE_ADDRESS__)
  // Under ASan the binary alone takes ~160 MiB and every allocation costs
  // redzones and shadow, so measure the growth over a tiny import and only
  // catch a tool that holds the file; the release build checks the bound.
  const std::string tiny = tmp.Join("tiny.json");
  std::ofstream(tiny) << R"({"version":1,"sessions":[],"events":[],"actions":[]})";
  Child base = RunMeasured(
      {kBinary, "import-aegis", tiny, "--data-dir", tmp.Join("tiny-data")},
      tmp.Join("tiny.log"));
  ASSERT_EQ(base.exit_code, 0) << base.out;
  const uint64_t base_rss = static_cast<uint64_t>(base.max_rss_kib) * 1024;
  EXPECT_LT(rss - std::min(rss, base_rss), g.bytes * 3 / 2)
      << "peak RSS " << rss << ", baseline " << base_rss;
#else
  EXPECT_LT(static_cast<double>(rss),
            static_cast<double>(g.bytes) * release_bound)
      << "peak RSS " << rss;
#endif

  // Everything arrived.
  Child inspect = RunMeasured(
      {kBinary, "inspect", "--json", "--data-dir", tmp.Join("data")},
      tmp.Join("inspect.log"));
  ASSERT_EQ(inspect.exit_code, 0) << inspect.out;
  EXPECT_NE(inspect.out.find("\"eventsRetained\":" + std::to_string(g.events)),
            std::string::npos)
      << inspect.out;
  EXPECT_NE(inspect.out.find("\"sessions\":" + std::to_string(g.sessions)),
            std::string::npos)
      << inspect.out;
}

TEST(AegisLargeTest, TwoHundredMegabytesImportInBoundedMemory) {
  // Streaming: far below the file (about 60 MiB for 200 MB: caches, the
  // batches in flight and the binary itself).
  ImportInBoundedMemory("terminal.output", 1.0 / 3);
}

TEST(AegisLargeTest, TranscriptsOfTheImportStayWithinTheirShare) {
  // The same file of message.delta events: ~157 MB of transcript text.
  // Before transcripts left memory (decision 0018) the peak was 217 MiB;
  // now 69-75 MiB (the streaming import's ~60, plus the 6 MiB share of the
  // import's 24 MiB budget, up to twice that before writers evict, and
  // string capacity). A third of the file (65 MiB) is not met; the bound
  // is half of it (98 MiB), far below the 217 it guards against.
  ImportInBoundedMemory("message.delta", 1.0 / 2);
}

}  // namespace
}  // namespace acpstore::testing
