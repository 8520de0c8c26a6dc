// Metrics: the server's counters, gauges and histograms, rendered by hand
// as Prometheus text (GET /metrics) and as JSON (GET /v1/stats), together
// with the store's StoreStats.
//
// Labels come from closed sets (route templates, normalised methods,
// status codes), with one exception: the tenant ids service keys acted in
// (SPEC §6), at most kMaxServiceTenants of them. No record, payload or
// secret ever appears here. /metrics has no credentials and shows those
// tenant ids to whoever reaches it (the operator's network, SPEC §5.5);
// /v1/stats is read by the admin of one tenant and shows that tenant's
// alone (decision 0037).
//
// Thread-safety: every method may be called from any thread. Lifetime:
// owned by the Server.

#ifndef ACPSTORE_SERVER_METRICS_H_
#define ACPSTORE_SERVER_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>

#include "acpstore/store.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"

namespace acpstore::server {

// Cumulative histogram of durations with fixed buckets (seconds).
class LatencyHistogram {
 public:
  static constexpr std::array<double, 14> kBounds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
      0.1,    0.25,  0.5,    1,     2.5,  5,     10};

  void Observe(int64_t micros);
  // Appends "<name>_bucket{<labels>le=...} n" lines, _sum and _count.
  void Render(std::string_view name, std::string_view labels,
              std::string* out) const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::array<std::atomic<uint64_t>, kBounds.size()> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_us_{0};
};

class Metrics {
 public:
  // `route` must be a template with static storage (router.cc) or "-".
  void RecordRequest(std::string_view method, std::string_view route,
                     int status, int64_t latency_us);
  void RecordAppend(int64_t latency_us, size_t events);
  // One request by a service key acting in `tenant` (SPEC §6). At most
  // kMaxServiceTenants tenants get their own series; the requests in any
  // further tenant are counted together, in a series of their own that no
  // tenant id can name (a service key may name any tenant), so a service
  // key cannot grow /metrics without bound.
  void RecordServiceRequest(std::string_view tenant);
  static constexpr size_t kMaxServiceTenants = 1000;

  void ConnectionOpened() {
    Add(connections_open_, 1);
    Add(connections_total_, 1);
  }
  void ConnectionClosed() { Add(connections_open_, -1); }
  void ConnectionRejected() { Add(connections_rejected_, 1); }
  void RequestTimedOut() { Add(request_timeouts_, 1); }
  void SseOpened() {
    Add(sse_subscribers_, 1);
    Add(sse_streams_total_, 1);
  }
  void SseClosed() { Add(sse_subscribers_, -1); }
  void SseSlowClientDropped() { Add(sse_slow_disconnects_, 1); }
  void SseEventsSent(uint64_t n) {
    Add(sse_events_sent_, static_cast<int64_t>(n));
  }
  // Socket writes of SSE streams (head, frames, pings): with events per
  // write, what coalescing saves (decision 0025).
  void SseWrite() { Add(sse_writes_, 1); }
  // Of those, frames taken from the shared SseFrameCache.
  void SseFramesShared(uint64_t n) {
    Add(sse_frames_shared_, static_cast<int64_t>(n));
  }

  int64_t sse_subscribers() const { return sse_subscribers_.load(); }
  int64_t connections_open() const { return connections_open_.load(); }

  std::string RenderPrometheus(const StoreStats& stats) const;
  // For GET /v1/stats, called by the admin of `tenant`: the service
  // requests of that tenant only, never another's nor the overflow count
  // (SPEC §6: no role sees another tenant). The other figures are the
  // server's, over every tenant, and name none.
  std::string RenderJson(const StoreStats& stats,
                         std::string_view tenant) const;

 private:
  static void Add(std::atomic<int64_t>& v, int64_t d) {
    v.fetch_add(d, std::memory_order_relaxed);
  }

  mutable base::Mutex mu_;
  // (method, route, status) -> count
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_
      GUARDED_BY(mu_);
  // route -> latency
  std::map<std::string, LatencyHistogram> request_latency_ GUARDED_BY(mu_);
  LatencyHistogram append_latency_;  // its own atomics
  // tenant -> requests by service keys acting in it, and the requests in
  // tenants beyond the first kMaxServiceTenants.
  std::map<std::string, uint64_t, std::less<>> service_requests_
      GUARDED_BY(mu_);
  uint64_t service_requests_overflow_ GUARDED_BY(mu_) = 0;
  std::atomic<int64_t> events_appended_http_{0};

  std::atomic<int64_t> connections_open_{0};
  std::atomic<int64_t> connections_total_{0};
  std::atomic<int64_t> connections_rejected_{0};
  std::atomic<int64_t> request_timeouts_{0};
  std::atomic<int64_t> sse_subscribers_{0};
  std::atomic<int64_t> sse_streams_total_{0};
  std::atomic<int64_t> sse_slow_disconnects_{0};
  std::atomic<int64_t> sse_events_sent_{0};
  std::atomic<int64_t> sse_frames_shared_{0};
  std::atomic<int64_t> sse_writes_{0};
};

// Normalises an HTTP method for labels: the known ones, else "OTHER".
std::string_view MethodLabel(std::string_view method);

}  // namespace acpstore::server

#endif  // ACPSTORE_SERVER_METRICS_H_
