// Reporting for the benchmark workloads: per-run measurements go to a CSV
// file (one row per value, so runs and medians are easy to pivot), and
// tables of medians over runs go to the console.
//
// CSV columns: workload,subject,config,run,metric,value - `run` is
// 1..runs, or "median".
//
// Thread-safety: none; the workload's main thread only. Lifetime: one per
// RunBench call.

#ifndef ACPSTORE_BENCH_REPORT_H_
#define ACPSTORE_BENCH_REPORT_H_

#include <cstdint>
#include <fstream>
#include <map>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "acpstore/status.h"

namespace acpstore::bench {

// One configuration's values from one run, e.g. subject "acpstore",
// config "writers=16", metrics {"events_per_s": 41000, ...}.
struct Measurement {
  std::string subject;
  std::string config;
  std::vector<std::pair<std::string, double>> metrics;

  // Replaces the value of `metric`, or adds it.
  void Set(const std::string& metric, double value) {
    for (auto& [name, v] : metrics) {
      if (name == metric) {
        v = value;
        return;
      }
    }
    metrics.emplace_back(metric, value);
  }
};

// A table column: the metric it shows, its header and decimals.
struct Column {
  std::string metric;
  std::string header;
  int decimals = 0;
};

class Reporter {
 public:
  Reporter(std::ostream& out, std::string workload);

  // Opens `csv_path` for appending (writing the header into a new file).
  Status OpenCsv(const std::string& csv_path);

  std::ostream& out() { return out_; }

  // Records `m` as run `run` (1-based): CSV rows now, kept for medians.
  void Add(int run, const Measurement& m);

  // The median over runs of one metric; 0 when never recorded.
  double Median(const std::string& subject, const std::string& config,
                const std::string& metric) const;

  // Prints the medians of every configuration added so far (in order of
  // first appearance) as an aligned table, writes them to the CSV as run
  // "median", and forgets them.
  void PrintTable(const std::string& title, const std::vector<Column>& columns);

 private:
  struct Series {
    std::string subject;
    std::string config;
    std::map<std::string, std::vector<double>> values;
  };
  void WriteCsv(const std::string& subject, const std::string& config,
                const std::string& run, const std::string& metric,
                double value);

  std::ostream& out_;
  const std::string workload_;
  std::ofstream csv_;
  std::vector<Series> series_;
};

// Median of `v` (0 when empty); p in [0, 100] of `v` (sorted in place).
double MedianOf(std::vector<double> v);
double Percentile(std::vector<uint32_t>* v, double p);

// This process's memory from /proc/self/status, in bytes.
struct MemoryUsage {
  uint64_t rss = 0;  // VmRSS
  uint64_t hwm = 0;  // VmHWM: peak RSS since start or the last reset
};
MemoryUsage ReadMemoryUsage();
// Resets VmHWM to the current RSS (/proc/self/clear_refs "5") so one
// workload's peak is not another's. False if the kernel refused.
bool ResetPeakRss();

// User + system CPU time of this whole process (every thread), seconds.
double ProcessCpuSeconds();

inline double Mib(uint64_t bytes) { return bytes / (1024.0 * 1024.0); }

// A fresh directory under `parent`, removed with its contents when the
// object dies.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& parent);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace acpstore::bench

#endif  // ACPSTORE_BENCH_REPORT_H_
