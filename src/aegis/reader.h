// AegisReader streams an Aegis state file (`acp-local-storage.json`,
// docs/aegis_format.md) and hands over one record at a time, so a 2 GB file
// needs the memory of its largest record, not of the file.
//
// It feeds fixed-size chunks of the file to Boost.JSON's SAX parser and
// rebuilds each record of the four collections (sessions, events, actions,
// pauseInterventions) as compact JSON text, noting where each of its
// top-level members lies in that text. It knows the file's shape, not the
// records' fields: mapping.h turns a RawRecord into acpstore records.
//
// Lone UTF-16 surrogate escapes, which JSON.stringify writes and a strict
// parser refuses, become U+FFFD and are listed on their record
// (surrogate_scrubber.h).
//
// Structural damage (invalid JSON, a truncated file, a top level that is not
// an object, a collection of the wrong type, a repeated collection key) ends
// the read with kInvalidArgument naming the byte offset and the JSON path.
// A record that is not an object, or is larger than max_record_bytes, is
// still handed over (flagged), so the caller reports and skips it.
//
// Thread-safety: one call reads one file; no shared state.

#ifndef ACPSTORE_AEGIS_READER_H_
#define ACPSTORE_AEGIS_READER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "acpstore/result.h"
#include "acpstore/status.h"

namespace acpstore::aegis {

enum class Collection : uint8_t { kSessions, kEvents, kActions, kPauses };
inline constexpr size_t kCollectionCount = 4;
// "sessions", "events", "actions", "pauseInterventions".
std::string_view CollectionKey(Collection c);

struct RawRecord {
  struct Member {
    std::string key;
    size_t begin = 0;  // span of the member's value in `text`
    size_t size = 0;
  };

  Collection collection = Collection::kSessions;
  // 0-based position among the records of its collection, in file order
  // (the same in every read of the same file).
  uint64_t ordinal = 0;
  // "$.sessions[3]", "$.events[\"s-1\"][4]".
  std::string path;
  // The member name when the collection (or, for events, the group) is an
  // object: a session/action/pause id, or the session id of an event group.
  std::optional<std::string> map_key;
  bool is_object = false;
  bool too_large = false;  // over max_record_bytes; text is incomplete
  // One member whose value alone pushed the record over max_record_bytes
  // (a huge payload): its text is left out (it reads as `null`) so the
  // rest of the record, and the record itself, survive.
  struct Elided {
    std::string key;
    uint64_t bytes = 0;  // of its compact text, as far as it was rebuilt
  };
  std::optional<Elided> elided;
  // Lone UTF-16 surrogate escapes rewritten to U+FFFD inside this record:
  // the key of the member each was in ("" when not inside a member value),
  // in file order (surrogate_scrubber.h).
  std::vector<std::string> surrogates;
  bool bad_group = false;  // an events group that is not an array
  std::optional<std::string> duplicate_key;  // a top-level key seen twice
  std::string text;                          // compact JSON of the record
  std::vector<Member> members;

  // The member's compact JSON text, or std::nullopt when absent.
  std::optional<std::string_view> Get(std::string_view key) const;
};

// What one complete read of the file found.
struct FileLayout {
  std::optional<int64_t> version;  // when "version" is an integer
  bool version_present = false;
  // The collections present, in file order, and those of them given as
  // null (read as empty).
  std::vector<Collection> order;
  std::vector<Collection> null_collections;
  std::vector<std::string> unknown_keys;    // other top-level keys, skipped
  // Lone surrogate escapes rewritten outside any record (in skipped keys).
  uint64_t surrogates_outside_records = 0;
  uint64_t records[kCollectionCount] = {};  // per collection, all of them
  uint64_t bytes = 0;
};

struct ReadOptions {
  size_t chunk_bytes = 1 << 20;
  // A member value that takes a record over this is elided (RawRecord::
  // elided); a record still over it is handed over with too_large set.
  size_t max_record_bytes = 16 << 20;
  // Records of collections not wanted are parsed but not rebuilt (cheap).
  bool want[kCollectionCount] = {true, true, true, true};
  // Called after each chunk: bytes read so far, file size.
  std::function<void(uint64_t done, uint64_t total)> progress;
  // Called when a collection's value begins. Collections never nest and
  // each appears once, so every collection begun before is complete.
  std::function<void(Collection)> on_collection;
  // Nesting depth, counted from the top-level object (1), past which a
  // container is not parsed: the parser descends by recursion, a C++ frame
  // per level, so an unbounded depth overflows the stack (100,000 levels in
  // 200 KB did). Such a container reaches the record as `0` (so the value
  // holding it is still deeper than this, and too deep for any limit below
  // it); only its strings and bracket balance are read. Keep it above the
  // deepest value a consumer keeps: the importer sets it from
  // MapOptions::max_stored_json_depth.
  size_t max_depth = 1100;
};

// Appends `.key` to a JSON path, or `["key"]` (escaped, and shortened for a
// message) when the key is not a plain name: "metadata" + "a b" gives
// `metadata["a b"]`. Report lines use it so every path stays one line.
void AppendJsonPathKey(std::string_view key, std::string* path);

// Reads the whole file, calling on_record for every wanted record in file
// order. A non-OK status from on_record stops the read and is returned.
// kInvalidArgument when the file is not a usable state file: not valid
// JSON, truncated, or a path that names no file this process can read
// (missing, a directory, no permission); kIoError when reading fails
// otherwise.
using RecordSink = std::function<Status(RawRecord& record)>;
Result<FileLayout> ReadAegisFile(const std::string& path,
                                 const ReadOptions& options,
                                 const RecordSink& on_record);

}  // namespace acpstore::aegis

#endif  // ACPSTORE_AEGIS_READER_H_
