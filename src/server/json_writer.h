// JsonWriter builds compact JSON text for responses. Strings are escaped by
// the record module's canonical writer; raw() inserts text that is already
// canonical JSON (stored payloads and metadata maps) without re-parsing.
//
// The caller keeps the structure well formed (Begin/End pairs, a Key before
// each member value); commas are inserted automatically.
//
// Thread-safety: none; one writer per response.

#ifndef ACPSTORE_SERVER_JSON_WRITER_H_
#define ACPSTORE_SERVER_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "record/canonical_json.h"

namespace acpstore::server {

class JsonWriter {
 public:
  JsonWriter& BeginObject() {
    Sep();
    out_.push_back('{');
    first_ = true;
    return *this;
  }
  JsonWriter& EndObject() {
    out_.push_back('}');
    first_ = false;
    return *this;
  }
  JsonWriter& BeginArray() {
    Sep();
    out_.push_back('[');
    first_ = true;
    return *this;
  }
  JsonWriter& EndArray() {
    out_.push_back(']');
    first_ = false;
    return *this;
  }
  JsonWriter& Key(std::string_view key) {
    Sep();
    record::AppendJsonString(key, &out_);
    out_.push_back(':');
    after_key_ = true;
    return *this;
  }
  JsonWriter& String(std::string_view s) {
    Sep();
    record::AppendJsonString(s, &out_);
    return *this;
  }
  JsonWriter& Int(int64_t v) {
    Sep();
    out_ += std::to_string(v);
    return *this;
  }
  JsonWriter& Uint(uint64_t v) {
    Sep();
    out_ += std::to_string(v);
    return *this;
  }
  JsonWriter& Bool(bool v) {
    Sep();
    out_ += v ? "true" : "false";
    return *this;
  }
  JsonWriter& Null() {
    Sep();
    out_ += "null";
    return *this;
  }
  // `json` must be one complete JSON value.
  JsonWriter& Raw(std::string_view json) {
    Sep();
    out_ += json;
    return *this;
  }

  std::string& str() { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void Sep() {
    if (after_key_) {
      after_key_ = false;
    } else if (!first_) {
      out_.push_back(',');
    }
    first_ = false;
  }

  std::string out_;
  bool first_ = true;
  bool after_key_ = false;
};

}  // namespace acpstore::server

#endif  // ACPSTORE_SERVER_JSON_WRITER_H_
