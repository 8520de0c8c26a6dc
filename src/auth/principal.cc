// Role names (SPEC §6): the spelling used in the keys file, on the command
// line and in the HTTP API.
//
// Thread-safety: pure functions.

#include "auth/principal.h"

namespace acpstore::auth {

std::string_view ToString(Role role) {
  switch (role) {
    case Role::kReader:
      return "reader";
    case Role::kWriter:
      return "writer";
    case Role::kAdmin:
      return "admin";
    case Role::kService:
      return "service";
  }
  return "unknown";
}

std::optional<Role> ParseRole(std::string_view name) {
  if (name == "reader") return Role::kReader;
  if (name == "writer") return Role::kWriter;
  if (name == "admin") return Role::kAdmin;
  if (name == "service") return Role::kService;
  return std::nullopt;
}

}  // namespace acpstore::auth
