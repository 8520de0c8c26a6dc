// Data written by a newer release (SPEC §3, "Format compatibility").
//
// Every on-disk format carries a version. A release reads every older
// version of each format; given a newer one it refuses to open the data
// directory (or database), naming the version it found and the newest it
// reads. It never skips such data as damaged, never repairs it and never
// reads it as something else: a newer release's files are valid, this
// binary just cannot read them. Every check returns NewerFormat(), so that
// recovery and the offline tools can tell "written by a newer release"
// (stop) from "damaged" (fall back to an older snapshot, report, repair).

#ifndef ACPSTORE_BASE_FORMAT_VERSION_H_
#define ACPSTORE_BASE_FORMAT_VERSION_H_

#include <cstdint>
#include <string_view>

#include "acpstore/status.h"

namespace acpstore {

// kCorruption (the data cannot be opened) with the message "<what> has
// format version <found>; this acpstore reads versions up to <supported>
// (written by a newer release? ...)" and the details formatVersion and
// supportedFormatVersion.
Status NewerFormat(std::string_view what, uint64_t found, uint64_t supported);

// Whether `s` came from NewerFormat (it carries supportedFormatVersion).
bool IsNewerFormat(const Status& s);

// `s` with `prefix` before its message, code and details kept: recovery
// names the file a record sits in without losing what the decoder found.
Status WithPrefix(const Status& s, std::string_view prefix);

}  // namespace acpstore

#endif  // ACPSTORE_BASE_FORMAT_VERSION_H_
