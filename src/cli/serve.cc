// RunServe: open the store and the keys, serve HTTP, wait for SIGTERM or
// SIGINT, shut down within --shutdown-timeout. See serve.h.
//
// Signals: SIGTERM and SIGINT are blocked before the first thread starts,
// so every thread inherits the mask and only sigwait() here ever sees
// them; no handler runs at an arbitrary point.
//
// Shutdown order: stop the server (no new requests, in-flight ones finish,
// SSE streams end), then destroy the store (the file engine flushes and
// snapshots), then the keys. A watchdog ends the process with exit code 1
// if that overruns --shutdown-timeout: every acknowledged write is already
// durable, so abandoning the rest loses nothing that was promised.
//
// Logging never includes a token, payload or metadata value.
//
// Thread-safety: main thread only; see serve.h.

#include "cli/serve.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "acpstore/store.h"
#include "auth/key_store.h"
#include "base/build_info.h"
#include "base/thread_name.h"
#include "cli/command.h"
#include "cli/logging.h"
#include "cli/store_watch.h"
#include "server/server.h"
#ifdef ACPSTORE_WITH_POSTGRES
#include "postgres/pg_key_store.h"
#endif

namespace acpstore::cli {
namespace {

std::string_view EngineName(Engine e) {
  switch (e) {
    case Engine::kMemory: return "memory";
    case Engine::kFile: return "file";
    case Engine::kPostgres: return "postgres";
  }
  return "?";
}

std::string SyncName(const StoreOptions& o) {
  switch (o.sync) {
    case SyncMode::kAlways: return "always";
    case SyncMode::kNone: return "none";
    case SyncMode::kInterval:
      return "interval:" + std::to_string(o.sync_interval_ms);
  }
  return "?";
}

// Ends the process if shutdown takes longer than its timeout.
class ShutdownWatchdog {
 public:
  explicit ShutdownWatchdog(int64_t timeout_ms)
      : thread_([this, timeout_ms] {
          base::NameThisThread("acp-watchdog");
          std::unique_lock<std::mutex> lock(mu_);
          if (!cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                            [this] { return done_; })) {
            spdlog::error("shutdown did not finish within {} ms; exiting "
                          "(acknowledged writes are already durable)",
                          timeout_ms);
            spdlog::default_logger()->flush();
            ::_exit(kExitFailure);
          }
        }) {}
  ~ShutdownWatchdog() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// The keys the server checks tokens against and manages (/v1/keys): one
// object, both interfaces.
struct Keys {
  std::unique_ptr<auth::Authenticator> owner;
  auth::KeyManager* manager = nullptr;

