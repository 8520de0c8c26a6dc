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
// The events are of a type the transcript fold (SPEC §13) does not keep:
// this test measures that the import streams the file. Transcripts are
// held in memory in full today (the spec's "Not built yet: a memory
// bound"), so with message.delta events the peak grows by the text they
// carry: a 217 MiB peak for this 200 MB file, whose deltas hold ~157 MB
// of text, against the bound below of a third of the file (measured at
// 95141df with message.delta events).
Generated Generate(const std::string& path) {
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
          "\"eventType\":\"terminal.output\",\"occurredAt\":\"2026-05-23T02:56:"
          "01.000Z\",\"ingestedAt\":\"2026-05-23T02:56:01.001Z\",\"payload\":{"
          "\"n\":%d,\"text\":\"%s\",\"tokens\":[1,2,3.5]}}\n",
          first ? "" : ",", static_cast<unsigned long long>(s % 3),
          static_cast<unsigned long long>(s % 7),
          static_cast<unsigned long long>(s), seq,
          static_cast<unsigned long long>(s),
          static_cast<unsigned long long>(s % 3),
          static_cast<unsigned long long>(s % 7), seq, seq, filler.c_str());
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

TEST(AegisLargeTest, TwoHundredMegabytesImportInBoundedMemory) {
  io::TempDir tmp;
  const std::string file = tmp.Join("acp-local-storage.json");
  const Generated g = Generate(file);
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
  RecordProperty("file_bytes", std::to_string(g.bytes));
  RecordProperty("peak_rss_bytes", std::to_string(rss));
  RecordProperty("seconds", std::to_string(seconds));
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
  std::ofstream(tiny) << R"({"version":1,"sessions":[]})";
  Child base = RunMeasured(
      {kBinary, "import-aegis", tiny, "--data-dir", tmp.Join("tiny-data")},
      tmp.Join("tiny.log"));
  ASSERT_EQ(base.exit_code, 0) << base.out;
  const uint64_t base_rss = static_cast<uint64_t>(base.max_rss_kib) * 1024;
  EXPECT_LT(rss - std::min(rss, base_rss), g.bytes * 3 / 2)
      << "peak RSS " << rss << ", baseline " << base_rss;
#else
  // Streaming: far below the file (about 50 MiB for 200 MB: caches, the
  // batches in flight and the binary itself).
  EXPECT_LT(rss, g.bytes / 3) << "peak RSS " << rss;
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

}  // namespace
}  // namespace acpstore::testing
