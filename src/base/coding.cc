// Little-endian fixed and varint coding. See coding.h.

#include "base/coding.h"

namespace acpstore::base {

void PutFixed32(std::string* dst, uint32_t value) {
  char buf[4];
  EncodeFixed32(buf, value);
  dst->append(buf, sizeof(buf));
}

void PutFixed64(std::string* dst, uint64_t value) {
  char buf[8];
  EncodeFixed64(buf, value);
  dst->append(buf, sizeof(buf));
}

void PutVarint64(std::string* dst, uint64_t value) {
  char buf[kMaxVarint64Bytes];
  size_t n = 0;
  while (value >= 0x80) {
    buf[n++] = static_cast<char>((value & 0x7f) | 0x80);
    value >>= 7;
  }
  buf[n++] = static_cast<char>(value);
  dst->append(buf, n);
}

void PutVarint32(std::string* dst, uint32_t value) { PutVarint64(dst, value); }

void PutLengthPrefixed(std::string* dst, std::string_view value) {
  PutVarint32(dst, static_cast<uint32_t>(value.size()));
  dst->append(value);
}

size_t VarintLength(uint64_t value) {
  size_t n = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++n;
  }
  return n;
}

bool GetFixed32(std::string_view* input, uint32_t* value) {
  if (input->size() < 4) return false;
  *value = DecodeFixed32(input->data());
  input->remove_prefix(4);
  return true;
}

bool GetFixed64(std::string_view* input, uint64_t* value) {
  if (input->size() < 8) return false;
  *value = DecodeFixed64(input->data());
  input->remove_prefix(8);
  return true;
}

namespace {

// Decodes at most `max_bytes` bytes; the last allowed byte may only carry
// the bits that still fit in `bits`.
bool GetVarint(std::string_view* input, int bits, uint64_t* value) {
  const size_t max_bytes = (bits + 6) / 7;
  uint64_t result = 0;
  for (size_t i = 0; i < max_bytes && i < input->size(); ++i) {
    auto byte = static_cast<uint8_t>((*input)[i]);
    const int shift = static_cast<int>(7 * i);
    const int room = bits - shift;  // bits left for this byte's payload
    if (room < 7 && (byte & 0x7f) >> room != 0) return false;
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      input->remove_prefix(i + 1);
      *value = result;
      return true;
    }
  }
  return false;  // ran out of bytes, or the last allowed byte had a
                 // continuation bit
}

}  // namespace

bool GetVarint32(std::string_view* input, uint32_t* value) {
  uint64_t v;
  if (!GetVarint(input, 32, &v)) return false;
  *value = static_cast<uint32_t>(v);
  return true;
}

bool GetVarint64(std::string_view* input, uint64_t* value) {
  return GetVarint(input, 64, value);
}

bool GetLengthPrefixed(std::string_view* input, std::string_view* value) {
  uint32_t len;
  std::string_view rest = *input;
  if (!GetVarint32(&rest, &len) || rest.size() < len) return false;
  *value = rest.substr(0, len);
  rest.remove_prefix(len);
  *input = rest;
  return true;
}

}  // namespace acpstore::base
