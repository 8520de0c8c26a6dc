// Mutation codec. Grammar: docs/mutation_format.md.

#include "record/mutation_codec.h"

#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "base/coding.h"
#include "base/crc32c.h"
#include "base/format_version.h"
#include "record/byte_reader.h"
#include "record/mutation_format.h"
#include "record/record_codec.h"

namespace acpstore::record {
namespace {

namespace f = format;
using base::crc32c::Mask;
using base::crc32c::Unmask;

// The smallest framed event: crc, a one-byte length, a version byte.
constexpr size_t kMinFramedEventBytes = f::kEventCrcSize + 2;

void PutTag(std::string* dst, f::OpTag tag) {
  dst->push_back(static_cast<char>(tag));
}

void PutFramed(std::string_view event_bytes, std::string* dst) {
  base::PutFixed32(dst, Mask(base::crc32c::Value(event_bytes)));
  base::PutLengthPrefixed(dst, event_bytes);
}

// PutFramed(EncodeEvent(e)) without building the event's bytes first: the
// CRC runs over the head, the payload's length and the payload in place,
// and the payload is copied once, straight into dst (it was copied twice
// and was most of EncodeMutation's cost: issue 14). `head` is scratch.
void PutFramedEvent(const Event& e, std::string* head, std::string* dst) {
  head->clear();
  EncodeEventHead(e, head);
  base::PutVarint32(head, static_cast<uint32_t>(e.payload.size()));
  const uint32_t crc = base::crc32c::Extend(base::crc32c::Value(*head),
                                            e.payload.data(), e.payload.size());
  base::PutFixed32(dst, Mask(crc));
  base::PutVarint32(dst,
                    static_cast<uint32_t>(head->size() + e.payload.size()));
  dst->append(*head);
  dst->append(e.payload);
}

// An upper bound of what EncodeMutation appends for `m`'s events, so the
// record buffer is allocated once instead of doubling through every size
// up to it, copying and faulting in fresh pages each time.
size_t EventBytesBound(const Mutation& m) {
  constexpr size_t kFixedPerEvent = 64;  // tags, varints, CRC, lengths
  size_t n = 0;
  for (const MutationOp& op : m.ops) {
    const auto* append = std::get_if<AppendEventsOp>(&op);
    if (append == nullptr) continue;
    n += append->tenant_id.size() + append->session_id.size() + 32;
    for (const Event& e : append->events) {
      n += kFixedPerEvent + e.payload.size() + e.session_id.size() +
           e.tenant_id.size() + e.owner_key_id.size() + e.event_type.size() +
           (e.client_event_id ? e.client_event_id->size() : 0) +
           (e.backend_run_id ? e.backend_run_id->size() : 0) +
           (e.payload_ref ? e.payload_ref->size() : 0);
    }
  }
  return n;
}

std::string_view OpName(f::OpTag tag) {
  switch (tag) {
    case f::OpTag::kUpsertSession:
      return "upsert_session";
    case f::OpTag::kDeleteSession:
      return "delete_session";
    case f::OpTag::kAppendEvents:
      return "append_events";
    case f::OpTag::kDropEvents:
      return "drop_events";
    case f::OpTag::kUpsertAction:
      return "upsert_action";
    case f::OpTag::kDeleteAction:
      return "delete_action";
    case f::OpTag::kUpsertPause:
      return "upsert_pause";
    case f::OpTag::kAdvanceSeq:
      return "advance_seq";
    case f::OpTag::kInvalid:
      break;
  }
  return "unknown";
}

// `prefix` + the message of `s`, keeping its code and details.
Status Prefixed(const Status& s, const std::string& prefix) {
  Status out(s.code(), prefix + std::string(s.message()));
  for (const StatusDetail& d : s.details()) {
    std::visit([&](const auto& v) { out.With(d.key, v); }, d.value);
  }
  return out;
}

// How far a framed event got before it failed: the difference between
// damaged bytes (kDataLoss for a positioned read) and a bad encoding.
enum class FrameStage { kFraming, kChecksummed };

Status ReadFramedEvent(ByteReader* in, Event* out, FrameStage* stage) {
  *stage = FrameStage::kFraming;
  uint32_t masked_crc = 0;
  uint32_t length = 0;
  std::string_view bytes;
  ACPSTORE_RETURN_IF_ERROR(in->Fixed32("event checksum", &masked_crc));
  ACPSTORE_RETURN_IF_ERROR(in->Varint32("event length", &length));
  const uint64_t bytes_offset = in->offset();
  ACPSTORE_RETURN_IF_ERROR(in->Bytes("event", length, &bytes));
  if (Unmask(masked_crc) != base::crc32c::Value(bytes)) {
    return ByteReader(bytes, bytes_offset).Corrupt("event checksum mismatch");
  }
  *stage = FrameStage::kChecksummed;
  ByteReader event_in(bytes, bytes_offset);
  ACPSTORE_RETURN_IF_ERROR(DecodeEvent(&event_in, out));
  if (!event_in.empty()) {
    return event_in.Corrupt("trailing bytes after the event");
  }
  return Status::OK();
}

// `spans` may be null; offsets are the reader's, i.e. from the first byte
// of the mutation.
Status ReadOp(ByteReader* in, f::OpTag tag, Mutation* m,
              std::vector<EventSpan>* spans) {
  switch (tag) {
    case f::OpTag::kUpsertSession: {
      UpsertSessionOp op;
      ACPSTORE_RETURN_IF_ERROR(DecodeSession(in, &op.session));
      m->ops.emplace_back(std::move(op));
      return Status::OK();
    }
    case f::OpTag::kDeleteSession: {
      DeleteSessionOp op;
      ACPSTORE_RETURN_IF_ERROR(in->String("tenant_id", &op.tenant_id));
      ACPSTORE_RETURN_IF_ERROR(in->String("session_id", &op.session_id));
      m->ops.emplace_back(std::move(op));
      return Status::OK();
    }
    case f::OpTag::kAppendEvents: {
      AppendEventsOp op;
      uint32_t count = 0;
      ACPSTORE_RETURN_IF_ERROR(in->String("tenant_id", &op.tenant_id));
      ACPSTORE_RETURN_IF_ERROR(in->String("session_id", &op.session_id));
      ACPSTORE_RETURN_IF_ERROR(in->Varint32("event count", &count));
      if (count > in->rest().size() / kMinFramedEventBytes) {
        return in->Corrupt("event count " + std::to_string(count) +
                           " runs past the end");
      }
      op.events.resize(count);
      for (uint32_t i = 0; i < count; ++i) {
        FrameStage stage = FrameStage::kFraming;
        const uint64_t at = in->offset();
        Status s = ReadFramedEvent(in, &op.events[i], &stage);
        if (!s.ok()) return Prefixed(s, "event " + std::to_string(i) + ": ");
        if (spans != nullptr) {
          spans->push_back({static_cast<uint32_t>(at),
                            static_cast<uint32_t>(in->offset() - at)});
        }
      }
      m->ops.emplace_back(std::move(op));
      return Status::OK();
    }
    case f::OpTag::kDropEvents: {
      DropEventsOp op;
      ACPSTORE_RETURN_IF_ERROR(in->String("tenant_id", &op.tenant_id));
      ACPSTORE_RETURN_IF_ERROR(in->String("session_id", &op.session_id));
      ACPSTORE_RETURN_IF_ERROR(in->Varint64("through_seq", &op.through_seq));
      m->ops.emplace_back(std::move(op));
      return Status::OK();
    }
    case f::OpTag::kUpsertAction: {
      UpsertActionOp op;
      ACPSTORE_RETURN_IF_ERROR(DecodeAction(in, &op.action));
      m->ops.emplace_back(std::move(op));
      return Status::OK();
    }
    case f::OpTag::kDeleteAction: {
      DeleteActionOp op;
      ACPSTORE_RETURN_IF_ERROR(in->String("tenant_id", &op.tenant_id));
      ACPSTORE_RETURN_IF_ERROR(in->String("action_id", &op.action_id));
      m->ops.emplace_back(std::move(op));
      return Status::OK();
    }
    case f::OpTag::kUpsertPause: {
      UpsertPauseOp op;
      ACPSTORE_RETURN_IF_ERROR(DecodePause(in, &op.pause));
      m->ops.emplace_back(std::move(op));
      return Status::OK();
    }
    case f::OpTag::kAdvanceSeq: {
      AdvanceSeqOp op;
      ACPSTORE_RETURN_IF_ERROR(in->String("tenant_id", &op.tenant_id));
      ACPSTORE_RETURN_IF_ERROR(in->String("session_id", &op.session_id));
      ACPSTORE_RETURN_IF_ERROR(in->Varint64("through_seq", &op.through_seq));
      m->ops.emplace_back(std::move(op));
      return Status::OK();
    }
    case f::OpTag::kInvalid:
      break;
  }
  return in->Corrupt("unknown op tag " +
                     std::to_string(static_cast<unsigned>(tag)));
}

}  // namespace

void EncodeFramedEvent(const Event& event, std::string* dst) {
  std::string bytes;
  EncodeEvent(event, &bytes);
  PutFramed(bytes, dst);
}

void EncodeMutation(const Mutation& mutation, std::string* dst,
                    std::vector<EventSpan>* event_spans) {
  const size_t start = dst->size();
  dst->reserve(start + 16 + EventBytesBound(mutation));
  dst->push_back(static_cast<char>(f::kMutationVersion));
  base::PutVarint32(dst, static_cast<uint32_t>(mutation.ops.size()));
  std::string scratch;  // one event's head; reused so it allocates once
  for (const MutationOp& op : mutation.ops) {
    std::visit(
        [&](const auto& o) {
          using T = std::decay_t<decltype(o)>;
          if constexpr (std::is_same_v<T, UpsertSessionOp>) {
            PutTag(dst, f::OpTag::kUpsertSession);
            EncodeSession(o.session, dst);
          } else if constexpr (std::is_same_v<T, DeleteSessionOp>) {
            PutTag(dst, f::OpTag::kDeleteSession);
            base::PutLengthPrefixed(dst, o.tenant_id);
            base::PutLengthPrefixed(dst, o.session_id);
          } else if constexpr (std::is_same_v<T, AppendEventsOp>) {
            PutTag(dst, f::OpTag::kAppendEvents);
            base::PutLengthPrefixed(dst, o.tenant_id);
            base::PutLengthPrefixed(dst, o.session_id);
            base::PutVarint32(dst, static_cast<uint32_t>(o.events.size()));
            for (const Event& e : o.events) {
              const size_t at = dst->size();
              PutFramedEvent(e, &scratch, dst);
              if (event_spans != nullptr) {
                event_spans->push_back(
                    {static_cast<uint32_t>(at - start),
                     static_cast<uint32_t>(dst->size() - at)});
              }
            }
          } else if constexpr (std::is_same_v<T, DropEventsOp>) {
            PutTag(dst, f::OpTag::kDropEvents);
            base::PutLengthPrefixed(dst, o.tenant_id);
            base::PutLengthPrefixed(dst, o.session_id);
            base::PutVarint64(dst, o.through_seq);
          } else if constexpr (std::is_same_v<T, UpsertActionOp>) {
            PutTag(dst, f::OpTag::kUpsertAction);
            EncodeAction(o.action, dst);
          } else if constexpr (std::is_same_v<T, DeleteActionOp>) {
            PutTag(dst, f::OpTag::kDeleteAction);
            base::PutLengthPrefixed(dst, o.tenant_id);
            base::PutLengthPrefixed(dst, o.action_id);
          } else if constexpr (std::is_same_v<T, AdvanceSeqOp>) {
            PutTag(dst, f::OpTag::kAdvanceSeq);
            base::PutLengthPrefixed(dst, o.tenant_id);
            base::PutLengthPrefixed(dst, o.session_id);
            base::PutVarint64(dst, o.through_seq);
          } else {
            static_assert(std::is_same_v<T, UpsertPauseOp>);
            PutTag(dst, f::OpTag::kUpsertPause);
            EncodePause(o.pause, dst);
          }
        },
        op);
  }
}

Status DecodeMutation(std::string_view* input, Mutation* out) {
  return DecodeMutation(input, out, nullptr);
}

Status DecodeMutation(std::string_view* input, Mutation* out,
                      std::vector<EventSpan>* event_spans) {
  ByteReader in(*input);
  uint8_t version = 0;
  uint32_t op_count = 0;
  auto fail = [](const Status& s) { return Prefixed(s, "mutation: "); };
  Status s = in.U8("version", &version);
  if (s.ok() && version > f::kMutationVersion) {
    s = NewerFormat("mutation encoding", version, f::kMutationVersion);
  } else if (s.ok() && version == 0) {
    s = in.Corrupt("mutation version 0");
  }
  if (s.ok()) s = in.Varint32("op count", &op_count);
  // Every op takes at least one byte.
  if (s.ok() && op_count > in.rest().size()) {
    s = in.Corrupt("op count " + std::to_string(op_count) +
                   " runs past the end");
  }
  if (!s.ok()) return fail(s);

  Mutation m;
  m.ops.reserve(op_count);
  // Appended to the caller's vector only on success.
  std::vector<EventSpan> spans;
  std::vector<EventSpan>* spans_or_null =
      event_spans != nullptr ? &spans : nullptr;
  for (uint32_t i = 0; i < op_count; ++i) {
    uint8_t tag = 0;
    s = in.U8("op tag", &tag);
    if (s.ok()) s = ReadOp(&in, static_cast<f::OpTag>(tag), &m, spans_or_null);
    if (!s.ok()) {
      return fail(Prefixed(
          s, "op " + std::to_string(i) + " (" +
                 std::string(OpName(static_cast<f::OpTag>(tag))) + "): "));
    }
  }
  if (!in.empty()) {
    return fail(in.Corrupt(std::to_string(in.rest().size()) +
                           " trailing bytes after the last op"));
  }
  *out = std::move(m);
  *input = in.rest();
  if (event_spans != nullptr) {
    event_spans->insert(event_spans->end(), spans.begin(), spans.end());
  }
  return Status::OK();
}

Status DecodeEventAt(std::string_view bytes, Event* out) {
  ByteReader in(bytes);
  FrameStage stage = FrameStage::kFraming;
  Status s = ReadFramedEvent(&in, out, &stage);
  if (s.ok() && !in.empty()) {
    // The span is longer than the sub-record it claims to hold.
    stage = FrameStage::kFraming;
    s = in.Corrupt("event length disagrees with its span");
  }
  if (s.ok()) return s;
  if (stage == FrameStage::kFraming) {
    Status loss = Status::DataLoss("stored event failed its check: " +
                                   std::string(s.message()));
    for (const StatusDetail& d : s.details()) {
      std::visit([&](const auto& v) { loss.With(d.key, v); }, d.value);
    }
    return loss;
  }
  return Prefixed(s, "stored event: ");
}

}  // namespace acpstore::record
