// The snapshot directory: listing, choosing the snapshot recovery starts
// from, and clean-up. Names: "<20-digit number>.snap", and "<20-digit
// number>.parts" for parts files (snapshot_format.h).
//
// These functions assume no writer is running in the directory (one process
// per data directory; the engine calls them at open and after its own
// writer finished).
//
// Thread-safety: free functions over the file system; safe to call from any
// thread, but not concurrently with a SnapshotWriter in the same directory.

#ifndef ACPSTORE_SNAPSHOT_SNAPSHOT_DIR_H_
#define ACPSTORE_SNAPSHOT_SNAPSHOT_DIR_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "acpstore/result.h"
#include "acpstore/status.h"
#include "io/file_system.h"
#include "snapshot/snapshot_format.h"

namespace acpstore::snapshot {

struct SnapshotFile {
  uint64_t number = 0;
  std::string path;
};

// Snapshots in `dir`, newest (highest number) first. A missing directory
// holds none. Temp files and unrelated names are not listed.
Result<std::vector<SnapshotFile>> ListSnapshots(io::FileSystem& fs,
                                                const std::string& dir);

// Reads the whole snapshot, verifying every checksum and the footer.
// Returns its header, or the kCorruption (or I/O) failure.
Result<SnapshotHeader> ValidateSnapshot(io::FileSystem& fs,
                                        const std::string& path);

struct SkippedSnapshot {
  std::string path;
  Status status;  // why it was skipped
};

struct SnapshotSelection {
  // The newest snapshot that fully validated; nullopt when none did (or
  // there are none: a fresh store, or one that never snapshotted).
  std::optional<SnapshotFile> chosen;
  SnapshotHeader header;  // of `chosen`
  // Newer snapshots that failed validation, newest first. The caller logs
  // and counts them; they are left in place for inspection.
  std::vector<SkippedSnapshot> skipped;
};

// Lists the snapshots newest first and returns the first that fully
// validates. Validation reads each candidate once; the caller then reads
// the chosen one again to load it (and must still check its status, since
// the disk may have changed in between). Fails only when the directory
// cannot be listed.
Result<SnapshotSelection> SelectNewestValid(io::FileSystem& fs,
                                            const std::string& dir);

// Deletes every snapshot numbered below `number`. Call it with the number
// of a snapshot known to be good (just written, or chosen by
// SelectNewestValid) so the newest good one always survives. Syncs the
// directory after deleting. Returns how many files were deleted.
Result<size_t> DeleteOlderThan(io::FileSystem& fs, const std::string& dir,
                               uint64_t number);

// Deletes every snapshot and parts file numbered below `below` that is not
// in `keep` (decision 0027: a kept snapshot's sealed transcript parts may
// lie in an older file, which must stay; decision 0030: or in a parts
// file). Syncs the directory after deleting. Returns how many files were
// deleted.
Result<size_t> DeleteUnkept(io::FileSystem& fs, const std::string& dir,
                            const std::set<uint64_t>& keep, uint64_t below);

// Parts files in `dir` (decision 0030), lowest number first.
Result<std::vector<SnapshotFile>> ListPartsFiles(io::FileSystem& fs,
                                                 const std::string& dir);

// The file numbered `number` in `dir` that a snapshot refers to: the
// parts file of that number if there is one, else the snapshot.
std::string ReferredFilePath(io::FileSystem& fs, const std::string& dir,
                             uint64_t number);

// Deletes the temp files of writers that never finished (a crash, a failed
// Abandon). Returns how many were deleted.
Result<size_t> RemoveTempFiles(io::FileSystem& fs, const std::string& dir);

// A damaged snapshot an open skipped is kept for inspection (a later
// snapshot would otherwise delete it as unkept) under "<its name>.damaged-
// <stamp>": no listing above matches that name, so nothing loads, counts,
// refers to or deletes it. Renames `path` (a file in `dir`) there, with
// "-2", "-3", ... after the stamp if the name is taken, and syncs `dir`.
// Returns the new path.
Result<std::string> SetAsideDamaged(io::FileSystem& fs, const std::string& dir,
                                    const std::string& path, int64_t stamp);

// The files SetAsideDamaged kept in `dir`, by name.
Result<std::vector<std::string>> ListSetAside(io::FileSystem& fs,
                                              const std::string& dir);

// One more than the highest snapshot or parts file number in `dir` (valid
// or not), or 1.
Result<uint64_t> NextSnapshotNumber(io::FileSystem& fs, const std::string& dir);

}  // namespace acpstore::snapshot

#endif  // ACPSTORE_SNAPSHOT_SNAPSHOT_DIR_H_
