// See format_version.h.

#include "base/format_version.h"

#include <string>
#include <variant>

namespace acpstore {

namespace {
constexpr std::string_view kSupportedDetail = "supportedFormatVersion";
}  // namespace

Status NewerFormat(std::string_view what, uint64_t found, uint64_t supported) {
  std::string msg(what);
  msg.append(" has format version ").append(std::to_string(found));
  msg.append("; this acpstore reads versions up to ");
  msg.append(std::to_string(supported));
  msg.append(
      " (written by a newer release? Run that release or a newer one; this "
      "one will not read or change the data)");
  return Status::Corruption(msg)
      .With("formatVersion", static_cast<int64_t>(found))
      .With(kSupportedDetail, static_cast<int64_t>(supported));
}

bool IsNewerFormat(const Status& s) {
  for (const StatusDetail& d : s.details()) {
    if (d.key == kSupportedDetail) return true;
  }
  return false;
}

Status WithPrefix(const Status& s, std::string_view prefix) {
  Status out(s.code(), std::string(prefix) + std::string(s.message()));
  for (const StatusDetail& d : s.details()) {
    std::visit([&](const auto& v) { out.With(d.key, v); }, d.value);
  }
  return out;
}

}  // namespace acpstore
