// Lookup, content types and validators of the embedded console files. See
// console_assets.h.

#include "server/console_assets.h"

namespace acpstore::server {
namespace {

// HTTP optional whitespace (space, tab) off both ends.
std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

const EmbeddedFile* FindConsoleFile(std::string_view name) {
  if (name.empty()) name = "index.html";
  for (size_t i = 0; i < kEmbeddedFileCount; ++i) {
    if (kEmbeddedFiles[i].name == name) return &kEmbeddedFiles[i];
  }
  return nullptr;
}

std::string_view ConsoleContentType(std::string_view name) {
  struct Type {
    std::string_view ext;
    std::string_view type;
  };
  static constexpr Type kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".json", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
  };
  for (const Type& t : kTypes) {
    if (name.ends_with(t.ext)) return t.type;
  }
  return "application/octet-stream";
}

std::string_view ConsoleEtagOf(const EmbeddedFile& file) {
  // 80 bits of SHA-256 tell every build's files apart.
  return file.sha256.substr(0, 20);
}

bool IfNoneMatchHits(std::string_view value, std::string_view etag) {
  value = Trim(value);
  if (value == "*") return true;
  while (!value.empty()) {
    const size_t comma = value.find(',');
    std::string_view tag = Trim(value.substr(0, comma));
    // A weak comparison (RFC 9110 §13.1.2): W/"x" matches "x".
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag.size() == etag.size() + 2 && tag.front() == '"' &&
        tag.back() == '"' && tag.substr(1, etag.size()) == etag) {
      return true;
    }
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace acpstore::server
