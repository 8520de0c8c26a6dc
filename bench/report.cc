// Reporter, memory probes and scratch directories for the benchmarks.

#include "report.h"

#include <stdlib.h>
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <sstream>

namespace acpstore::bench {

Reporter::Reporter(std::ostream& out, std::string workload)
    : out_(out), workload_(std::move(workload)) {}

Status Reporter::OpenCsv(const std::string& csv_path) {
  if (csv_path.empty()) return Status::OK();
  std::error_code ec;
  bool fresh = !std::filesystem::exists(csv_path, ec) ||
               std::filesystem::file_size(csv_path, ec) == 0;
  csv_.open(csv_path, std::ios::app);
  if (!csv_) return Status::IoError("cannot open " + csv_path + " for append");
  if (fresh) csv_ << "workload,subject,config,run,metric,value\n";
  return Status::OK();
}

void Reporter::WriteCsv(const std::string& subject, const std::string& config,
                        const std::string& run, const std::string& metric,
                        double value) {
  if (!csv_.is_open()) return;
  // Configs hold only [a-z0-9=_ .-]: no quoting needed.
  csv_ << workload_ << ',' << subject << ',' << config << ',' << run << ','
       << metric << ',' << std::setprecision(10) << value << '\n';
  csv_.flush();
}

void Reporter::Add(int run, const Measurement& m) {
  auto it = std::find_if(series_.begin(), series_.end(), [&](const Series& s) {
    return s.subject == m.subject && s.config == m.config;
  });
  if (it == series_.end()) {
    series_.push_back(Series{m.subject, m.config, {}});
    it = series_.end() - 1;
  }
  for (const auto& [metric, value] : m.metrics) {
    it->values[metric].push_back(value);
    WriteCsv(m.subject, m.config, std::to_string(run), metric, value);
  }
}

double Reporter::Median(const std::string& subject, const std::string& config,
                        const std::string& metric) const {
  for (const Series& s : series_) {
    if (s.subject != subject || s.config != config) continue;
    auto v = s.values.find(metric);
    return v == s.values.end() ? 0 : MedianOf(v->second);
  }
  return 0;
}

void Reporter::PrintTable(const std::string& title,
                          const std::vector<Column>& columns) {
  std::vector<std::vector<std::string>> cells;
  cells.push_back({"subject", "config"});
  for (const Column& c : columns) cells[0].push_back(c.header);
  for (const Series& s : series_) {
    std::vector<std::string> row{s.subject, s.config};
    for (const Column& c : columns) {
      auto v = s.values.find(c.metric);
      if (v == s.values.end()) {
        row.push_back("-");
        continue;
      }
      double median = MedianOf(v->second);
      std::ostringstream text;
      text << std::fixed << std::setprecision(c.decimals) << median;
      row.push_back(text.str());
    }
    cells.push_back(std::move(row));
    for (const auto& [metric, values] : s.values) {
      WriteCsv(s.subject, s.config, "median", metric, MedianOf(values));
    }
  }
  std::vector<size_t> width(cells[0].size(), 0);
  for (const auto& row : cells) {
    for (size_t i = 0; i < row.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  out_ << "\n" << title << "\n";
  for (size_t r = 0; r < cells.size(); ++r) {
    for (size_t i = 0; i < cells[r].size(); ++i) {
      // Text columns left-aligned, numbers right-aligned.
      out_ << (i < 2 ? std::left : std::right) << std::setw(width[i])
           << cells[r][i] << (i + 1 < cells[r].size() ? "  " : "\n");
    }
    if (r == 0) {
      size_t total = 0;
      for (size_t w : width) total += w + 2;
      out_ << std::string(total - 2, '-') << "\n";
    }
  }
  out_ << std::flush;
  series_.clear();
}

double MedianOf(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double Percentile(std::vector<uint32_t>* v, double p) {
  if (v->empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * v->size()));
  size_t index = rank == 0 ? 0 : std::min(rank - 1, v->size() - 1);
  std::nth_element(v->begin(), v->begin() + index, v->end());
  return (*v)[index];
}

MemoryUsage ReadMemoryUsage() {
  MemoryUsage m;
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return m;
  char line[256];
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    unsigned long long kb = 0;
    if (std::sscanf(line, "VmRSS: %llu kB", &kb) == 1) m.rss = kb * 1024;
    if (std::sscanf(line, "VmHWM: %llu kB", &kb) == 1) m.hwm = kb * 1024;
  }
  std::fclose(f);
  return m;
}

double ProcessCpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

bool ResetPeakRss() {
  FILE* f = std::fopen("/proc/self/clear_refs", "w");
  if (f == nullptr) return false;
  bool ok = std::fputs("5", f) >= 0;
  return std::fclose(f) == 0 && ok;
}

ScratchDir::ScratchDir(const std::string& parent) {
  std::string templ = parent + "/acpstore-bench-XXXXXX";
  if (::mkdtemp(templ.data()) != nullptr) path_ = templ;
}

ScratchDir::~ScratchDir() {
  if (path_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace acpstore::bench
