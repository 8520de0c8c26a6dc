// KeyStore over <data-dir>/keys.json. See key_store.h for the sharing
// protocol between processes.
//
// Thread-safety: see key_store.h.

#include "auth/key_store.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "auth/token.h"
#include "base/thread_name.h"
#include "base/uuid.h"
#include "io/file_system.h"

namespace acpstore::auth {
namespace {

constexpr std::string_view kBootstrapTenant = "default";
constexpr std::string_view kBootstrapName = "bootstrap";

// flock(LOCK_EX) on keys.lock for the lifetime of the object. Blocking:
// another writer holds it for one small read-modify-write at most.
class KeysLock {
 public:
  static Result<KeysLock> Acquire(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return Error("open", path, errno);
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return Error("flock", path, err);
    }
    return KeysLock(fd);
  }
  KeysLock(KeysLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  KeysLock& operator=(KeysLock&&) = delete;
  ~KeysLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the flock
  }

 private:
  explicit KeysLock(int fd) : fd_(fd) {}
  static Status Error(std::string_view op, const std::string& path, int err) {
    return Status::IoError(std::string(op) + " " + path + ": " +
                           std::strerror(err))
        .With("errno", static_cast<int64_t>(err));
  }
  int fd_;
};

bool HasId(const std::vector<KeyRecord>& keys, std::string_view id) {
  for (const KeyRecord& k : keys) {
    if (k.info.id == id) return true;
  }
  return false;
}

bool HasLookup(const std::vector<KeyRecord>& keys, std::string_view lookup) {
  for (const KeyRecord& k : keys) {
    if (k.lookup == lookup) return true;
  }
  return false;
}

// Adds a key to `keys` and returns it with its token. Fields are checked.
Result<CreatedKey> AddKey(std::vector<KeyRecord>& keys, const NewKey& req,
                          TimestampMs now) {
  ACPSTORE_RETURN_IF_ERROR(CheckKeyIdentifier("tenantId", req.tenant_id));
  ACPSTORE_RETURN_IF_ERROR(CheckKeyName(req.name));
  KeyRecord rec;
  if (req.id) {
    ACPSTORE_RETURN_IF_ERROR(CheckNewKeyId(*req.id));
    if (HasId(keys, *req.id)) {
      // Revoked keys are kept precisely so that this check covers them.
      return Status::Conflict("key id '" + *req.id +
                              "' exists (ids are never reused)")
          .With("field", "id");
    }
    rec.info.id = *req.id;
  } else {
    do {
      rec.info.id = "key_" + base::RandomHex128().substr(0, 16);
    } while (HasId(keys, rec.info.id));
  }
  do {
    rec.lookup = NewLookup();
  } while (HasLookup(keys, rec.lookup));
  if (!req.tenants.empty() && req.role != Role::kService) {
    return Status::InvalidArgument("tenants applies to service keys only")
        .With("field", "tenants");
  }
  for (const std::string& t : req.tenants) {
    ACPSTORE_RETURN_IF_ERROR(CheckKeyIdentifier("tenants", t));
  }
  rec.info.tenant_id = req.tenant_id;
  rec.info.tenants = req.tenants;
  rec.info.role = req.role;
  rec.info.name = req.name;
  rec.info.created_at = now;
  CreatedKey created;
  created.token = NewToken(rec.lookup);
  rec.digest = Sha256(created.token);
  created.key = rec.info;
  keys.push_back(std::move(rec));
  return created;
}

}  // namespace

