// SurrogateScrubber rewrites lone UTF-16 surrogate escapes in JSON text
// (`"\ud83d"`: agent output cut in the middle of an emoji) to `\ufffd`, in
// place, before the bytes reach a strict JSON parser.
//
// Why: JavaScript's JSON.stringify writes a lone surrogate as an escape, so
// real Aegis files hold them (docs/aegis_format.md, "Strings"), but such a
// string has no UTF-8 form and Boost.JSON refuses it. `\ud83d` and
// `\ufffd` are both six bytes, so the rewrite never moves a byte and file
// offsets in error messages stay true. A valid pair (`\ud83d\ude00`) is
// left alone.
//
// It sees the text as a stream of chunks. A chunk may end inside an escape,
// or after a high surrogate whose partner would start the next chunk: the
// scrubber then holds back that tail (at most 11 bytes), which the caller
// must present again at the front of the next chunk. It tracks only
// whether it is inside a string; anything that is not valid JSON is left
// for the parser to refuse.
//
// Thread-safety: one instance per stream.

#ifndef ACPSTORE_AEGIS_SURROGATE_SCRUBBER_H_
#define ACPSTORE_AEGIS_SURROGATE_SCRUBBER_H_

#include <cstddef>
#include <vector>

namespace acpstore::aegis {

class SurrogateScrubber {
 public:
  // Scrubs data[0, size). Returns how many bytes are final (the rest is a
  // held-back tail; 0..11 bytes, none when `last`). `repaired_ends` gets,
  // in order, the offset just past each rewritten escape.
  size_t Scrub(char* data, size_t size, bool last,
               std::vector<size_t>* repaired_ends);

 private:
  bool in_string_ = false;
};

}  // namespace acpstore::aegis

#endif  // ACPSTORE_AEGIS_SURROGATE_SCRUBBER_H_
