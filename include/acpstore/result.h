// Result<T> holds either a T or a failed Status. Its shape follows C++23's
// std::expected (has_value, value, error, operator*, operator->) so it can be
// replaced by std::expected<T, Status> once the toolchain has it.
//
// A Result is never constructed from an OK Status: that would be a value-less
// success, which is a bug (asserted in debug builds, kInternal in release).
//
// Thread-safety: a value type, like Status.

#ifndef ACPSTORE_RESULT_H_
#define ACPSTORE_RESULT_H_

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

#include "acpstore/status.h"

namespace acpstore {

template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<T, Status>, "use Status directly");

 public:
  // NOLINTBEGIN(google-explicit-constructor): implicit by design, like
  // std::expected, so `return value;` and `return status;` both work.
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(Status status) : v_(std::in_place_index<1>, std::move(status)) {
    assert(!std::get<1>(v_).ok() && "Result built from an OK Status");
    if (std::get<1>(v_).ok()) {
      std::get<1>(v_) = Status::Internal("Result built from an OK Status");
    }
  }
  // NOLINTEND(google-explicit-constructor)

  bool has_value() const { return v_.index() == 0; }
  bool ok() const { return has_value(); }
  explicit operator bool() const { return has_value(); }

  // Precondition: has_value().
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // OK when has_value(); the failure otherwise.
  Status status() const { return has_value() ? Status::OK() : std::get<1>(v_); }
  // Precondition: !has_value().
  const Status& error() const& { return std::get<1>(v_); }
  Status&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace acpstore

// Evaluates `rexpr` (a Result); on failure returns its Status from the
// current function, else move-assigns the value to `lhs`.
//   ACPSTORE_ASSIGN_OR_RETURN(auto session, store.GetSession(scope, id));
#define ACPSTORE_CONCAT_INNER_(a, b) a##b
#define ACPSTORE_CONCAT_(a, b) ACPSTORE_CONCAT_INNER_(a, b)
#define ACPSTORE_ASSIGN_OR_RETURN(lhs, rexpr) \
  ACPSTORE_ASSIGN_OR_RETURN_IMPL_(ACPSTORE_CONCAT_(_acp_result_, __LINE__), lhs, rexpr)
#define ACPSTORE_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                   \
  if (!tmp.has_value()) return std::move(tmp).error();  \
  lhs = std::move(tmp).value()

#endif  // ACPSTORE_RESULT_H_