  template <typename T>
  static Keys Of(std::unique_ptr<T> keys) {
    Keys k;
    k.manager = keys.get();
    k.owner = std::move(keys);
    return k;
  }
};

void LogBootstrap(const std::optional<auth::BootstrapKey>& boot) {
  if (boot) {
    spdlog::warn("no API keys yet: created admin key {} for tenant '{}'; "
                 "its token is in {} (mode 0600). Store it and delete the "
                 "file",
                 boot->key.id, boot->key.tenant_id, boot->token_path);
  }
}

// Opens the keys, making the first admin key on a first start: the data
// directory's keys file, or with the postgres engine the database's table
// (SPEC §10), shared by every server of the schema.
Result<Keys> OpenKeys(const StoreOptions& so) {
#ifdef ACPSTORE_WITH_POSTGRES
  if (so.engine == Engine::kPostgres) {
    ACPSTORE_ASSIGN_OR_RETURN(
        std::unique_ptr<postgres::PgKeyStore> keys,
        postgres::PgKeyStore::Open(so.postgres_url, so.postgres_schema));
    ACPSTORE_ASSIGN_OR_RETURN(std::optional<auth::BootstrapKey> boot,
                              keys->EnsureBootstrapKey(so.data_dir));
    LogBootstrap(boot);
    return Keys::Of(std::move(keys));
  }
#endif
  ACPSTORE_ASSIGN_OR_RETURN(std::unique_ptr<auth::KeyStore> keys,
                            auth::KeyStore::Open(so.data_dir));
  ACPSTORE_ASSIGN_OR_RETURN(std::optional<auth::BootstrapKey> boot,
                            keys->EnsureBootstrapKey());
  LogBootstrap(boot);
  return Keys::Of(std::move(keys));
}

// "listening on 127.0.0.1:7700" for a numeric --listen (scripts and tests
// read the port from it); for a name, what it stands for as well:
// "listening on localhost:7700 (127.0.0.1:7700, [::1]:7700)".
void LogListening(const ListenAddress& listen, const server::Server& http) {
  const std::string where = FormatListen({listen.host, http.port(), {}});
  const std::vector<std::string>& endpoints = http.endpoints();
  if (endpoints.size() == 1 && endpoints[0] == where) {
    spdlog::info("listening on {}", where);
  } else {
    std::string all;
    for (const std::string& e : endpoints) all += (all.empty() ? "" : ", ") + e;
    spdlog::info("listening on {} ({})", where, all);
  }
  // Only for a name: a numeric address that cannot be bound fails Start.
  for (const std::string& skipped : http.passed_over()) {
    spdlog::info("not listening on {} ({} resolves to it, but this machine "
                 "does not have that address)",
                 skipped, listen.host);
  }
}

// The part of the shutdown budget the server may spend draining requests
// and SSE streams; the rest is for the store to flush and snapshot.
int64_t ServerDrainBudgetMs(int64_t shutdown_timeout_ms) {
  return shutdown_timeout_ms - shutdown_timeout_ms / 4;
}

server::ServerOptions ToServerOptions(const ServeConfig& c) {
  server::ServerOptions o;
  // A ServeConfig built by hand may hold a numeric host unresolved.
  o.listen_addresses = c.listen.addresses.empty()
                           ? std::vector<std::string>{c.listen.host}
                           : c.listen.addresses;
  o.port = c.listen.port;
  o.io_threads = static_cast<unsigned>(c.server.threads);
  o.max_body_bytes = c.server.max_body_bytes;
  o.max_header_bytes = c.server.max_header_bytes;
  o.max_connections = c.server.max_connections;
  o.max_sse_subscribers_total = c.server.max_subscribers;
  o.max_sse_per_key = c.server.max_subscribers_per_key;
  o.read_timeout_ms = c.server.read_timeout_ms;
  o.write_timeout_ms = c.server.write_timeout_ms;
  o.sse_buffer_bytes = c.server.sse_buffer_bytes;
  o.sse_heartbeat_ms = c.server.sse_heartbeat_ms;
  o.sse_coalesce_ms = c.server.sse_coalesce_ms;
  o.max_inflight_body_bytes = c.server.max_inflight_body_bytes;
  o.ui = c.server.ui;
  o.ui_session_ttl_ms = c.server.ui_session_ttl_ms;
  o.ui_max_sessions = c.server.ui_max_sessions;
  o.ui_secure_cookie = c.server.ui_secure_cookie;
  o.cors_origins = c.server.cors_origins;
  o.shutdown_timeout_ms = ServerDrainBudgetMs(c.shutdown_timeout_ms);
  // Every request at debug level (a busy appender would flood info); a
  // 5xx also at warn, with its server-side reason, but a 501: what the
  // operator turned off (transcripts, decision 0036) is no failure, and
  // start said it once. The entry holds no token, body or metadata value
  // by construction.
  o.request_log = [](const server::RequestLogEntry& e) {
    if (e.status >= 500 && e.status != 501) {
      spdlog::warn("{} {} -> {} ({} us) from {}: {}", e.method, e.route,
                   e.status, e.latency_us, e.remote, e.internal_error);
    } else {
      spdlog::debug("{} {} -> {} ({} us) from {}", e.method, e.route,
                    e.status, e.latency_us, e.remote);
    }
  };
  return o;
}

}  // namespace

int RunServe(const ServeConfig& config) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  SetUpLogging(config.log_format, config.log_level);
  StoreOptions so = config.store;
  // A damaged row a lease or maintenance passed over to serve the others
  // answers no request with an error, so the log is where it shows (once
  // per row; /readyz counts every meeting).
  so.on_damage = [](const Status& damage) {
    spdlog::warn("passed over a damaged row to serve the others: {}; run "
                 "`acpstore verify`",
                 damage.message());
  };
  // What the file engine's recovery worked around (a torn tail cut, a
  // damaged snapshot skipped and set aside) serves every request as if
  // nothing happened: the log is where the operator learns of it.
  so.on_recovery_damage = [](const Status& damage) {
    spdlog::warn("recovery: {}", damage.message());
  };
  spdlog::info("{} starting: engine {}, data dir {}, sync {}",
               BuildInfoLine(), EngineName(so.engine), so.data_dir,
               SyncName(so));
  // Said once here, so that each transcript request refused for it need
  // not be a warning (request_log above).
  if (so.transcript_max_bytes == 0) {
    spdlog::info("transcripts are off (--transcript-max-bytes 0): the "
                 "transcript routes answer 501 not_implemented");
  }

  Result<std::unique_ptr<Store>> store = OpenStore(so);
  if (!store) {
    spdlog::error("cannot open the {} store: {}", EngineName(so.engine),
                  store.error().ToString());
    return kExitFailure;
  }
  Result<Keys> keys = OpenKeys(so);
  if (!keys) {
    spdlog::error("cannot open the API keys: {}", keys.error().ToString());
    return kExitFailure;
  }

  auto http = std::make_unique<server::Server>(
      ToServerOptions(config), **store, *keys->owner, keys->manager);
  if (Status s = http->Start(); !s.ok()) {
    spdlog::error("cannot serve HTTP on {}: {}", FormatListen(config.listen),
                  s.ToString());
    return kExitFailure;
  }
  LogListening(config.listen, *http);
  // The file engine's counters are in memory; the postgres engine's Stats
  // counts over its tables, too costly to poll (and it has no snapshots).
  std::unique_ptr<StoreWatch> watch;
  if (so.engine == Engine::kFile) watch = std::make_unique<StoreWatch>(**store);

  int sig = 0;
  while (sigwait(&stop_signals, &sig) != 0) {
  }
  spdlog::info("received {}, shutting down (timeout {} ms)",
               sig == SIGTERM ? "SIGTERM" : "SIGINT",
               config.shutdown_timeout_ms);
  {
    ShutdownWatchdog watchdog(config.shutdown_timeout_ms);
    http->Stop();
    http.reset();
    watch.reset();  // its last check, before the store goes
    store->reset();
    keys->owner.reset();
  }
  spdlog::info("stopped");
  return kExitOk;
}

}  // namespace acpstore::cli
