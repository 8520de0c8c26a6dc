// FUZZ_CHECK(cond): a fuzz target's assertion. A false condition prints
// where and what, then aborts, which libFuzzer (and the corpus replay under
// ctest) reports as a crash with the input that caused it. Unlike assert()
// it holds in every build type.

#ifndef ACPSTORE_FUZZ_FUZZ_CHECK_H_
#define ACPSTORE_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                    \
  do {                                                                      \
    if (!(cond)) {                                                          \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                   #cond);                                                  \
      std::abort();                                                         \
    }                                                                       \
  } while (0)

#endif  // ACPSTORE_FUZZ_FUZZ_CHECK_H_
