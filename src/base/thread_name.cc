// NameThisThread: see thread_name.h.

#include "base/thread_name.h"

#if defined(__linux__)
#include <pthread.h>
#endif

#include <string>

namespace acpstore::base {

void NameThisThread(std::string_view name) {
#if defined(__linux__)
  // A name over the limit makes pthread_setname_np fail (ERANGE) and keep
  // the old one: cut it instead.
  const std::string cut(name.substr(0, kMaxThreadNameBytes));
  (void)pthread_setname_np(pthread_self(), cut.c_str());
#else
  (void)name;
#endif
}

}  // namespace acpstore::base
