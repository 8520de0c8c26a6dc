// How a client command reaches a running server: --url (env ACPSTORE_URL,
// default http://127.0.0.1:7700) and the API token from --token-file (its
// first line) or $ACPSTORE_TOKEN. `tail` and `transcript` take the same
// options, declared once here. The token is read only from a file or the
// environment, never from the command line, where `ps` would show it.
//
// Thread-safety: main thread only.

#ifndef ACPSTORE_CLI_SERVER_ACCESS_H_
#define ACPSTORE_CLI_SERVER_ACCESS_H_

#include <string>

#include "acpstore/result.h"
#include "net/url.h"

namespace CLI {  // NOLINT(readability-identifier-naming): CLI11's namespace
class App;
}  // namespace CLI

namespace acpstore::cli {

struct ServerAccess {
  std::string url;  // $ACPSTORE_URL, else http://127.0.0.1:7700
  std::string token_file;

  ServerAccess();
};

// Adds --url and --token-file to `cmd`, bound to `access`, which must
// outlive the parse.
void AddServerAccessOptions(CLI::App& cmd, ServerAccess& access);

struct ServerTarget {
  net::Url url;
  std::string token;
};

// The parsed --url and the token: the first line of --token-file, else
// $ACPSTORE_TOKEN, trailing CR and spaces removed. kInvalidArgument, with a
// message naming the option, for a bad URL, an unreadable file or no token.
Result<ServerTarget> ResolveServer(const ServerAccess& access);

}  // namespace acpstore::cli

#endif  // ACPSTORE_CLI_SERVER_ACCESS_H_
