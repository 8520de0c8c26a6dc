// Prometheus text and JSON rendering of the server's and the store's
// figures. See metrics.h.

#include "server/metrics.h"

#include <cmath>
#include <cstdio>
#include <span>
#include <sstream>

#include "base/build_info.h"
#include "server/json_writer.h"

namespace acpstore::server {
namespace {

void Line(std::string* out, std::string_view name, std::string_view labels,
          double value) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", value);
  out->append(name);
  if (!labels.empty()) {
    out->push_back('{');
    out->append(labels);
    out->push_back('}');
  }
  out->push_back(' ');
  out->append(buf);
  out->push_back('\n');
}

void Line(std::string* out, std::string_view name, std::string_view labels,
          uint64_t value) {
  out->append(name);
  if (!labels.empty()) {
    out->push_back('{');
    out->append(labels);
    out->push_back('}');
  }
  out->push_back(' ');
  out->append(std::to_string(value));
  out->push_back('\n');
}

// A Prometheus label value: backslash, double quote and line feed escaped.
std::string LabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out.append("\\n");
      continue;
    }
    out.push_back(c);
  }
  return out;
}

void Head(std::string* out, std::string_view name, std::string_view type,
          std::string_view help) {
  out->append("# HELP ").append(name).append(" ").append(help).append("\n");
  out->append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void Metric(std::string* out, std::string_view name, std::string_view type,
            std::string_view help, uint64_t value) {
  Head(out, name, type, help);
  Line(out, name, "", value);
}

uint64_t U(int64_t v) { return v < 0 ? 0 : static_cast<uint64_t>(v); }

double BatchSize(const StoreStats& s) {
  return s.fsyncs == 0 ? 0.0
                       : static_cast<double>(s.group_commit_records) /
                             static_cast<double>(s.fsyncs);
}

constexpr SessionStatus kStatuses[] = {
    SessionStatus::kInitializing, SessionStatus::kIdle,
    SessionStatus::kRunning,      SessionStatus::kPaused,
    SessionStatus::kIntervening,  SessionStatus::kClosing,
    SessionStatus::kClosed,       SessionStatus::kFailed};

}  // namespace

