// See server_access.h.

#include "cli/server_access.h"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <fstream>
#include <utility>

namespace acpstore::cli {
namespace {

std::string DefaultUrl() {
  const char* env = std::getenv("ACPSTORE_URL");
  return env != nullptr && *env != '\0' ? env : "http://127.0.0.1:7700";
}

Result<std::string> LoadToken(const ServerAccess& access) {
  std::string token;
  if (!access.token_file.empty()) {
    std::ifstream in(access.token_file);
    if (!in) {
      return Status::InvalidArgument("--token-file: cannot read " +
                                     access.token_file);
    }
    std::getline(in, token);
  } else if (const char* env = std::getenv("ACPSTORE_TOKEN")) {
    token = env;
  }
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) {
    token.pop_back();
  }
  if (token.empty()) {
    return Status::InvalidArgument(
        "no token: pass --token-file FILE or set ACPSTORE_TOKEN");
  }
  return token;
}

}  // namespace

ServerAccess::ServerAccess() : url(DefaultUrl()) {}

void AddServerAccessOptions(CLI::App& cmd, ServerAccess& access) {
  cmd.add_option("--url", access.url,
                 "Server [env ACPSTORE_URL, default http://127.0.0.1:7700]")
      ->type_name("URL");
  cmd.add_option("--token-file", access.token_file,
                 "File whose first line is the API token [default: "
                 "$ACPSTORE_TOKEN]")
      ->type_name("FILE");
}

Result<ServerTarget> ResolveServer(const ServerAccess& access) {
  Result<net::Url> url = net::ParseUrl(access.url);
  if (!url) {
    return Status::InvalidArgument("--url: " +
                                   std::string(url.error().message()));
  }
  ACPSTORE_ASSIGN_OR_RETURN(std::string token, LoadToken(access));
  return ServerTarget{std::move(*url), std::move(token)};
}

}  // namespace acpstore::cli
