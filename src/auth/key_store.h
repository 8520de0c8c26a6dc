// KeyStore: the API keys of one data directory (SPEC §6), kept in
// <data-dir>/keys.json (format: key_file.h). It is both the server's
// Authenticator and the KeyManager behind `acpstore keys` and /v1/keys.
//
// Several processes share the file: a running server and any number of
// `acpstore keys` commands. Writers serialise on flock(<data-dir>/keys.lock)
// (never the data directory's LOCK, which the server holds), re-read the
// file under that lock, and replace it atomically (temp file, O_EXCL,
// fsync, rename, fsync dir). Readers never lock: a rename is atomic. A
// background thread re-reads the file when its inode, size or mtime
// changes, so a server honours keys created or revoked elsewhere within
// reload_interval_ms (default 500 ms; SPEC asks for 2 s).
//
// Thread-safety: every method is thread-safe. Authenticate only takes a
// short in-memory lock and never touches the disk; writes (CreateKey,
// RevokeKey, EnsureBootstrapKey) block on file I/O and fsync, and on
// another process's write.
// Lifetime: the destructor stops the reload thread.

#ifndef ACPSTORE_AUTH_KEY_STORE_H_
#define ACPSTORE_AUTH_KEY_STORE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "acpstore/clock.h"
#include "acpstore/result.h"
#include "auth/key_file.h"
#include "auth/principal.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"

namespace acpstore::auth {

struct KeyStoreOptions {
  // Create the data directory (0700) if it is missing. When false a
  // missing directory is kNotFound. Default true.
  bool create_dir = true;
  // How often the background thread looks for changes made by another
  // process. 0 = no thread (one-shot tools). Default 500 ms.
  int64_t reload_interval_ms = 500;
  // Time source for createdAt/revokedAt. Borrowed; nullptr = SystemClock().
  Clock* clock = nullptr;
};

// The key made by EnsureBootstrapKey and where its token was written.
struct BootstrapKey {
  KeyInfo key;
  std::string token_path;
};

class KeyStore final : public Authenticator, public KeyManager {
 public:
  // Loads <data_dir>/keys.json (a missing file is an empty key set).
  // kCorruption naming the file when it cannot be decoded.
  static Result<std::unique_ptr<KeyStore>> Open(
      const std::string& data_dir, const KeyStoreOptions& options = {});
  ~KeyStore() override;
  KeyStore(const KeyStore&) = delete;
  KeyStore& operator=(const KeyStore&) = delete;

  Result<Principal> Authenticate(std::string_view bearer_token) override;
  Result<Principal> PrincipalOfKey(std::string_view key_id) override;
  // Moves at every Install (a reload that found the file changed, a write).
  uint64_t revision() const override { return revision_.load(); }

  Result<CreatedKey> CreateKey(const NewKey& req) override;
  Result<std::vector<KeyInfo>> ListKeys(std::string_view tenant_id) override;
  Status RevokeKey(std::string_view tenant_id, std::string_view id) override;
  Status RevokeTenantKey(std::string_view tenant_id,
                         std::string_view id) override;

  // First start (SPEC §6): when the file holds no key at all (revoked ones
  // count), creates an admin key for tenant "default" and writes its token
  // to <data-dir>/bootstrap-admin.token (0600). std::nullopt when keys
  // already exist. The token file is written before the key, so a crash in
  // between leaves a useless token file that the next start replaces,
  // never a live key whose token nobody has.
  Result<std::optional<BootstrapKey>> EnsureBootstrapKey();

  // Re-reads the file if it changed since the last load; true when it
  // did. The reload thread calls this; tests and tools may too. On failure
  // the keys loaded before stay in force.
  Result<bool> ReloadIfChanged();

  const std::string& data_dir() const { return data_dir_; }
  const std::string& keys_path() const { return keys_path_; }

 private:
  // An immutable view of the file; replaced whole on every change, so
  // Authenticate reads it without holding mu_.
  struct KeySet {
    std::vector<KeyRecord> keys;  // file order = creation order
    std::unordered_map<std::string, size_t> by_lookup;
    std::unordered_map<std::string, size_t> by_id;
    FileStamp stamp;
  };

  KeyStore(std::string data_dir, const KeyStoreOptions& options);

  std::shared_ptr<const KeySet> Current() EXCLUDES(mu_);
  void Install(std::vector<KeyRecord> keys, const FileStamp& stamp)
      EXCLUDES(mu_);
  // Under the writer lock (in-process mutex + keys.lock), re-reads the
  // file, lets `edit` change the keys, and writes them back when `edit`
  // reports a change. `edit` returns false for "nothing to write".
  template <typename Edit>
  Status Modify(Edit edit);
  // RevokeKey, and with `service_keys` false RevokeTenantKey.
  Status Revoke(std::string_view tenant_id, std::string_view id,
                bool service_keys);
  void ReloadLoop();

  const std::string data_dir_;
  const std::string keys_path_;
  const std::string lock_path_;
  const KeyStoreOptions options_;
  Clock* const clock_;

  // Serialises writers and the reload thread within this process (another
  // process is kept out by keys.lock). Held across file I/O; Authenticate
  // never takes it.
  std::mutex write_mu_;

  base::Mutex mu_;
  std::shared_ptr<const KeySet> current_ GUARDED_BY(mu_);
  std::atomic<uint64_t> revision_{0};
  base::CondVar stop_cv_;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread reload_thread_;
};

}  // namespace acpstore::auth

#endif  // ACPSTORE_AUTH_KEY_STORE_H_