std::string_view MethodLabel(std::string_view method) {
  for (std::string_view m :
       {"GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "OPTIONS"}) {
    if (method == m) return m;
  }
  return "OTHER";
}

void LatencyHistogram::Observe(int64_t micros) {
  if (micros < 0) micros = 0;
  const double seconds = static_cast<double>(micros) / 1e6;
  for (size_t i = 0; i < kBounds.size(); ++i) {
    if (seconds <= kBounds[i]) {
      buckets_[i].fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(static_cast<uint64_t>(micros), std::memory_order_relaxed);
}

void LatencyHistogram::Render(std::string_view name, std::string_view labels,
                              std::string* out) const {
  const std::string bucket = std::string(name) + "_bucket";
  const std::string sep = labels.empty() ? "" : std::string(labels) + ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    char le[32];
    std::snprintf(le, sizeof(le), "%g", kBounds[i]);
    Line(out, bucket, sep + "le=\"" + le + "\"", cumulative);
  }
  Line(out, bucket, sep + "le=\"+Inf\"", count());
  Line(out, std::string(name) + "_sum", labels,
       static_cast<double>(sum_us_.load(std::memory_order_relaxed)) / 1e6);
  Line(out, std::string(name) + "_count", labels, count());
}

namespace {

void RenderLog2Histogram(std::string_view name,
                         std::span<const uint64_t> log2_buckets, double unit,
                         double sum, std::string* out) {
  // Bucket i counts [2^i, 2^(i+1)) units; Prometheus buckets are
  // cumulative with an inclusive upper bound, so bucket i's bound is
  // 2^(i+1) units (exact for the integer units these come from).
  const std::string bucket = std::string(name) + "_bucket";
  uint64_t cumulative = 0;
  for (size_t i = 0; i + 1 < log2_buckets.size(); ++i) {
    cumulative += log2_buckets[i];
    std::ostringstream le;
    le << "le=\"" << std::ldexp(unit, static_cast<int>(i) + 1) << "\"";
    Line(out, bucket, le.str(), cumulative);
  }
  cumulative += log2_buckets.back();
  Line(out, bucket, "le=\"+Inf\"", cumulative);
  Line(out, std::string(name) + "_sum", "", sum);
  Line(out, std::string(name) + "_count", "", cumulative);
}

}  // namespace

void Metrics::RecordRequest(std::string_view method, std::string_view route,
                            int status, int64_t latency_us) {
  base::MutexLock lock(&mu_);
  ++requests_[{std::string(MethodLabel(method)), std::string(route), status}];
  request_latency_.try_emplace(std::string(route))
      .first->second.Observe(latency_us);
}

void Metrics::RecordServiceRequest(std::string_view tenant) {
  base::MutexLock lock(&mu_);
  auto it = service_requests_.find(tenant);
  if (it != service_requests_.end()) {
    ++it->second;
  } else if (service_requests_.size() < kMaxServiceTenants) {
    service_requests_.emplace(std::string(tenant), 1);
  } else {
    ++service_requests_overflow_;
  }
}

void Metrics::RecordAppend(int64_t latency_us, size_t events) {
  append_latency_.Observe(latency_us);
  Add(events_appended_http_, static_cast<int64_t>(events));
}

std::string Metrics::RenderPrometheus(const StoreStats& s) const {
  std::string out;
  out.reserve(8192);
  // The usual Prometheus idiom for "which build is this": a constant 1
  // whose labels are the build's facts.
  const BuildInfo& build = GetBuildInfo();
  Head(&out, "acpstore_build_info", "gauge",
       "The release and git commit of this binary (always 1).");
  Line(&out, "acpstore_build_info",
       "version=\"" + LabelValue(build.version) + "\",commit=\"" +
           LabelValue(build.commit) + "\"",
       uint64_t{1});
  {
    base::MutexLock lock(&mu_);
    Head(&out, "acpstore_http_requests_total", "counter",
         "HTTP responses by method, route template and status code.");
    for (const auto& [key, n] : requests_) {
      const auto& [method, route, code] = key;
      std::string labels = "method=\"";
      labels.append(method).append("\",route=\"").append(route);
      labels.append("\",code=\"").append(std::to_string(code)).append("\"");
      Line(&out, "acpstore_http_requests_total", labels, n);
    }
    Head(&out, "acpstore_service_requests_total", "counter",
         "HTTP requests by service keys, by the tenant they acted in.");
    for (const auto& [tenant, n] : service_requests_) {
      Line(&out, "acpstore_service_requests_total",
           "tenant=\"" + LabelValue(tenant) + "\"", n);
    }
    Metric(&out, "acpstore_service_requests_overflow_total", "counter",
           "HTTP requests by service keys in the tenants beyond the first " +
               std::to_string(kMaxServiceTenants) +
               " of acpstore_service_requests_total.",
           service_requests_overflow_);
    Head(&out, "acpstore_http_request_duration_seconds", "histogram",
         "Time from a complete request to its response, by route.");
    for (const auto& [route, h] : request_latency_) {
      h.Render("acpstore_http_request_duration_seconds",
               "route=\"" + route + "\"", &out);
    }
  }
  Head(&out, "acpstore_append_duration_seconds", "histogram",
       "Event append latency through the HTTP API, until durable.");
  append_latency_.Render("acpstore_append_duration_seconds", "", &out);
  Metric(&out, "acpstore_http_connections_open", "gauge",
         "Open HTTP connections.", U(connections_open_.load()));
  Metric(&out, "acpstore_http_connections_total", "counter",
         "Accepted HTTP connections.", U(connections_total_.load()));
  Metric(&out, "acpstore_http_connections_rejected_total", "counter",
         "Connections refused at the connection cap.",
         U(connections_rejected_.load()));
  Metric(&out, "acpstore_http_request_timeouts_total", "counter",
         "Requests answered 408 because the client was too slow.",
         U(request_timeouts_.load()));
  Metric(&out, "acpstore_sse_subscribers", "gauge",
         "Open server-sent-event streams.", U(sse_subscribers_.load()));
  Metric(&out, "acpstore_sse_streams_total", "counter",
         "Server-sent-event streams opened.", U(sse_streams_total_.load()));
  Metric(&out, "acpstore_sse_slow_disconnects_total", "counter",
         "SSE clients disconnected for not reading.",
         U(sse_slow_disconnects_.load()));
  Metric(&out, "acpstore_sse_events_sent_total", "counter",
         "Events written to SSE streams.", U(sse_events_sent_.load()));
  Metric(&out, "acpstore_sse_frames_shared_total", "counter",
         "SSE event frames taken from the shared frame cache, not rebuilt.",
         U(sse_frames_shared_.load()));
  Metric(&out, "acpstore_sse_writes_total", "counter",
         "Socket writes of SSE streams (heads, frames, pings).",
         U(sse_writes_.load()));

  Head(&out, "acpstore_sessions", "gauge", "Sessions by status.");
  for (SessionStatus st : kStatuses) {
    Line(&out, "acpstore_sessions",
         "status=\"" + std::string(ToString(st)) + "\"",
         s.sessions_by_status[static_cast<size_t>(st)]);
  }
  Metric(&out, "acpstore_events_retained", "gauge",
         "Events currently readable.", s.events_retained);
  Metric(&out, "acpstore_event_payload_bytes", "gauge",
         "Canonical payload bytes of retained events.", s.event_payload_bytes);
  Metric(&out, "acpstore_actions", "gauge", "Actions stored.", s.actions);
  Metric(&out, "acpstore_pauses", "gauge", "Pause records stored.", s.pauses);
  Metric(&out, "acpstore_events_appended_total", "counter",
         "Events appended since the store opened.", s.events_appended);
  Metric(&out, "acpstore_retention_events_dropped_total", "counter",
         "Events dropped by retention since the store opened.",
         s.events_dropped_retention);
  Metric(&out, "acpstore_store_subscriptions", "gauge",
         "Live subscriptions in the store.", s.subscriptions);
  Metric(&out, "acpstore_journal_bytes", "gauge", "Journal bytes on disk.",
         s.journal_bytes);
  Metric(&out, "acpstore_snapshot_bytes", "gauge", "Snapshot bytes on disk.",
         s.snapshot_bytes);
  Metric(&out, "acpstore_fsyncs_total", "counter", "Journal fdatasync calls.",
         s.fsyncs);
  Metric(&out, "acpstore_group_commit_records_total", "counter",
         "Journal records committed by those fsyncs.", s.group_commit_records);
  Head(&out, "acpstore_fsync_duration_seconds", "histogram",
       "Journal fdatasync latency.");
  RenderLog2Histogram("acpstore_fsync_duration_seconds", s.fsync_micros_log2,
                      1e-6, static_cast<double>(s.fsync_micros_total) / 1e6,
                      &out);
  Head(&out, "acpstore_group_commit_batch_records", "histogram",
       "Journal records per group commit (one write and one fsync each).");
  RenderLog2Histogram("acpstore_group_commit_batch_records",
                      s.batch_records_log2, 1.0,
                      static_cast<double>(s.group_commit_records), &out);
  Head(&out, "acpstore_group_commit_batch_size", "gauge",
       "Mean records per fsync (group commit batch size).");
  Line(&out, "acpstore_group_commit_batch_size", "", BatchSize(s));
  Head(&out, "acpstore_memory_bytes", "gauge", "Store memory by kind.");
  Line(&out, "acpstore_memory_bytes", "kind=\"index\"", s.memory_index_bytes);
  Line(&out, "acpstore_memory_bytes", "kind=\"payload_cache\"",
       s.memory_cache_bytes);
  Line(&out, "acpstore_memory_bytes", "kind=\"transcript\"",
       s.memory_transcript_bytes);
  Metric(&out, "acpstore_transcript_evicted_bytes", "gauge",
         "Bytes of the transcripts whose entries are on disk, not in memory.",
         s.transcript_evicted_bytes);
  Metric(&out, "acpstore_transcripts_evicted", "gauge",
         "Transcripts whose entries are on disk, not in memory.",
         s.transcripts_evicted);
  Head(&out, "acpstore_recovery_seconds", "gauge",
       "Time the store took to recover when it opened.");
  Line(&out, "acpstore_recovery_seconds", "",
       static_cast<double>(s.recovery_ms) / 1000.0);
  Metric(&out, "acpstore_snapshot_failures_total", "counter",
         "Snapshots that could not be written (file engine).",
         s.snapshots_failed);
  Metric(&out, "acpstore_torn_tail_truncations_total", "counter",
         "Torn journal tails truncated during recovery.",
         s.torn_tail_truncations);
  Metric(&out, "acpstore_data_loss_reads_total", "counter",
         "Reads that found a stored record failing its checksum "
         "(postgres: not decoding).",
         s.data_loss_reads);
  Metric(&out, "acpstore_notifications_dropped_total", "counter",
         "Live-event notifications to other servers dropped (postgres); "
         "their streams wait for the once-a-second recheck instead.",
         s.notifications_dropped);
  return out;
}

std::string Metrics::RenderJson(const StoreStats& s,
                                std::string_view tenant) const {
  JsonWriter w;
  w.BeginObject();
  w.Key("store").BeginObject();
  w.Key("sessions").Uint(s.sessions);
  w.Key("sessionsByStatus").BeginObject();
  for (SessionStatus st : kStatuses) {
    w.Key(ToString(st)).Uint(s.sessions_by_status[static_cast<size_t>(st)]);
  }
  w.EndObject();
  w.Key("eventsRetained").Uint(s.events_retained);
  w.Key("eventPayloadBytes").Uint(s.event_payload_bytes);
  w.Key("actions").Uint(s.actions);
  w.Key("pauses").Uint(s.pauses);
  w.Key("eventsAppended").Uint(s.events_appended);
  w.Key("eventsDroppedRetention").Uint(s.events_dropped_retention);
  w.Key("subscriptions").Uint(s.subscriptions);
  w.Key("journalBytes").Uint(s.journal_bytes);
  w.Key("snapshotBytes").Uint(s.snapshot_bytes);
  w.Key("fsyncs").Uint(s.fsyncs);
  w.Key("groupCommitRecords").Uint(s.group_commit_records);
  w.Key("groupCommitBatchSize").Raw([&] {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.3f", BatchSize(s));
    return std::string(buf);
  }());
  w.Key("memory").BeginObject();
  w.Key("indexBytes").Uint(s.memory_index_bytes);
  w.Key("payloadCacheBytes").Uint(s.memory_cache_bytes);
  w.Key("transcriptBytes").Uint(s.memory_transcript_bytes);
  w.Key("transcriptEvictedBytes").Uint(s.transcript_evicted_bytes);
  w.EndObject();
  w.Key("transcriptsEvicted").Uint(s.transcripts_evicted);
  w.Key("transcriptsIncomplete").Uint(s.transcripts_incomplete);
  w.Key("recoveryMs").Int(s.recovery_ms);
  w.Key("tornTailTruncations").Uint(s.torn_tail_truncations);
  w.Key("snapshotsFailed").Uint(s.snapshots_failed);
  w.Key("dataLossReads").Uint(s.data_loss_reads);
  w.Key("notificationsDropped").Uint(s.notifications_dropped);
  w.EndObject();

  w.Key("http").BeginObject();
  uint64_t total = 0;
  std::map<int, uint64_t> by_code;
  {
    base::MutexLock lock(&mu_);
    for (const auto& [key, n] : requests_) {
      total += n;
      by_code[std::get<2>(key)] += n;
    }
  }
  w.Key("requests").Uint(total);
  // Still an object keyed by tenant, as when it listed every tenant, so
  // readers of that shape keep working.
  w.Key("serviceRequestsByTenant").BeginObject();
  {
    base::MutexLock lock(&mu_);
    if (auto it = service_requests_.find(tenant);
        it != service_requests_.end()) {
      w.Key(tenant).Uint(it->second);
    }
  }
  w.EndObject();
  w.Key("requestsByCode").BeginObject();
  for (const auto& [code, n] : by_code) w.Key(std::to_string(code)).Uint(n);
  w.EndObject();
  w.Key("appends").Uint(append_latency_.count());
  w.Key("eventsAppended").Uint(U(events_appended_http_.load()));
  w.Key("connectionsOpen").Uint(U(connections_open_.load()));
  w.Key("connectionsTotal").Uint(U(connections_total_.load()));
  w.Key("connectionsRejected").Uint(U(connections_rejected_.load()));
  w.Key("requestTimeouts").Uint(U(request_timeouts_.load()));
  w.EndObject();

  w.Key("sse").BeginObject();
  w.Key("subscribers").Uint(U(sse_subscribers_.load()));
  w.Key("streamsTotal").Uint(U(sse_streams_total_.load()));
  w.Key("slowDisconnects").Uint(U(sse_slow_disconnects_.load()));
  w.Key("eventsSent").Uint(U(sse_events_sent_.load()));
  w.Key("framesShared").Uint(U(sse_frames_shared_.load()));
  w.Key("writes").Uint(U(sse_writes_.load()));
  w.EndObject();

  const BuildInfo& build = GetBuildInfo();
  w.Key("build").BeginObject();
  w.Key("version").String(build.version);
  w.Key("commit").String(build.commit);
  w.Key("buildType").String(build.build_type);
  w.Key("compiler").String(build.compiler);
  w.EndObject();
  w.EndObject();
  return w.Take();
}

}  // namespace acpstore::server
