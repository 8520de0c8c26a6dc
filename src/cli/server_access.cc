// See server_access.h.

#include "cli/server_access.h"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <utility>

namespace acpstore::cli {
namespace {

std::string DefaultUrl() {
  const char* env = std::getenv("ACPSTORE_URL");
  return env != nullptr && *env != '\0' ? env : "http://127.0.0.1:7700";
}

void TrimLineEnd(std::string* token) {
  while (!token->empty() && (token->back() == '\r' || token->back() == ' ')) {
    token->pop_back();
  }
}

// The first line of --token-file.
Result<std::string> TokenFromFile(const std::string& path) {
  // A directory opens as a stream that reads nothing, which then read as
  // "no token: pass --token-file" though one was passed (found by an
  // outside tester).
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Status::InvalidArgument("--token-file: " + path +
                                   " is a directory, not a file");
  }
  std::ifstream in(path);
  if (!in) return Status::InvalidArgument("--token-file: cannot read " + path);
  std::string token;
  std::getline(in, token);
  if (in.bad()) {
    return Status::InvalidArgument("--token-file: cannot read " + path);
  }
  TrimLineEnd(&token);
  if (token.empty()) {
    return Status::InvalidArgument("--token-file: the first line of " + path +
                                   " is empty; it must hold the token");
  }
  return token;
}

Result<std::string> LoadToken(const ServerAccess& access) {
  if (!access.token_file.empty()) return TokenFromFile(access.token_file);
  std::string token;
  if (const char* env = std::getenv("ACPSTORE_TOKEN")) token = env;
  TrimLineEnd(&token);
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
