// What crash_child and the KillNineLoop test agree on: the store options,
// the sessions, the payload an append carries and the line it prints once
// the append is acknowledged. Header-only so both binaries share it
// without a library.
//
//   stdout of crash_child, one write(2) per line:
//     ready\n                                  store open, sessions exist
//     ack <session> <seq> <hash>\n             an append was acknowledged
//   <hash> is Fnv1a64 of the canonical payload the store returned, in hex.
//
// Thread-safety: pure functions and constants.

#ifndef ACPSTORE_TESTS_CRASH_CRASH_PROTOCOL_H_
#define ACPSTORE_TESTS_CRASH_CRASH_PROTOCOL_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "acpstore/options.h"
#include "acpstore/records.h"

namespace acpstore::crash {

inline constexpr std::string_view kReadyLine = "ready";
inline constexpr std::string_view kAckWord = "ack";

inline Scope CrashScope() {
  return Scope{.tenant_id = "crash-tenant", .owner_key_id = "crash-key"};
}

inline std::string SessionId(int index) {
  return "crash-" + std::to_string(index);
}

// The child and the parent open the store alike. Retention is off so every
// acknowledged event must still be there however long the loop runs; small
// segments and snapshot intervals make kills land during segment rolls and
// background snapshots too.
inline StoreOptions CrashStoreOptions(const std::string& data_dir) {
  StoreOptions options;
  options.engine = Engine::kFile;
  options.data_dir = data_dir;
  options.sync = SyncMode::kAlways;
  options.retention = RetentionOptions{.max_events_per_session = 0,
                                       .terminal_event_retention_ms = 0,
                                       .session_retention_ms = 0,
                                       .action_retention_ms = 0,
                                       .max_disk_bytes = 0};
  options.segment_bytes = 256 << 10;
  options.snapshot_every_bytes = 512 << 10;
  options.maintenance_interval_ms = 50;
  return options;
}

inline uint64_t Fnv1a64(std::string_view bytes) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

inline std::string HashHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  uint64_t h = Fnv1a64(bytes);
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[i] = kDigits[h & 0xf];
  return out;
}

// A payload nobody else writes: (session, seq-intent, thread, counter, run)
// identify it; `filler` bytes of text vary the record sizes so kills tear
// records at many offsets. seq_intent is the seq the thread expects (the
// session's last_seq + 1 when it looked); threads share sessions, so the
// store may assign another one, which the ack line reports.
inline std::string CrashPayload(const std::string& session, uint64_t seq_intent,
                                int thread, uint64_t counter, uint64_t run,
                                size_t filler) {
  std::string text;
  text.reserve(filler);
  uint64_t x = Fnv1a64(session) ^ (counter * 0x9E3779B97F4A7C15ULL) ^
               (static_cast<uint64_t>(thread) << 48) ^ run;
  while (text.size() < filler) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    text.push_back(static_cast<char>('a' + x % 26));
  }
  return "{\"session\":\"" + session +
         "\",\"seqIntent\":" + std::to_string(seq_intent) +
         ",\"thread\":" + std::to_string(thread) +
         ",\"counter\":" + std::to_string(counter) +
         ",\"run\":" + std::to_string(run) + ",\"text\":\"" + text + "\"}";
}

}  // namespace acpstore::crash

#endif  // ACPSTORE_TESTS_CRASH_CRASH_PROTOCOL_H_
