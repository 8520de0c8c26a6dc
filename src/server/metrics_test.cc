// The Prometheus text of the store's histograms: fsync latency and group
// commit batch sizes come from log2 buckets and must render as cumulative
// buckets with the right bounds, sum and count.

#include "server/metrics.h"

#include <gtest/gtest.h>

#include <string>

#include "base/build_info.h"

namespace acpstore::server {
namespace {

bool Has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(MetricsTest, FsyncLatencyIsACumulativeHistogramInSeconds) {
  StoreStats s;
  s.fsyncs = 6;
  s.fsync_micros_log2[0] = 1;  // < 2 µs
  s.fsync_micros_log2[7] = 3;  // [128, 256) µs
  s.fsync_micros_log2[9] = 2;  // [512, 1024) µs
  s.fsync_micros_total = 2000;
  const std::string text = Metrics().RenderPrometheus(s);
  EXPECT_TRUE(Has(text, "# TYPE acpstore_fsync_duration_seconds histogram"));
  EXPECT_TRUE(Has(text, "acpstore_fsync_duration_seconds_bucket{le=\"2e-06\"} 1"));
  EXPECT_TRUE(Has(text, "acpstore_fsync_duration_seconds_bucket{le=\"0.000128\"} 1"));
  EXPECT_TRUE(Has(text, "acpstore_fsync_duration_seconds_bucket{le=\"0.000256\"} 4"));
  EXPECT_TRUE(Has(text, "acpstore_fsync_duration_seconds_bucket{le=\"0.001024\"} 6"));
  EXPECT_TRUE(Has(text, "acpstore_fsync_duration_seconds_bucket{le=\"+Inf\"} 6"));
  EXPECT_TRUE(Has(text, "acpstore_fsync_duration_seconds_sum 0.002"));
  EXPECT_TRUE(Has(text, "acpstore_fsync_duration_seconds_count 6"));
}

TEST(MetricsTest, GroupCommitBatchesAreAHistogramOfRecords) {
  StoreStats s;
  s.batch_records_log2[0] = 4;   // single records
  s.batch_records_log2[5] = 2;   // [32, 64)
  s.batch_records_log2[15] = 1;  // the last bucket: everything larger
  s.group_commit_records = 4 + 2 * 40 + 70000;
  const std::string text = Metrics().RenderPrometheus(s);
  EXPECT_TRUE(Has(text, "acpstore_group_commit_batch_records_bucket{le=\"2\"} 4"));
  EXPECT_TRUE(Has(text, "acpstore_group_commit_batch_records_bucket{le=\"64\"} 6"));
  EXPECT_TRUE(Has(text, "acpstore_group_commit_batch_records_bucket{le=\"32768\"} 6"));
  EXPECT_TRUE(Has(text, "acpstore_group_commit_batch_records_bucket{le=\"+Inf\"} 7"));
  EXPECT_TRUE(Has(text, "acpstore_group_commit_batch_records_count 7"));
  EXPECT_TRUE(Has(text, "acpstore_group_commit_batch_records_sum 70084"));
}

// Which binary serves: the version set in CMakeLists.txt and the commit,
// as a constant 1 in /metrics and a "build" object in /v1/stats.
TEST(MetricsTest, BuildInfoIsReported) {
  const BuildInfo& b = GetBuildInfo();
  EXPECT_FALSE(b.version.empty());
  EXPECT_FALSE(b.commit.empty());
  const std::string text = Metrics().RenderPrometheus(StoreStats{});
  EXPECT_TRUE(Has(text, "# TYPE acpstore_build_info gauge"));
  EXPECT_TRUE(Has(text, "acpstore_build_info{version=\"" +
                            std::string(b.version) + "\",commit=\"" +
                            std::string(b.commit) + "\"} 1"));
  const std::string json = Metrics().RenderJson(StoreStats{}, "tenant-a");
  EXPECT_NE(json.find("\"build\":{\"version\":\"" + std::string(b.version) +
                      "\",\"commit\":\"" + std::string(b.commit) +
                      "\",\"buildType\":\""),
            std::string::npos)
      << json;
  EXPECT_EQ(BuildInfoLine().rfind("acpstore " + std::string(b.version) +
                                      " (commit " + std::string(b.commit),
                                  0),
            0u);
}

// Past kMaxServiceTenants tenants, requests are counted in one overflow
// series. It was the map entry "_other", so a tenant of that name shared it:
// its count included everyone else's overflow.
TEST(MetricsTest, TenantNamedOtherIsNotTheOverflow) {
  Metrics m;
  m.RecordServiceRequest("_other");
  for (size_t i = 0; i < Metrics::kMaxServiceTenants; ++i) {
    m.RecordServiceRequest("t" + std::to_string(i));
  }
  m.RecordServiceRequest("t999");  // still no room for it
  const std::string text = m.RenderPrometheus(StoreStats{});
  EXPECT_TRUE(Has(text, "acpstore_service_requests_total{tenant=\"_other\"} 1"))
      << text;
  EXPECT_TRUE(Has(text, "acpstore_service_requests_total{tenant=\"t998\"} 1"));
  EXPECT_EQ(text.find("tenant=\"t999\""), std::string::npos);
  EXPECT_TRUE(
      Has(text, "# TYPE acpstore_service_requests_overflow_total counter"));
  EXPECT_TRUE(Has(text, "acpstore_service_requests_overflow_total 2"));
  // /v1/stats: the admin of "_other" sees its own count; the admin of a
  // tenant counted in the overflow sees none (the overflow is others' too).
  const std::string json = m.RenderJson(StoreStats{}, "_other");
  EXPECT_NE(json.find(R"("serviceRequestsByTenant":{"_other":1})"),
            std::string::npos)
      << json;
  const std::string beyond = m.RenderJson(StoreStats{}, "t999");
  EXPECT_NE(beyond.find(R"("serviceRequestsByTenant":{})"), std::string::npos)
      << beyond;
}

}  // namespace
}  // namespace acpstore::server
