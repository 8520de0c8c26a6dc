// Event payloads shaped like what an agent runtime records for a tool call:
// the tool's name and id, its input, the text it printed, timings and token
// counts. Deterministic for a seed, so runs and peers write the same bytes.
//
// Thread-safety: pure functions.

#ifndef ACPSTORE_BENCH_PAYLOADS_H_
#define ACPSTORE_BENCH_PAYLOADS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace acpstore::bench {

// `count` distinct compact JSON objects of exactly `bytes` bytes each,
// already canonical, so the store keeps them byte for byte. From ~430
// bytes a tool result (the fixed fields, then output text); below that a
// tool call's input only (at least ~100 bytes: its fixed fields).
std::vector<std::string> ToolEventPayloads(size_t count, size_t bytes,
                                           uint64_t seed = 1);

// The event types the payloads go with, by index.
const char* ToolEventType(size_t index);

}  // namespace acpstore::bench

#endif  // ACPSTORE_BENCH_PAYLOADS_H_
