// The keys file codec (Boost.JSON) and its reader. See key_file.h.
//
// Thread-safety: pure functions plus reads of one file.

#include "auth/key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <set>

#include "base/format_version.h"
#include "base/time_format.h"
#include "record/utf8.h"

namespace acpstore::auth {
namespace {

namespace json = boost::json;

constexpr size_t kMaxFieldBytes = 256;

Status FileError(std::string_view op, const std::string& path, int err) {
  return Status::IoError(std::string(op) + " " + path + ": " +
                         std::strerror(err))
      .With("errno", static_cast<int64_t>(err));
}

FileStamp StampOf(const struct stat& st) {
  FileStamp s;
  s.exists = true;
  s.dev = st.st_dev;
  s.ino = st.st_ino;
  s.size = st.st_size;
  s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
               st.st_mtim.tv_nsec;
  return s;
}

Status Bad(std::string_view path, size_t index, std::string_view why) {
  return Status::Corruption(std::string(path) + ": key #" +
                            std::to_string(index + 1) + ": " +
                            std::string(why));
}

// The string member `name` of `obj`, or nullptr.
const json::string* StringField(const json::object& obj, std::string_view name) {
  const json::value* v = obj.if_contains(name);
  return v == nullptr ? nullptr : v->if_string();
}

std::string_view View(const json::string& s) { return {s.data(), s.size()}; }

Result<KeyRecord> DecodeKey(const json::value& v, std::string_view path,
                            size_t index) {
  const json::object* obj = v.if_object();
  if (obj == nullptr) return Bad(path, index, "not an object");
  KeyRecord rec;
  const json::string* id = StringField(*obj, "id");
  const json::string* tenant = StringField(*obj, "tenantId");
  const json::string* role = StringField(*obj, "role");
  const json::string* name = StringField(*obj, "name");
  const json::string* created = StringField(*obj, "createdAt");
  const json::string* lookup = StringField(*obj, "lookup");
  const json::string* sha = StringField(*obj, "sha256");
  if (id == nullptr || tenant == nullptr || role == nullptr ||
      created == nullptr || lookup == nullptr || sha == nullptr) {
    return Bad(path, index,
               "missing one of id, tenantId, role, createdAt, lookup, sha256");
  }
  rec.info.id = View(*id);
  rec.info.tenant_id = View(*tenant);
  if (!CheckKeyIdentifier("id", rec.info.id).ok() ||
      !CheckKeyIdentifier("tenantId", rec.info.tenant_id).ok()) {
    return Bad(path, index, "bad id or tenantId");
  }
  std::optional<Role> r = ParseRole(View(*role));
  if (!r) return Bad(path, index, "unknown role");
  rec.info.role = *r;
  if (name != nullptr) rec.info.name = View(*name);
  std::optional<TimestampMs> created_at = base::ParseIso8601(View(*created));
  if (!created_at) return Bad(path, index, "bad createdAt");
  rec.info.created_at = *created_at;
  if (const json::value* rv = obj->if_contains("revokedAt");
      rv != nullptr && !rv->is_null()) {
    std::optional<TimestampMs> revoked_at;
    if (rv->is_string()) revoked_at = base::ParseIso8601(View(rv->get_string()));
    if (!revoked_at) return Bad(path, index, "bad revokedAt");
    rec.info.revoked_at = *revoked_at;
  }
  if (const json::value* tv = obj->if_contains("tenants"); tv != nullptr) {
    const json::array* arr = tv->if_array();
    if (arr == nullptr || rec.info.role != Role::kService) {
      return Bad(path, index, "tenants must be an array, on a service key");
    }
    for (const json::value& t : *arr) {
      if (!t.is_string() ||
          !CheckKeyIdentifier("tenants", View(t.get_string())).ok()) {
        return Bad(path, index, "bad tenant in tenants");
      }
      rec.info.tenants.emplace_back(View(t.get_string()));
    }
  }
  rec.lookup = View(*lookup);
  if (!IsLookup(rec.lookup)) return Bad(path, index, "bad lookup");
  std::optional<Digest> digest = DigestFromHex(View(*sha));
  if (!digest) return Bad(path, index, "bad sha256");
  rec.digest = *digest;
  return rec;
}

}  // namespace

Status CheckKeyIdentifier(std::string_view field, std::string_view value) {
  if (value.empty() || value.size() > kMaxFieldBytes) {
    return Status::InvalidArgument(std::string(field) +
                                   " must be 1-256 bytes")
        .With("field", field);
  }
  if (record::FindInvalidUtf8(value) != std::string_view::npos ||
      record::HasControlChar(value)) {
    return Status::InvalidArgument(
               std::string(field) +
               " must be UTF-8 without control characters")
        .With("field", field);
  }
  return Status::OK();
}

Status CheckNewKeyId(std::string_view value) {
  ACPSTORE_RETURN_IF_ERROR(CheckKeyIdentifier("id", value));
  if (value == "." || value == "..") {
    return Status::InvalidArgument(
               "id must not be \".\" or \"..\" (a URL dot segment)")
        .With("field", "id");
  }
  return Status::OK();
}

Status CheckKeyName(std::string_view value) {
  if (value.empty()) return Status::OK();
  return CheckKeyIdentifier("name", value);
}

std::string EncodeKeyFile(const std::vector<KeyRecord>& keys) {
  std::string out = R"({"format":"acpstore-keys","version":)" +
                    std::to_string(kKeyFileVersion) + R"(,"keys":[)";
  for (size_t i = 0; i < keys.size(); ++i) {
    const KeyRecord& k = keys[i];
    json::object obj;
    obj["id"] = k.info.id;
    obj["tenantId"] = k.info.tenant_id;
    obj["role"] = ToString(k.info.role);
    obj["name"] = k.info.name;
    obj["createdAt"] = base::FormatIso8601(k.info.created_at);
    if (k.info.revoked_at) {
      obj["revokedAt"] = base::FormatIso8601(*k.info.revoked_at);
    } else {
      obj["revokedAt"] = nullptr;
    }
    if (!k.info.tenants.empty()) {
      json::array tenants;
      for (const std::string& t : k.info.tenants) tenants.emplace_back(t);
      obj["tenants"] = std::move(tenants);
    }
    obj["lookup"] = k.lookup;
    obj["sha256"] = DigestToHex(k.digest);
    out += i == 0 ? "\n" : ",\n";
    out += json::serialize(obj);
  }
  out += "\n]}\n";
  return out;
}

Result<std::vector<KeyRecord>> DecodeKeyFile(std::string_view text,
                                             std::string_view path) {
  boost::system::error_code ec;
  json::value root = json::parse(text, ec);
  if (ec) {
    return Status::Corruption(std::string(path) +
                              ": not valid JSON: " + ec.message());
  }
  const json::object* obj = root.if_object();
  const json::value* version = obj ? obj->if_contains("version") : nullptr;
  const json::value* keys = obj ? obj->if_contains("keys") : nullptr;
  if (version == nullptr || keys == nullptr || !keys->is_array()) {
    return Status::Corruption(std::string(path) +
                              ": not an acpstore keys file");
  }
  if (version->is_int64() && version->get_int64() > kKeyFileVersion) {
    // A newer release's file: refuse (and never rewrite it).
    return NewerFormat("keys file " + std::string(path),
                       static_cast<uint64_t>(version->get_int64()),
                       kKeyFileVersion);
  }
  if (!version->is_int64() || version->get_int64() < 1) {
    return Status::Corruption(std::string(path) +
                              ": not a keys file version (this acpstore "
                              "reads versions 1 to " +
                              std::to_string(kKeyFileVersion) + ")");
  }
  std::vector<KeyRecord> out;
  std::set<std::string, std::less<>> ids, lookups;
  const json::array& arr = keys->get_array();
  for (size_t i = 0; i < arr.size(); ++i) {
    ACPSTORE_ASSIGN_OR_RETURN(KeyRecord rec, DecodeKey(arr[i], path, i));
    if (!ids.insert(rec.info.id).second) {
      return Bad(path, i, "duplicate id");
    }
    if (!lookups.insert(rec.lookup).second) {
      return Bad(path, i, "duplicate lookup");
    }
    out.push_back(std::move(rec));
  }
  return out;
}

Result<LoadedKeyFile> LoadKeyFile(const std::string& path) {
  LoadedKeyFile loaded;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return loaded;
    return FileError("open", path, errno);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return FileError("fstat", path, err);
  }
  std::string text;
  char buf[1 << 14];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return FileError("read", path, err);
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  ACPSTORE_ASSIGN_OR_RETURN(loaded.keys, DecodeKeyFile(text, path));
  loaded.stamp = StampOf(st);
  return loaded;
}

Result<FileStamp> StatKeyFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return FileStamp{};
    return FileError("stat", path, errno);
  }
  return StampOf(st);
}

}  // namespace acpstore::auth
