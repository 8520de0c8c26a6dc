// The keys file, <data-dir>/keys.json: its codec and how it is read.
//
// Format (docs/operations.md#the-keys-file), one key per line so a diff of
// two versions reads well:
//
//   {"format":"acpstore-keys","version":1,"keys":[
//   {"id":"key_9f2c...","tenantId":"default","role":"admin","name":"",
//    "createdAt":"2026-05-23T02:56:00.123Z","revokedAt":null,
//    "lookup":"3e1a...","sha256":"<64 hex>"}
//   ]}
//
// Revoked keys stay in the file forever: that is what keeps ids from ever
// being reused. The file never holds a token, only SHA-256(token).
//
// Thread-safety: pure functions plus reads of one file.

#ifndef ACPSTORE_AUTH_KEY_FILE_H_
#define ACPSTORE_AUTH_KEY_FILE_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "acpstore/result.h"
#include "auth/principal.h"
#include "auth/token.h"

namespace acpstore::auth {

inline constexpr std::string_view kKeyFileName = "keys.json";
inline constexpr std::string_view kKeyLockFileName = "keys.lock";
inline constexpr std::string_view kBootstrapTokenFileName =
    "bootstrap-admin.token";
inline constexpr int64_t kKeyFileVersion = 1;

struct KeyRecord {
  KeyInfo info;
  std::string lookup;  // the token's lookup handle (token.h)
  Digest digest{};     // SHA-256 of the whole token
};

// Identifies one version of the file: every writer renames a new file into
// place, so a new inode (or size or mtime) means new content.
struct FileStamp {
  bool exists = false;
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  int64_t mtime_ns = 0;

  friend bool operator==(const FileStamp&, const FileStamp&) = default;
};

// The rules for a key's fields: ids and tenant ids are identifiers (SPEC
// §2.5: 1-256 bytes of UTF-8, no control characters); a name is 0-256
// bytes of the same. kInvalidArgument naming `field` otherwise.
Status CheckKeyIdentifier(std::string_view field, std::string_view value);
Status CheckKeyName(std::string_view value);
// A new key's id (field "id"): an identifier, and not "." or ".." (SPEC
// §2.5): it is a URL path segment (DELETE /v1/keys/{id}), and clients
// remove dot segments from a path. Only creation checks it, so a key
// file or table that holds one already keeps working.
Status CheckNewKeyId(std::string_view value);

std::string EncodeKeyFile(const std::vector<KeyRecord>& keys);

// kCorruption naming `path` and the offending key for anything that is not
// a well-formed version-1 file (including duplicate ids or lookups).
Result<std::vector<KeyRecord>> DecodeKeyFile(std::string_view text,
                                             std::string_view path);

struct LoadedKeyFile {
  std::vector<KeyRecord> keys;
  FileStamp stamp;  // of the bytes decoded; !exists when there is no file
};

// Reads and decodes `path`; a missing file is an empty key set. The stamp
// comes from the same open file as the bytes, so it never describes a
// newer version than the one decoded.
Result<LoadedKeyFile> LoadKeyFile(const std::string& path);

// The stamp of whatever `path` names now.
Result<FileStamp> StatKeyFile(const std::string& path);

}  // namespace acpstore::auth

#endif  // ACPSTORE_AUTH_KEY_FILE_H_
