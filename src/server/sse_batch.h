// SseBatch holds the bytes of one SSE write as a sequence of pieces: the
// event frames shared with the SseFrameCache (and every other stream of
// the session), referenced and not copied, and small owned strings for
// everything else (truncated, transcript, error frames) in between.
//
// Why: copying each frame into every stream's own buffer was 23% of the
// server's CPU in the 1,000-subscriber fan-out (docs/benchmarks.md, "SSE
// fan-out (issue 14)"). SseStream writes the pieces with one scatter/
// gather write instead.
//
// Memory: a batch keeps its shared frames alive until it is cleared, that
// is until its write has ended (or failed, or timed out). A frame the
// cache evicts meanwhile lives outside the cache's byte cap for that long
// only; SseStream fills a batch to at most sse_buffer_bytes plus one event
// (each page it pulls takes only the room left), so each stream adds at
// most that on top of the cap, and never more than the copies it held
// before.
//
// Kept free of Asio so it is unit-tested on its own.
// Thread-safety: none; one stream's strand uses it.

#ifndef ACPSTORE_SERVER_SSE_BATCH_H_
#define ACPSTORE_SERVER_SSE_BATCH_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace acpstore::server {

class SseBatch {
 public:
  // Appends a shared frame, referenced until Clear().
  void AddShared(std::shared_ptr<const std::string> frame);
  // The owned string at the end of the batch, for the caller to append
  // to. Valid until the next AddShared/Owned/Clear.
  std::string* Owned();

  // Bytes in the batch.
  size_t size() const {
    return pieces_.empty() ? 0 : sealed_bytes_ + Bytes(pieces_.back());
  }
  bool empty() const { return size() == 0; }
  size_t pieces() const { return pieces_.size(); }
  std::string_view piece(size_t i) const {
    const Piece& p = pieces_[i];
    if (p.shared) return *p.shared;
    return p.owned;
  }
  // Every piece as one string (tests, and error paths that want a copy).
  std::string Flatten() const;

  // Drops the pieces (and the references to shared frames).
  void Clear();

 private:
  // One of the two is used: `shared` when set, else `owned`.
  struct Piece {
    std::shared_ptr<const std::string> shared;
    std::string owned;
  };
  static size_t Bytes(const Piece& p) {
    return p.shared ? p.shared->size() : p.owned.size();
  }
  // Starts a new piece, the last one's size now fixed.
  Piece& Push();

  std::vector<Piece> pieces_;
  size_t sealed_bytes_ = 0;  // of every piece but the last
};

}  // namespace acpstore::server

#endif  // ACPSTORE_SERVER_SSE_BATCH_H_
