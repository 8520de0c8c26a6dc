// An Aegis-shaped ACP session (issue 16): the event mix a real agent
// conversation records, each payload embedding the raw ACP frame under
// "acp" as Aegis's mapper does. 60% message.delta (20-120 characters, a
// new messageId every ~40), 15% thinking.delta, tool calls (started, then
// completed with a 200 B - 4 KiB output), usage updates, turn ends, and
// session.updated events the transcript does not fold. Its transcript is
// about 0.46x the event bytes (docs/benchmarks.md, "Transcripts").
//
// Used by transcript_bench (one session) and by `append --mix acp` and
// `http --mix acp` (AcpWriterStream: one such stream per writer or
// connection), so all of them measure the same events.
//
// AcpSessionEvents draws each event's type on its own, so deltas of a
// message are interrupted every few events and most entries hold two or
// three deltas: the transcript's worst case among ACP sessions.
// AcpTurnEvents (`--mix acp-runs`) has the same types in about the same
// shares, in the order an agent streams them: per turn, a run of thought
// deltas, a run of message deltas, tool calls (a start and its
// completion, sometimes two overlapping), another run of message deltas,
// a usage update, a mode update and the turn's end.
//
// Thread-safety: pure functions.

#ifndef ACPSTORE_BENCH_ACP_SESSION_H_
#define ACPSTORE_BENCH_ACP_SESSION_H_

#include <cstdint>
#include <vector>

#include "acpstore/records.h"

namespace acpstore::bench {

// `n` events of one session, deterministic for a seed.
std::vector<NewEvent> AcpSessionEvents(uint64_t n, uint64_t seed);

// `n` events of one session in turns (see above), deterministic for a seed.
std::vector<NewEvent> AcpTurnEvents(uint64_t n, uint64_t seed);

// The stream `--mix acp` appends: each writer (append) or connection (http)
// appends it to its own session from the start, and wraps when it needs
// more (a wrapped stream starts new messageIds' entries again: still an
// ACP session). kAcpWriterStreamEvents events, a multiple of the http
// batch so that batches never straddle the wrap.
// `turns`: AcpTurnEvents' order instead of AcpSessionEvents'.
inline constexpr uint64_t kAcpWriterStreamEvents = 20000;
std::vector<NewEvent> AcpWriterStream(bool turns = false);

// The mean payload bytes of `events` (0 when empty).
double MeanPayloadBytes(const std::vector<NewEvent>& events);

}  // namespace acpstore::bench

#endif  // ACPSTORE_BENCH_ACP_SESSION_H_
