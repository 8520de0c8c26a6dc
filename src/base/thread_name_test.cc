#include "base/thread_name.h"

#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

namespace acpstore::base {
namespace {

// The name the kernel shows for thread `tid` of this process.
std::string KernelName(pid_t tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

TEST(NameThisThread, TheKernelShowsTheName) {
  std::string shown;
  std::thread t([&] {
    NameThisThread("acp-test");
    shown = KernelName(static_cast<pid_t>(::syscall(SYS_gettid)));
  });
  t.join();
  EXPECT_EQ(shown, "acp-test");
}

TEST(NameThisThread, ALongNameIsCutNotRefused) {
  std::string shown;
  std::thread t([&] {
    NameThisThread("acp-a-name-much-longer-than-fifteen");
    shown = KernelName(static_cast<pid_t>(::syscall(SYS_gettid)));
  });
  t.join();
  EXPECT_EQ(shown, "acp-a-name-much");
  EXPECT_EQ(shown.size(), kMaxThreadNameBytes);
}

}  // namespace
}  // namespace acpstore::base