Result<std::unique_ptr<KeyStore>> KeyStore::Open(
    const std::string& data_dir, const KeyStoreOptions& options) {
  if (options.create_dir) {
    ACPSTORE_RETURN_IF_ERROR(io::PosixFileSystem().CreateDir(data_dir));
  } else {
    struct stat st;
    if (::stat(data_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return Status::NotFound("data directory '" + data_dir +
                              "' does not exist");
    }
  }
  std::unique_ptr<KeyStore> store(new KeyStore(data_dir, options));
  ACPSTORE_ASSIGN_OR_RETURN(LoadedKeyFile loaded,
                            LoadKeyFile(store->keys_path_));
  store->Install(std::move(loaded.keys), loaded.stamp);
  if (options.reload_interval_ms > 0) {
    store->reload_thread_ = std::thread([s = store.get()] {
      base::NameThisThread("acp-keys");
      s->ReloadLoop();
    });
  }
  return store;
}

KeyStore::KeyStore(std::string data_dir, const KeyStoreOptions& options)
    : data_dir_(std::move(data_dir)),
      keys_path_(io::JoinPath(data_dir_, kKeyFileName)),
      lock_path_(io::JoinPath(data_dir_, kKeyLockFileName)),
      options_(options),
      clock_(options.clock != nullptr ? options.clock : SystemClock()),
      current_(std::make_shared<const KeySet>()) {}

KeyStore::~KeyStore() {
  {
    base::MutexLock lock(&mu_);
    stopping_ = true;
    stop_cv_.SignalAll();
  }
  if (reload_thread_.joinable()) reload_thread_.join();
}

std::shared_ptr<const KeyStore::KeySet> KeyStore::Current() {
  base::MutexLock lock(&mu_);
  return current_;
}

void KeyStore::Install(std::vector<KeyRecord> keys, const FileStamp& stamp) {
  auto set = std::make_shared<KeySet>();
  set->keys = std::move(keys);
  for (size_t i = 0; i < set->keys.size(); ++i) {
    set->by_lookup.emplace(set->keys[i].lookup, i);
    set->by_id.emplace(set->keys[i].info.id, i);
  }
  set->stamp = stamp;
  {
    base::MutexLock lock(&mu_);
    current_ = std::move(set);
  }
  revision_.fetch_add(1);
}

Result<Principal> KeyStore::Authenticate(std::string_view bearer_token) {
  // No message below may quote the token, not even a prefix of it.
  if (bearer_token.empty()) return Status::Unauthenticated("missing API token");
  std::optional<ParsedToken> parsed = ParseToken(bearer_token);
  if (!parsed) return Status::Unauthenticated("malformed API token");
  std::shared_ptr<const KeySet> set = Current();
  const Digest digest = Sha256(bearer_token);
  auto it = set->by_lookup.find(std::string(parsed->lookup));
  // The lookup handle is not secret, so finding it may take variable time;
  // the secret itself is only ever checked by the constant-time compare.
  if (it == set->by_lookup.end()) {
    return Status::Unauthenticated("unknown API token");
  }
  const KeyRecord& key = set->keys[it->second];
  if (!DigestsEqual(digest, key.digest)) {
    return Status::Unauthenticated("unknown API token");
  }
  if (key.info.revoked_at) {
    return Status::Unauthenticated("revoked API token");
  }
  return Principal{key.info.tenant_id, key.info.id, key.info.role,
                   key.info.tenants};
}

Result<Principal> KeyStore::PrincipalOfKey(std::string_view key_id) {
  std::shared_ptr<const KeySet> set = Current();
  auto it = set->by_id.find(std::string(key_id));
  if (it == set->by_id.end()) return Status::Unauthenticated("unknown API key");
  const KeyRecord& key = set->keys[it->second];
  if (key.info.revoked_at) return Status::Unauthenticated("revoked API key");
  return Principal{key.info.tenant_id, key.info.id, key.info.role,
                   key.info.tenants};
}

template <typename Edit>
Status KeyStore::Modify(Edit edit) {
  std::lock_guard<std::mutex> writer(write_mu_);
  ACPSTORE_ASSIGN_OR_RETURN(KeysLock lock, KeysLock::Acquire(lock_path_));
  // Re-read under the lock: another process may have written since our
  // last reload, and its keys must survive our write.
  ACPSTORE_ASSIGN_OR_RETURN(LoadedKeyFile loaded, LoadKeyFile(keys_path_));
  std::vector<KeyRecord> keys = std::move(loaded.keys);
  ACPSTORE_ASSIGN_OR_RETURN(bool changed, edit(keys));
  if (!changed) {
    Install(std::move(keys), loaded.stamp);
    return Status::OK();
  }
  ACPSTORE_RETURN_IF_ERROR(io::WriteFileAtomically(
      io::PosixFileSystem(), keys_path_, EncodeKeyFile(keys)));
  ACPSTORE_ASSIGN_OR_RETURN(FileStamp stamp, StatKeyFile(keys_path_));
  Install(std::move(keys), stamp);
  return Status::OK();
}

Result<CreatedKey> KeyStore::CreateKey(const NewKey& req) {
  std::optional<CreatedKey> created;
  Status s = Modify([&](std::vector<KeyRecord>& keys) -> Result<bool> {
    ACPSTORE_ASSIGN_OR_RETURN(created, AddKey(keys, req, clock_->NowMs()));
    return true;
  });
  if (!s.ok()) return s;
  return std::move(*created);
}

Result<std::vector<KeyInfo>> KeyStore::ListKeys(std::string_view tenant_id) {
  // Cheap (one stat) and makes a listing right after another process's
  // write exact instead of up to one reload interval late.
  Result<bool> reloaded = ReloadIfChanged();
  if (!reloaded) return std::move(reloaded).error();
  std::vector<KeyInfo> out;
  for (const KeyRecord& k : Current()->keys) {
    if (tenant_id.empty() || k.info.tenant_id == tenant_id) {
      out.push_back(k.info);
    }
  }
  return out;
}

Status KeyStore::RevokeKey(std::string_view tenant_id, std::string_view id) {
  return Revoke(tenant_id, id, /*service_keys=*/true);
}

Status KeyStore::RevokeTenantKey(std::string_view tenant_id,
                                 std::string_view id) {
  return Revoke(tenant_id, id, /*service_keys=*/false);
}

Status KeyStore::Revoke(std::string_view tenant_id, std::string_view id,
                        bool service_keys) {
  return Modify([&](std::vector<KeyRecord>& keys) -> Result<bool> {
    for (KeyRecord& k : keys) {
      if (k.info.id != id) continue;
      if (!tenant_id.empty() && k.info.tenant_id != tenant_id) break;
      if (!service_keys && k.info.role == Role::kService) break;
      if (k.info.revoked_at) return false;  // revoking twice is OK
      k.info.revoked_at = clock_->NowMs();
      return true;
    }
    return Status::NotFound("no key '" + std::string(id) + "'");
  });
}

Result<std::optional<BootstrapKey>> KeyStore::EnsureBootstrapKey() {
  std::optional<BootstrapKey> made;
  const std::string token_path =
      io::JoinPath(data_dir_, kBootstrapTokenFileName);
  Status s = Modify([&](std::vector<KeyRecord>& keys) -> Result<bool> {
    if (!keys.empty()) return false;
    NewKey req{.tenant_id = std::string(kBootstrapTenant),
               .role = Role::kAdmin,
               .name = std::string(kBootstrapName)};
    ACPSTORE_ASSIGN_OR_RETURN(CreatedKey created,
                              AddKey(keys, req, clock_->NowMs()));
    ACPSTORE_RETURN_IF_ERROR(io::WriteFileAtomically(
        io::PosixFileSystem(), token_path, created.token + "\n"));
    made = BootstrapKey{std::move(created.key), token_path};
    return true;
  });
  if (!s.ok()) return s;
  return made;
}

Result<bool> KeyStore::ReloadIfChanged() {
  std::lock_guard<std::mutex> writer(write_mu_);
  ACPSTORE_ASSIGN_OR_RETURN(FileStamp now, StatKeyFile(keys_path_));
  if (now == Current()->stamp) return false;
  ACPSTORE_ASSIGN_OR_RETURN(LoadedKeyFile loaded, LoadKeyFile(keys_path_));
  Install(std::move(loaded.keys), loaded.stamp);
  return true;
}

void KeyStore::ReloadLoop() {
  const auto interval = std::chrono::milliseconds(options_.reload_interval_ms);
  std::string last_error;
  for (;;) {
    {
      base::MutexLock lock(&mu_);
      if (!stopping_) stop_cv_.WaitFor(&mu_, interval);
      if (stopping_) return;
    }
    Result<bool> reloaded = ReloadIfChanged();
    if (!reloaded) {
      // Once per distinct failure, not every interval.
      std::string error = reloaded.error().ToString();
      if (error != last_error) {
        spdlog::warn("keys: cannot reload {}, keeping the keys loaded "
                     "before: {}", keys_path_, error);
        last_error = std::move(error);
      }
      continue;
    }
    if (!last_error.empty()) {
      spdlog::info("keys: {} readable again", keys_path_);
      last_error.clear();
    }
    if (*reloaded) {
      spdlog::info("keys: reloaded {} ({} keys)", keys_path_,
                   Current()->keys.size());
    }
  }
}

}  // namespace acpstore::auth
