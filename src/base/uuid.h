// Random UUIDv4 strings for generated ids and lease tokens.
//
// Thread-safety: safe from any thread (each call reads getrandom(2); no
// user-space generator state).

#ifndef ACPSTORE_BASE_UUID_H_
#define ACPSTORE_BASE_UUID_H_

#include <string>

namespace acpstore::base {

// "f47ac10b-58cc-4372-a567-0e02b2c3d479": 36 bytes, lowercase.
std::string NewUuidV4();

// 32 lowercase hex characters of OS randomness (getrandom): lease tokens
// and other unguessable secrets.
std::string RandomHex128();

}  // namespace acpstore::base

#endif  // ACPSTORE_BASE_UUID_H_
