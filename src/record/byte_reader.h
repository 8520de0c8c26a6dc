// ByteReader consumes an encoded record or mutation from the front of a
// byte view for the strict decoders of record_codec.h and mutation_codec.h.
// Every getter is bounds-checked and fails with kCorruption naming the field
// and its byte offset (relative to the start of the outermost encoding, so a
// message about an event inside a mutation points into the mutation).
//
// Thread-safety: none; a short-lived local. Lifetime: views the caller's
// bytes, which must outlive it.

#ifndef ACPSTORE_RECORD_BYTE_READER_H_
#define ACPSTORE_RECORD_BYTE_READER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "acpstore/status.h"
#include "base/coding.h"

namespace acpstore::record {

class ByteReader {
 public:
  // `base_offset`: where `input` starts within the outermost encoding.
  explicit ByteReader(std::string_view input, uint64_t base_offset = 0)
      : input_(input), base_offset_(base_offset), start_size_(input.size()) {}

  uint64_t offset() const { return base_offset_ + start_size_ - input_.size(); }
  std::string_view rest() const { return input_; }
  bool empty() const { return input_.empty(); }

  // kCorruption "<message> at offset N" with detail "offset".
  Status Corrupt(std::string_view message) const {
    return Status::Corruption(std::string(message) + " at offset " +
                              std::to_string(offset()))
        .With("offset", static_cast<int64_t>(offset()));
  }

  // Outputs are zeroed first, so a caller never reads an indeterminate
  // value after a failure (and GCC's -Wmaybe-uninitialized agrees).
  Status U8(std::string_view what, uint8_t* v) {
    *v = 0;
    if (input_.empty()) return Truncated(what);
    *v = static_cast<uint8_t>(input_[0]);
    input_.remove_prefix(1);
    return Status::OK();
  }
  Status Fixed32(std::string_view what, uint32_t* v) {
    *v = 0;
    if (!base::GetFixed32(&input_, v)) return Truncated(what);
    return Status::OK();
  }
  Status Varint32(std::string_view what, uint32_t* v) {
    *v = 0;
    if (!base::GetVarint32(&input_, v)) return BadVarint(what);
    return Status::OK();
  }
  Status Varint64(std::string_view what, uint64_t* v) {
    *v = 0;
    if (!base::GetVarint64(&input_, v)) return BadVarint(what);
    return Status::OK();
  }
  // int64 stored as its two's-complement bit pattern in a varint64.
  Status Int64(std::string_view what, int64_t* v) {
    uint64_t u = 0;
    ACPSTORE_RETURN_IF_ERROR(Varint64(what, &u));
    *v = static_cast<int64_t>(u);
    return Status::OK();
  }
  // The next `n` bytes, viewing the input.
  Status Bytes(std::string_view what, uint64_t n, std::string_view* v) {
    if (n > input_.size()) {
      return Corrupt(std::string(what) + ": length " + std::to_string(n) +
                     " runs past the end (" + std::to_string(input_.size()) +
                     " bytes left)");
    }
    *v = input_.substr(0, n);
    input_.remove_prefix(n);
    return Status::OK();
  }
  // varint32 length, then the bytes.
  Status String(std::string_view what, std::string* v) {
    uint32_t n = 0;
    std::string_view bytes;
    ACPSTORE_RETURN_IF_ERROR(Varint32(what, &n));
    ACPSTORE_RETURN_IF_ERROR(Bytes(what, n, &bytes));
    v->assign(bytes);
    return Status::OK();
  }
  // Reads the field only if `bit` is set in `presence`; else leaves it empty.
  Status OptString(std::string_view what, uint32_t presence, uint32_t bit,
                   std::optional<std::string>* v) {
    if ((presence & bit) == 0) {
      v->reset();
      return Status::OK();
    }
    return String(what, &v->emplace());
  }
  Status OptInt64(std::string_view what, uint32_t presence, uint32_t bit,
                  std::optional<int64_t>* v) {
    if ((presence & bit) == 0) {
      v->reset();
      return Status::OK();
    }
    return Int64(what, &v->emplace());
  }

 private:
  Status Truncated(std::string_view what) const {
    return Corrupt(std::string(what) + " runs past the end");
  }
  Status BadVarint(std::string_view what) const {
    return Corrupt(std::string(what) + ": truncated or overlong varint");
  }

  std::string_view input_;
  uint64_t base_offset_;
  size_t start_size_;
};

}  // namespace acpstore::record

#endif  // ACPSTORE_RECORD_BYTE_READER_H_
