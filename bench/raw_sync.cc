// RunRawSync (peers.h): the fdatasync limit of the disk under the data
// directory.

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "peers.h"

namespace acpstore::bench {

PeerResult RunRawSync(const std::string& dir,
                      const std::vector<std::string>& payloads,
                      size_t record_bytes, size_t batch, uint64_t max_events,
                      double max_seconds) {
  using SteadyClock = std::chrono::steady_clock;
  PeerResult result;
  const std::string path = dir + "/raw.log";
  std::string buffer;
  buffer.reserve(record_bytes * batch);
  for (size_t i = 0; i < batch; ++i) {
    std::string record = payloads[i % payloads.size()];
    record.resize(record_bytes, ' ');
    buffer += record;
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    result.error =
        Status::IoError("open " + path + ": " + std::strerror(errno));
    return result;
  }
  const SteadyClock::time_point start = SteadyClock::now();
  while (result.events < max_events) {
    SteadyClock::time_point t0 = SteadyClock::now();
    // The file grows as the journal does: appends, no preallocation.
    for (size_t off = 0; off < buffer.size();) {
      ssize_t n = ::write(fd, buffer.data() + off, buffer.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        result.error =
            Status::IoError("write " + path + ": " + std::strerror(errno));
        ::close(fd);
        ::unlink(path.c_str());
        return result;
      }
      off += static_cast<size_t>(n);
    }
    if (::fdatasync(fd) != 0) {
      result.error =
          Status::IoError("fdatasync " + path + ": " + std::strerror(errno));
      break;
    }
    SteadyClock::time_point t1 = SteadyClock::now();
    ++result.syncs;
    result.events += batch;
    result.latencies_us.push_back(static_cast<uint32_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0)
            .count()));
    if (max_seconds > 0 &&
        std::chrono::duration<double>(t1 - start).count() >= max_seconds) {
      break;
    }
  }
  result.seconds =
      std::chrono::duration<double>(SteadyClock::now() - start).count();
  ::close(fd);
  ::unlink(path.c_str());
  return result;
}

}  // namespace acpstore::bench
