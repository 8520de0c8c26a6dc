// AegisReader: a Boost.JSON SAX handler that tracks where it is in the
// file (a stack of frames) and rebuilds one record at a time. See reader.h.
//
// This translation unit includes basic_parser_impl.hpp (the parser's
// template definitions), like record/canonical_json.cc; keep it the only
// one in this folder that does. Boost may throw (std::bad_alloc); the entry
// point catches at this edge.
//
// Thread-safety: each call owns its parser, handler and file.

#include "aegis/reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/basic_parser_impl.hpp>
#include <cerrno>
#include <cstring>
#include <memory>
#include <new>
#include <utility>

#include "aegis/surrogate_scrubber.h"
#include "record/canonical_json.h"

namespace acpstore::aegis {
namespace json = boost::json;

std::string_view CollectionKey(Collection c) {
  switch (c) {
    case Collection::kSessions:
      return "sessions";
    case Collection::kEvents:
      return "events";
    case Collection::kActions:
      return "actions";
    case Collection::kPauses:
      return "pauseInterventions";
  }
  return "?";
}

std::optional<std::string_view> RawRecord::Get(std::string_view key) const {
  for (const Member& m : members) {
    if (m.key == key) {
      return static_cast<std::string_view>(text).substr(m.begin, m.size);
    }
  }
  return std::nullopt;
}

namespace {

std::optional<Collection> CollectionOf(std::string_view key) {
  if (key == "sessions") return Collection::kSessions;
  if (key == "events") return Collection::kEvents;
  if (key == "actions") return Collection::kActions;
  // "pauses" is accepted as an alias (docs/aegis_format.md).
  if (key == "pauseInterventions" || key == "pauses") {
    return Collection::kPauses;
  }
  return std::nullopt;
}

bool IsPlainName(std::string_view key) {
  if (key.empty()) return false;
  for (size_t i = 0; i < key.size(); ++i) {
    const char c = key[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                       c == '_' || c == '$';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

void AppendPathKey(std::string_view key, std::string* path) {
  if (IsPlainName(key)) {
    path->push_back('.');
    path->append(key);
    return;
  }
  path->push_back('[');
  record::AppendJsonString(record::QuoteForMessage(key), path);
  path->push_back(']');
}

}  // namespace

void AppendJsonPathKey(std::string_view key, std::string* path) {
  AppendPathKey(key, path);
}

namespace {

enum class Role : uint8_t {
  kTop,         // the top-level object
  kCollection,  // the value of a collection key
  kEventGroup,  // an array of events under events["<session id>"]
  kRecord,      // the container that is a record
  kInRecord,    // a container nested in a record
  kSkip,        // anything not rebuilt
};

struct Frame {
  Role role = Role::kSkip;
  bool is_object = false;
  uint64_t count = 0;        // values started in this container
  std::string key;           // objects: the last key
  bool key_pending = false;  // objects: a key whose value has not begun
  Collection collection = Collection::kSessions;
};

enum class Kind : uint8_t { kObject, kArray, kScalar };

// Members every basic_parser handler must declare, under Boost's names.
// NOLINTBEGIN(readability-identifier-naming)
struct HandlerLimits {
  static constexpr size_t max_array_size = static_cast<size_t>(-1);
  static constexpr size_t max_object_size = static_cast<size_t>(-1);
  static constexpr size_t max_string_size = static_cast<size_t>(-1);
  static constexpr size_t max_key_size = static_cast<size_t>(-1);
};
// NOLINTEND(readability-identifier-naming)

class Handler : public HandlerLimits {
 public:
  Handler(const ReadOptions* options, const RecordSink* sink)
      : options_(options), sink_(sink) {}

  const Status& error() const { return error_; }
  // The error came from the caller's sink, not from the file.
  bool from_sink() const { return from_sink_; }
  FileLayout& layout() { return layout_; }

  // Where the parser is, for a structural error.
  std::string PathHere() const {
    std::string path = "$";
    for (size_t i = 1; i < frames_.size(); ++i) {
      const Frame& parent = frames_[i - 1];
      if (parent.is_object) {
        AppendPathKey(parent.key, &path);
      } else {
        path += "[" + std::to_string(parent.count - 1) + "]";
      }
    }
    if (!frames_.empty()) {
      const Frame& top = frames_.back();
      if (top.is_object && (top.count > 0 || top.key_pending)) {
        AppendPathKey(top.key, &path);
      } else if (!top.is_object && top.count > 0) {
        path += "[" + std::to_string(top.count - 1) + "]";
      }
    }
    return path;
  }

  // A lone surrogate escape was rewritten in the bytes the parser just
  // took: note it on the record being built (the member it is in).
  void NoteSurrogate() {
    if (!building_) {
      ++layout_.surrogates_outside_records;
      return;
    }
    std::string key;
    if (frames_.size() > record_depth_ && !record_.members.empty() &&
        (frames_.size() > record_depth_ + 1 || in_string_ ||
         frames_[record_depth_].key_pending)) {
      key = record_.members.back().key;
    }
    record_.surrogates.push_back(std::move(key));
  }

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }

  bool on_object_begin(json::error_code& ec) {
    return Start(Kind::kObject, ec) && Append("{", ec);
  }
  bool on_object_end(size_t, json::error_code& ec) { return End('}', ec); }
  bool on_array_begin(json::error_code& ec) {
    return Start(Kind::kArray, ec) && Append("[", ec);
  }
  bool on_array_end(size_t, json::error_code& ec) { return End(']', ec); }

  bool on_key_part(json::string_view s, size_t, json::error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, size_t, json::error_code& ec) {
    key_.append(s.data(), s.size());
    Frame& top = frames_.back();
    top.key = std::move(key_);
    top.key_pending = true;
    key_.clear();
    if (top.role == Role::kTop) return TopKey(ec);
    if (!Building()) return true;
    if (top.count > 0 && !Append(",", ec)) return false;
    std::string quoted;
    record::AppendJsonString(top.key, &quoted);
    quoted.push_back(':');
    if (!Append(quoted, ec)) return false;
    if (top.role == Role::kRecord) {
      for (const RawRecord::Member& m : record_.members) {
        if (m.key == top.key && !record_.duplicate_key) {
          record_.duplicate_key = top.key;
        }
      }
      record_.members.push_back({top.key, record_.text.size(), 0});
    }
    return true;
  }

  bool on_string_part(json::string_view s, size_t, json::error_code& ec) {
    if (!in_string_) {
      in_string_ = true;
      if (!Start(Kind::kScalar, ec) || !Append("\"", ec)) return false;
    }
    return AppendEscaped(s, ec);
  }
  bool on_string(json::string_view s, size_t n, json::error_code& ec) {
    if (!on_string_part(s, n, ec)) return false;
    in_string_ = false;
    return Append("\"", ec) && Done(ec);
  }
  bool on_number_part(json::string_view s, json::error_code&) {
    number_.append(s.data(), s.size());
    return true;
  }
  bool on_int64(int64_t v, json::string_view s, json::error_code& ec) {
    if (AtVersion()) {
      layout_.version = v;
    }
    return Number(s, ec);
  }
  bool on_uint64(uint64_t, json::string_view s, json::error_code& ec) {
    return Number(s, ec);
  }
  bool on_double(double, json::string_view s, json::error_code& ec) {
    return Number(s, ec);
  }
  bool on_bool(bool b, json::error_code& ec) {
    return Start(Kind::kScalar, ec) && Append(b ? "true" : "false", ec) &&
           Done(ec);
  }
  bool on_null(json::error_code& ec) {
    if (!frames_.empty() && frames_.back().role == Role::kTop) {
      // A collection given as null counts as empty; the importer decides
      // whether that is allowed.
      Frame& top = frames_.back();
      ++top.count;
      if (std::optional<Collection> c = CollectionOf(top.key)) {
        layout_.null_collections.push_back(*c);
      }
      return true;
    }
    return Start(Kind::kScalar, ec) && Append("null", ec) && Done(ec);
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  bool Fail(Status s, json::error_code& ec) {
    error_ = std::move(s);
    ec = json::error::syntax;
    return false;
  }
  bool Structural(const std::string& what, json::error_code& ec) {
    return Fail(Status::InvalidArgument(PathHere() + ": " + what), ec);
  }

  bool Building() const { return building_; }
  bool AtVersion() const {
    return frames_.size() == 1 && frames_.back().key == "version";
  }

  bool TopKey(json::error_code& ec) {
    const std::string& key = frames_.back().key;
    if (key == "version") {
      if (layout_.version_present) {
        return Structural("\"version\" appears twice", ec);
      }
      layout_.version_present = true;
      return true;
    }
    std::optional<Collection> c = CollectionOf(key);
    if (!c) {
      layout_.unknown_keys.push_back(key);
      return true;
    }
    for (Collection seen : layout_.order) {
      if (seen == *c) {
        return Structural("the collection appears twice", ec);
      }
    }
    layout_.order.push_back(*c);
    return true;
  }

  // A value starts: decide what it is from where it is.
  bool Start(Kind kind, json::error_code& ec) {
    if (frames_.empty()) {
      if (kind != Kind::kObject) {
        return Fail(Status::InvalidArgument(
                        "$: the top level is not an object (not an Aegis "
                        "state file)"),
                    ec);
      }
      frames_.push_back(Frame{Role::kTop, true});
      return true;
    }
    Frame& top = frames_.back();
    ++top.count;
    top.key_pending = false;
    switch (top.role) {
      case Role::kTop: {
        std::optional<Collection> c = CollectionOf(top.key);
        if (!c) return Push(kind, Role::kSkip);
        if (kind == Kind::kScalar) {
          return Structural("expected an array or an object", ec);
        }
        Frame f{Role::kCollection, kind == Kind::kObject};
        f.collection = *c;
        frames_.push_back(std::move(f));
        if (options_->on_collection) options_->on_collection(*c);
        return true;
      }
      case Role::kCollection: {
        if (top.collection == Collection::kEvents && top.is_object) {
          if (kind == Kind::kArray) {
            Frame f{Role::kEventGroup, false};
            f.collection = Collection::kEvents;
            frames_.push_back(std::move(f));
            return true;
          }
          return StartRecord(kind, top.collection, /*bad_group=*/true, ec);
        }
        return StartRecord(kind, top.collection, false, ec);
      }
      case Role::kEventGroup:
        return StartRecord(kind, Collection::kEvents, false, ec);
      case Role::kRecord:
      case Role::kInRecord:
        if (!top.is_object && top.count > 1 && !Append(",", ec)) return false;
        return Push(kind, Role::kInRecord);
      case Role::kSkip:
        return Push(kind, Role::kSkip);
    }
    return true;
  }

  bool Push(Kind kind, Role role) {
    if (kind != Kind::kScalar) {
      frames_.push_back(Frame{role, kind == Kind::kObject});
    }
    return true;
  }

  bool StartRecord(Kind kind, Collection c, bool bad_group,
                   json::error_code& ec) {
    const size_t index = static_cast<size_t>(c);
    const uint64_t ordinal = layout_.records[index]++;
    if (!options_->want[index]) return Push(kind, Role::kSkip);
    record_ = RawRecord();
    eliding_ = false;
    record_.collection = c;
    record_.ordinal = ordinal;
    record_.path = PathHere();
    record_.is_object = kind == Kind::kObject && !bad_group;
    record_.bad_group = bad_group;
    // The member name of the record (or of its events group).
    const Frame& parent = frames_.back();
    if (parent.is_object) {
      record_.map_key = parent.key;
    } else if (parent.role == Role::kEventGroup) {
      record_.map_key = frames_[frames_.size() - 2].key;
    }
    building_ = true;
    record_depth_ = frames_.size();
    if (kind == Kind::kScalar) return true;  // Done() emits it
    Push(kind, Role::kRecord);
    (void)ec;
    return true;
  }

  bool End(char close, json::error_code& ec) {
    if (!Append(std::string_view(&close, 1), ec)) return false;
    frames_.pop_back();
    return Done(ec);
  }

  // A value (scalar, or container just closed) is complete.
  bool Done(json::error_code& ec) {
    if (!building_) return true;
    const size_t depth = frames_.size();
    if (depth == record_depth_ + 1 && frames_.back().role == Role::kRecord &&
        !record_.members.empty()) {
      RawRecord::Member& m = record_.members.back();
      if (eliding_) {
        // The elided value reads as null, so the text stays valid JSON.
        eliding_ = false;
        record_.text.append("null");
      }
      m.size = record_.text.size() - m.begin;
    }
    if (depth == record_depth_) {
      building_ = false;
      Status s = (*sink_)(record_);
      if (!s.ok()) {
        from_sink_ = true;
        return Fail(std::move(s), ec);
      }
    }
    return true;
  }

  bool Number(json::string_view s, json::error_code& ec) {
    number_.append(s.data(), s.size());
    const bool ok = Start(Kind::kScalar, ec) && Append(number_, ec);
    number_.clear();
    return ok && Done(ec);
  }

  bool Append(std::string_view s, json::error_code&) {
    if (!building_ || record_.too_large) return true;
    if (eliding_) {
      record_.elided->bytes += s.size();
      return true;
    }
    record_.text.append(s);
    CheckSize();
    return true;
  }
  bool AppendEscaped(json::string_view s, json::error_code&) {
    if (!building_ || record_.too_large) return true;
    if (eliding_) {
      record_.elided->bytes += s.size();
      return true;
    }
    record::AppendJsonStringBody(std::string_view(s.data(), s.size()),
                                 &record_.text);
    CheckSize();
    return true;
  }
  void CheckSize() {
    if (record_.text.size() <= options_->max_record_bytes) return;
    // Inside a member's value: leave that value out, once per record.
    const bool in_member = frames_.size() > record_depth_ &&
                           !record_.members.empty() &&
                           (frames_.size() > record_depth_ + 1 || in_string_);
    if (in_member && !record_.elided) {
      RawRecord::Member& m = record_.members.back();
      record_.elided = RawRecord::Elided{m.key, record_.text.size() - m.begin};
      record_.text.resize(m.begin);
      record_.text.shrink_to_fit();
      eliding_ = true;
      return;
    }
    record_.too_large = true;
    eliding_ = false;
    record_.text.clear();
    record_.text.shrink_to_fit();
    record_.members.clear();
  }

  const ReadOptions* const options_;
  const RecordSink* const sink_;
  Status error_;
  bool from_sink_ = false;
  FileLayout layout_;
  std::vector<Frame> frames_;
  std::string key_;
  std::string number_;
  bool in_string_ = false;
  bool building_ = false;
  bool eliding_ = false;  // dropping the current member's value
  size_t record_depth_ = 0;  // frames_.size() when the record started
  RawRecord record_;
};

// Overwrites, in place and before the parser sees them, the containers
// that open deeper than ReadOptions::max_depth: the opening bracket becomes
// `0` and everything up to and including its matching close becomes spaces.
// The length stays, so byte offsets in messages are the file's; the JSON
// stays valid; and the parser, whose descent is recursive, never goes
// deeper than max_depth. Streaming: state carries across chunks. Inside an
// overwritten span only strings (so that brackets in them do not count)
// and bracket balance are followed; the rest is dropped unread.
class DepthCap {
 public:
  explicit DepthCap(size_t max_depth) : max_depth_(max_depth) {}

  void Apply(char* data, size_t size) {
    for (size_t i = 0; i < size; ++i) {
      const char c = data[i];
      if (in_string_) {
        if (escaped_) {
          escaped_ = false;
        } else if (c == '\\') {
          escaped_ = true;
        } else if (c == '"') {
          in_string_ = false;
        }
      } else if (c == '"') {
        in_string_ = true;
      } else if (c == '[' || c == '{') {
        if (cut_ > 0) {
          ++cut_;
        } else if (depth_ >= max_depth_) {
          cut_ = 1;
          data[i] = '0';
          continue;
        } else {
          ++depth_;
        }
      } else if (c == ']' || c == '}') {
        if (cut_ > 0) {
          --cut_;
          data[i] = ' ';
          continue;
        }
        if (depth_ > 0) --depth_;
      }
      if (cut_ > 0) data[i] = ' ';
    }
  }

 private:
  const size_t max_depth_;
  size_t depth_ = 0;  // containers open outside a cut
  size_t cut_ = 0;    // containers open inside the one being overwritten
  bool in_string_ = false;
  bool escaped_ = false;
};

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Status ErrnoStatus(const std::string& what, int err) {
  return Status::IoError(what + ": " + std::strerror(err));
}

// A path that names no file this process can read is a bad argument like
// a file that is not JSON (kInvalidArgument: `import-aegis` exits 2, SPEC
// §8); other failures (EMFILE, EIO, ...) are the machine's, not the
// file's. Both were kIoError, so a missing file exited 1 (found by a
// review).
bool NamesNoReadableFile(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
    case EISDIR:
    case EACCES:
    case EPERM:
    case ELOOP:
    case ENAMETOOLONG:
      return true;
    default:
      return false;
  }
}

Result<FileLayout> Read(const std::string& path, const ReadOptions& options,
                        const RecordSink& on_record) {
  // O_NONBLOCK: a FIFO with no writer would block the open; it is
  // refused below, and a regular file's reads ignore the flag.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) {
    const int err = errno;
    if (NamesNoReadableFile(err)) {
      return Status::InvalidArgument("cannot open " + path + ": " +
                                     std::strerror(err));
    }
    return ErrnoStatus("cannot open " + path, err);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    return ErrnoStatus("cannot stat " + path, errno);
  }
  // open() takes a directory, whose read fails with EISDIR (an I/O error
  // as far as the status said). A pipe or device cannot be read the
  // several times an import reads its file: the second open of a FIFO
  // waited for a writer for ever.
  if (S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument("cannot read " + path +
                                   ": it is a directory, not an Aegis state "
                                   "file");
  }
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument(
        "cannot read " + path +
        ": not a regular file (a pipe or a device), and an import reads its "
        "file more than once; copy it to a file first");
  }
  const uint64_t total = static_cast<uint64_t>(st.st_size);
#ifdef POSIX_FADV_SEQUENTIAL
  (void)::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
#endif

  json::parse_options popts;
  // Payloads have no depth limit in Aegis, but the parser recurses once per
  // level: DepthCap keeps what it sees within max_depth (one more here
  // only so that the cap, not the parser, is what ever stops a level).
  popts.max_depth = options.max_depth + 1;
  DepthCap depth_cap(options.max_depth);
  auto parser = std::make_unique<json::basic_parser<Handler>>(popts, &options,
                                                              &on_record);
  Handler& h = parser->handler();
  SurrogateScrubber scrubber;
  std::vector<size_t> repaired_ends;
  std::string chunk(std::max<size_t>(options.chunk_bytes, 4096), '\0');
  size_t carry = 0;     // held-back bytes at the front of chunk
  uint64_t offset = 0;  // file offset of chunk[0]
  uint64_t read_total = 0;

  // Feeds data[0, size) (at file offset `at`) to the parser.
  auto feed = [&](const char* data, size_t size, uint64_t at,
                  bool more) -> Status {
    json::error_code ec;
    size_t used = 0;
    if (!parser->done()) used = parser->write_some(more, data, size, ec);
    if (!h.error().ok()) {
      if (h.from_sink()) return h.error();
      return Status(h.error().code(), "at byte " + std::to_string(at + used) +
                                          ", " +
                                          std::string(h.error().message()));
    }
    if (ec) {
      if (ec == json::error::incomplete) {
        return Status::InvalidArgument("the file ends early at byte " +
                                       std::to_string(total) + ", inside " +
                                       h.PathHere() + ": it is truncated");
      }
      return Status::InvalidArgument("invalid JSON at byte " +
                                     std::to_string(at + used) + ", in " +
                                     h.PathHere() + ": " + ec.message());
    }
    // Once the document is complete only whitespace may follow.
    for (size_t i = used; i < size; ++i) {
      const char c = data[i];
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
        return Status::InvalidArgument(
            "unexpected data after the top-level object at byte " +
            std::to_string(at + i));
      }
    }
    return Status::OK();
  };

