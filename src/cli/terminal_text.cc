// Terminal-safe text: see terminal_text.h.

#include "cli/terminal_text.h"

#include "record/canonical_json.h"

namespace acpstore::cli {

std::string TerminalSafe(std::string_view text, bool multi_line) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20) {
      const bool kept =
          multi_line && (c == '\n' || c == '\t' ||
                         (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n'));
      if (kept) {
        out.push_back(static_cast<char>(c));
      } else {
        // The very escape a JSON string (tail's payloads) gives it.
        record::AppendJsonStringBody(text.substr(i, 1), &out);
      }
    } else if (c == 0x7F) {
      out.append("\\u007f");
    } else if (c == 0xC2 && i + 1 < text.size() &&
               static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9F) {
      // U+0080-U+009F in UTF-8: some terminals act on C1 controls (CSI is
      // U+009B) as on their ESC forms.
      const auto code = static_cast<unsigned char>(text[i + 1]);
      out.append("\\u00");
      out.push_back(kHex[code >> 4]);
      out.push_back(kHex[code & 0xF]);
      ++i;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

}  // namespace acpstore::cli
