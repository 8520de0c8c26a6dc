// RunServe: the life of `acpstore serve` once its options are valid —
// open the store and the keys, serve HTTP until SIGTERM/SIGINT, shut down
// gracefully within the shutdown timeout.
//
// Thread-safety: call once, from main, before any other thread exists
// (it blocks SIGTERM/SIGINT for every thread it starts).

#ifndef ACPSTORE_CLI_SERVE_H_
#define ACPSTORE_CLI_SERVE_H_

#include "cli/serve_options.h"

namespace acpstore::cli {

// The process exit code: 0 after a clean shutdown, 1 if the store or the
// server could not start or the shutdown overran its timeout.
int RunServe(const ServeConfig& config);

}  // namespace acpstore::cli

#endif  // ACPSTORE_CLI_SERVE_H_
