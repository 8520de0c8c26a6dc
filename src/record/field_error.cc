// Field-named validation failures. Thread-safety: pure functions.

#include "record/field_error.h"

namespace acpstore::record {

Status InvalidField(std::string_view field, std::string_view rule) {
  std::string message(field);
  message.append(": ").append(rule);
  return Status::InvalidArgument(message).With("field", field);
}

Status FieldTooLarge(std::string_view field, std::string_view rule,
                     int64_t limit) {
  std::string message(field);
  message.append(": ").append(rule);
  return Status::PayloadTooLarge(message)
      .With("field", field)
      .With("limit", limit);
}

std::string JoinField(std::string_view prefix, std::string_view name) {
  std::string out(prefix);
  if (!out.empty()) out.push_back('.');
  out.append(name);
  return out;
}

std::string IndexField(std::string_view name, size_t index) {
  std::string out(name);
  out.push_back('[');
  out.append(std::to_string(index));
  out.push_back(']');
  return out;
}

}  // namespace acpstore::record
