// On-disk numbers of the record and mutation encodings: format versions, op
// tags, enum codes and presence bits. The byte grammar and a worked example
// are in docs/mutation_format.md; change both together. Every number here
// is written to disk: never renumber one, never reuse a retired one.
//
// The enum codes are spelled out instead of casting the C++ enums so that
// reordering an enum in include/acpstore/records.h cannot change the disk
// format.
//
// Thread-safety: constants only.

#ifndef ACPSTORE_RECORD_MUTATION_FORMAT_H_
#define ACPSTORE_RECORD_MUTATION_FORMAT_H_

#include <cstddef>
#include <cstdint>

namespace acpstore::record::format {

// Every encoded record and mutation starts with its version byte. A decoder
// accepts every version up to the current one; adding a field means bumping
// the version of that one encoding and decoding old versions with the new
// field absent.
inline constexpr uint8_t kMutationVersion = 1;
inline constexpr uint8_t kSessionVersion = 1;
inline constexpr uint8_t kEventVersion = 1;
inline constexpr uint8_t kActionVersion = 1;
// 2: earlier_intervention_ids (bit 12).
inline constexpr uint8_t kPauseVersion = 2;

// Op tags (one byte). 0 is never written.
enum class OpTag : uint8_t {
  kInvalid = 0,
  kUpsertSession = 1,
  kDeleteSession = 2,
  kAppendEvents = 3,
  kDropEvents = 4,
  kUpsertAction = 5,
  kDeleteAction = 6,
  kUpsertPause = 7,
  kAdvanceSeq = 8,  // older binaries refuse it as an unknown tag
};

// Framed event sub-record: fixed32 masked CRC32C of the event bytes, then
// varint32 length, then the event bytes.
inline constexpr size_t kEventCrcSize = 4;

// Enum codes (one byte each).
namespace session_status {
inline constexpr uint8_t kInitializing = 0, kIdle = 1, kRunning = 2,
                         kPaused = 3, kIntervening = 4, kClosing = 5,
                         kClosed = 6, kFailed = 7;
}
namespace action_type {
inline constexpr uint8_t kPrompt = 0, kApprove = 1, kReject = 2, kPause = 3,
                         kResume = 4, kCancel = 5, kDriverTransfer = 6,
                         kIntervene = 7, kClose = 8;
}
namespace action_status {
inline constexpr uint8_t kQueued = 0, kLeased = 1, kCompleted = 2, kFailed = 3,
                         kCancelled = 4;
}
namespace pause_status {
inline constexpr uint8_t kPaused = 0, kIntervening = 1, kResumed = 2;
}

// Presence bits of optional fields (varint32 bitmap after the version byte;
// a set bit that no field owns is corruption).
namespace session_bit {
inline constexpr uint32_t kParentSessionId = 1u << 0;
inline constexpr uint32_t kRootSessionId = 1u << 1;
inline constexpr uint32_t kCorrelationId = 1u << 2;
inline constexpr uint32_t kResumeFromSessionId = 1u << 3;
inline constexpr uint32_t kAcpAgentSessionId = 1u << 4;
inline constexpr uint32_t kClaudeSessionId = 1u << 5;
inline constexpr uint32_t kCurrentBackendRunId = 1u << 6;
inline constexpr uint32_t kClosedAt = 1u << 7;
inline constexpr uint32_t kFailedAt = 1u << 8;
inline constexpr uint32_t kBackendMetadata = 1u << 9;
inline constexpr uint32_t kAll = (1u << 10) - 1;
}  // namespace session_bit

namespace event_bit {
inline constexpr uint32_t kClientEventId = 1u << 0;
inline constexpr uint32_t kBackendRunId = 1u << 1;
inline constexpr uint32_t kPayloadRef = 1u << 2;
inline constexpr uint32_t kAll = (1u << 3) - 1;
}  // namespace event_bit

namespace action_bit {
inline constexpr uint32_t kIdempotencyKey = 1u << 0;
inline constexpr uint32_t kApprovalId = 1u << 1;
inline constexpr uint32_t kControlRequestId = 1u << 2;
inline constexpr uint32_t kLeasedUntil = 1u << 3;
inline constexpr uint32_t kMetadata = 1u << 4;
inline constexpr uint32_t kResultMetadata = 1u << 5;
inline constexpr uint32_t kErrorMetadata = 1u << 6;
inline constexpr uint32_t kCompletedAt = 1u << 7;
inline constexpr uint32_t kFailedAt = 1u << 8;
inline constexpr uint32_t kCancelledAt = 1u << 9;
inline constexpr uint32_t kAll = (1u << 10) - 1;
}  // namespace action_bit

namespace pause_bit {
inline constexpr uint32_t kIdempotencyKey = 1u << 0;
inline constexpr uint32_t kMetadata = 1u << 1;
inline constexpr uint32_t kInterventionId = 1u << 2;
inline constexpr uint32_t kInterventionBy = 1u << 3;
inline constexpr uint32_t kInterventionStartedAt = 1u << 4;
inline constexpr uint32_t kInterventionCompletedBy = 1u << 5;
inline constexpr uint32_t kInterventionCompletedAt = 1u << 6;
inline constexpr uint32_t kGuidance = 1u << 7;
inline constexpr uint32_t kResumeId = 1u << 8;
inline constexpr uint32_t kResumedBy = 1u << 9;
inline constexpr uint32_t kResumedAt = 1u << 10;
inline constexpr uint32_t kResumeMetadata = 1u << 11;
inline constexpr uint32_t kAllVersion1 = (1u << 12) - 1;
inline constexpr uint32_t kEarlierInterventionIds = 1u << 12;  // version 2
inline constexpr uint32_t kAll = (1u << 13) - 1;
}  // namespace pause_bit

}  // namespace acpstore::record::format

#endif  // ACPSTORE_RECORD_MUTATION_FORMAT_H_
