// Names the calling thread, so that `top -H`, `ps -L`, /proc/PID/task/*/comm,
// perf and gdb show each thread's job ("acp-http", "acp-journal", ...)
// rather than the binary's name for all of them: an operator whose server
// runs hot learns which part does at a glance.
//
// Every long-lived thread acpstore starts calls it first (docs/operations.md
// lists the names). Linux keeps at most 15 bytes of a name; a longer one is
// cut. Elsewhere it does nothing.
//
// Thread-safety: names the calling thread only.

#ifndef ACPSTORE_BASE_THREAD_NAME_H_
#define ACPSTORE_BASE_THREAD_NAME_H_

#include <string_view>

namespace acpstore::base {

inline constexpr size_t kMaxThreadNameBytes = 15;

void NameThisThread(std::string_view name);

}  // namespace acpstore::base

#endif  // ACPSTORE_BASE_THREAD_NAME_H_
