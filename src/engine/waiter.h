// Waiter: a caller's completion together with the result it will get once
// its mutation is applied (and, in the file engine, durable). The deciding
// store (deciding_store.h) creates one per mutation, stores the decider's
// result in it, and hands it to the engine as a type-erased Waiter, so an
// engine's write path is written once for every result type.
//
// Thread-safety: none; the engine that holds a Waiter finishes it once, on
// whatever thread completes the mutation. Lifetime: owned by the engine
// until Finish; the completion may be destroyed on that thread afterwards.

#ifndef ACPSTORE_ENGINE_WAITER_H_
#define ACPSTORE_ENGINE_WAITER_H_

#include <optional>
#include <utility>

#include "acpstore/status.h"
#include "acpstore/store.h"

namespace acpstore::engine {

class Waiter {
 public:
  virtual ~Waiter() = default;
  // OK: deliver the result the decider stored. Otherwise deliver `failure`.
  virtual void Finish(const Status& failure) = 0;
};

template <typename T>
class TypedWaiter final : public Waiter {
 public:
  explicit TypedWaiter(Completion<T> done) : done_(std::move(done)) {}

  void set_result(T result) { result_.emplace(std::move(result)); }

  void Finish(const Status& failure) override {
    if (!done_) return;
    if (!failure.ok()) {
      done_(failure);
    } else if (result_) {
      done_(std::move(*result_));
    } else {
      done_(Status::Internal("a mutation finished without a result"));
    }
  }

 private:
  Completion<T> done_;
  std::optional<T> result_;
};

}  // namespace acpstore::engine

#endif  // ACPSTORE_ENGINE_WAITER_H_
