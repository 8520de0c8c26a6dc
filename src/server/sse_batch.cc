// One SSE write's pieces. See sse_batch.h.

#include "server/sse_batch.h"

#include <utility>

namespace acpstore::server {

SseBatch::Piece& SseBatch::Push() {
  if (!pieces_.empty()) sealed_bytes_ += Bytes(pieces_.back());
  return pieces_.emplace_back();
}

void SseBatch::AddShared(std::shared_ptr<const std::string> frame) {
  Push().shared = std::move(frame);
}

std::string* SseBatch::Owned() {
  // Small frames next to each other share one owned piece, so a batch
  // has about one piece per shared frame at most.
  if (pieces_.empty() || pieces_.back().shared) return &Push().owned;
  return &pieces_.back().owned;
}

std::string SseBatch::Flatten() const {
  std::string out;
  out.reserve(size());
  for (size_t i = 0; i < pieces_.size(); ++i) out.append(piece(i));
  return out;
}

void SseBatch::Clear() {
  pieces_.clear();
  sealed_bytes_ = 0;
}

}  // namespace acpstore::server
