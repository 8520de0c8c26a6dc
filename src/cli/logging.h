// Process logging for `acpstore serve`: spdlog's default logger, writing
// to stderr as text or as JSON lines, timestamps in UTC.
//
// What may be logged is a rule of the whole program, not of this file:
// never a token, a payload or a metadata value (SPEC §2.6, §6).
//
// Thread-safety: call SetUpLogging once, before starting threads; the
// logger itself is thread-safe.

#ifndef ACPSTORE_CLI_LOGGING_H_
#define ACPSTORE_CLI_LOGGING_H_

#include "cli/option_parsing.h"

namespace acpstore::cli {

// Text: 2026-05-23T02:56:00.123Z info listening on 127.0.0.1:7700
// JSON: {"ts":"2026-05-23T02:56:00.123Z","level":"info","msg":"listening on 127.0.0.1:7700"}
// The level is spdlog's name: trace, debug, info, warning, error (LogLevel::
// kWarn prints "warning"; filters in the field match that word, so it stays).
void SetUpLogging(LogFormat format, LogLevel level);

}  // namespace acpstore::cli

#endif  // ACPSTORE_CLI_LOGGING_H_