  bool finished = false;
  while (!finished) {
    ssize_t n = ::read(fd.get(), chunk.data() + carry, chunk.size() - carry);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("cannot read " + path, errno);
    }
    const bool more = n > 0;
    read_total += static_cast<uint64_t>(n);
    const size_t size = carry + static_cast<size_t>(n);
    repaired_ends.clear();
    const size_t final_bytes =
        scrubber.Scrub(chunk.data(), size, !more, &repaired_ends);
    // The held-back tail is capped with the next chunk, once.
    depth_cap.Apply(chunk.data(), final_bytes);
    // Feed up to each rewritten escape, then note it while the parser is
    // still inside the string that held it.
    size_t pos = 0;
    for (size_t end : repaired_ends) {
      ACPSTORE_RETURN_IF_ERROR(
          feed(chunk.data() + pos, end - pos, offset + pos, true));
      h.NoteSurrogate();
      pos = end;
    }
    ACPSTORE_RETURN_IF_ERROR(
        feed(chunk.data() + pos, final_bytes - pos, offset + pos, more));
    carry = size - final_bytes;
    if (carry > 0) std::memmove(chunk.data(), chunk.data() + final_bytes, carry);
    offset += final_bytes;
    if (options.progress) options.progress(read_total, total);
    finished = !more;
  }
  if (!parser->done()) {
    return Status::InvalidArgument("the file is empty or truncated");
  }
  FileLayout layout = std::move(h.layout());
  layout.bytes = read_total;
  return layout;
}

}  // namespace

Result<FileLayout> ReadAegisFile(const std::string& path,
                                 const ReadOptions& options,
                                 const RecordSink& on_record) {
  try {
    return Read(path, options, on_record);
  } catch (const std::bad_alloc&) {
    return Status::Unavailable("out of memory reading " + path);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("reading ") + path + ": " + e.what());
  }
}

}  // namespace acpstore::aegis
