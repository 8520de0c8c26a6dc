// FunctionRef<R(Args...)>: a non-owning reference to a callable, for
// callbacks that run before the call that received them returns (a decider
// run under an engine's lock, a read of the state). Unlike std::function it
// never allocates and is two words, so passing one costs nothing on the
// append path.
//
// Lifetime: the referenced callable must outlive every call through the
// FunctionRef; never store one beyond the call it was passed to.

#ifndef ACPSTORE_BASE_FUNCTION_REF_H_
#define ACPSTORE_BASE_FUNCTION_REF_H_

#include <memory>
#include <type_traits>
#include <utility>

namespace acpstore::base {

template <typename Signature>
class FunctionRef;

template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
 public:
  template <typename F,
            typename = std::enable_if_t<
                !std::is_same_v<std::remove_cvref_t<F>, FunctionRef> &&
                std::is_invocable_r_v<R, F&, Args...>>>
  FunctionRef(F&& f)  // NOLINT(google-explicit-constructor): by design
      : object_(const_cast<void*>(
            static_cast<const void*>(std::addressof(f)))),
        call_([](void* object, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(object))(
              std::forward<Args>(args)...);
        }) {}

  R operator()(Args... args) const {
    return call_(object_, std::forward<Args>(args)...);
  }

 private:
  void* object_;
  R (*call_)(void*, Args...);
};

}  // namespace acpstore::base

#endif  // ACPSTORE_BASE_FUNCTION_REF_H_
