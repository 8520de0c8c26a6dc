// Text from a server made safe to print on a terminal. Agent output and
// tool titles are written by whoever appends events: printed raw, an ESC
// or BEL in them could retitle the window, clear the screen or move the
// cursor over earlier lines (found by a probe of `acpstore transcript`).
//
// Thread-safety: pure functions.

#ifndef ACPSTORE_CLI_TERMINAL_TEXT_H_
#define ACPSTORE_CLI_TERMINAL_TEXT_H_

#include <string>
#include <string_view>

namespace acpstore::cli {

// `text` with every control character replaced by its JSON escape, as
// `acpstore tail` shows them inside payloads: C0 (U+0000-U+001F: \n, \r,
// \t, \b, \f, else \u00XX), DEL (\u007f) and C1 (U+0080-U+009F, \u00XX).
// With `multi_line`, line feeds, tabs and a carriage return right before
// a line feed stay as they are (the text's own lines). Other bytes,
// backslashes included, are copied unchanged: this is for reading, not a
// reversible encoding.
std::string TerminalSafe(std::string_view text, bool multi_line);

}  // namespace acpstore::cli

#endif  // ACPSTORE_CLI_TERMINAL_TEXT_H_
