// Offline inspection of a DB directory: the checks behind `basalt-admin
// verify` and the manifest/CURRENT readers behind `basalt-admin dump-manifest`.
//
// Nothing here writes, truncates, renames or removes a file, and nothing takes
// the directory lock (LOCK), so these functions may run beside an open DB.
// They then see one moment of a directory that keeps changing: a file
// deleted by a concurrent compaction shows up as missing, the live WAL
// segment as a torn tail. For a definitive answer run them on a closed DB.
//
// The rules mirror DB::Open (engine/lsm/db_impl.cc: RecoverManifest,
// ReplayWal, DeleteOrphans): what Open would refuse is reported as a problem,
// what Open would repair silently (torn WAL tail in the last segment, torn
// manifest tail, orphan files) as a note. Two checks are stricter than Open,
// because no crash can produce what they find: a manifest whose state lacks
// the default tree (edits lost), and a WAL segment at least one header record
// long without a valid header (the header is synced before any record is
// written). Formats: docs/format/wal.md, docs/format/manifest.md,
// docs/format/sstable.md.
//
// Thread safety: the functions share no state; safe to call concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/base/status.h"
#include "engine/io/env.h"
#include "engine/lsm/dbformat.h"
#include "engine/lsm/version/version_edit.h"
#include "engine/lsm/write_batch.h"

namespace basalt::lsm {

// The trees and files a manifest describes after all its edits, replayed with
// the rules of DB::Open. Defaults are DBImpl's initial values.
struct ManifestState {
  uint64_t next_file_number = 2;
  SequenceNumber last_sequence = 0;
  TreeId next_tree_id = 1;
  struct Tree {
    std::string name;
    SequenceNumber flushed_seq = 0;
    // By file number: (level, metadata).
    std::map<uint64_t, std::pair<int, FileMetaData>> files;
  };
  std::map<TreeId, Tree> trees;

  // Applies one edit (same order and rules as DBImpl::RecoverManifest).
  void Apply(const VersionEdit& edit);
};

// What ReplayManifest saw besides the state.
struct ManifestReplayInfo {
  bool has_header = false;
  uint64_t header_file_number = 0;  // from the kFileHeader record
  uint64_t edits = 0;               // records decoded and applied
  bool torn_tail = false;           // the engine ignores a torn manifest tail
  uint64_t valid_end = 0;           // end of the intact prefix
  uint64_t file_size = 0;
};

// Reads dir/CURRENT: "MANIFEST-NNNNNN <16 lowercase hex digits of XXH3-64 of
// the name>\n". Sets *manifest_name (a name, not a path). Corruption if the
// file is malformed, its checksum does not match or it names no manifest;
// the Env's error if it cannot be read. Does not check that the manifest exists.
Status ReadCurrentFile(io::Env* env, const std::string& dir, std::string* manifest_name);

// Reads the manifest at path and applies every edit to *state. on_edit, if
// set, is called with each edit and its record offset before it is applied.
// Corruption if the file has no valid header (the engine refuses such a
// manifest), a bad magic/version, damage followed by intact records, or an
// edit that does not decode; edits before the damage have been applied then.
// A torn tail is not an error (info->torn_tail). info may be null.
Status ReplayManifest(io::Env* env, const std::string& path, ManifestState* state,
                      ManifestReplayInfo* info,
                      const std::function<void(uint64_t offset, const VersionEdit&)>& on_edit = {});

// Checks a DB directory without modifying it and without the lock:
//  - CURRENT: well formed, checksum, names an existing manifest;
//  - the manifest: header, every record's checksum, every edit decodes, the
//    default tree exists;
//  - every SSTable the manifest references: exists, has the recorded size,
//    opens, passes Table::VerifyChecksums, and its properties agree with the
//    manifest (entry count, smallest and largest key);
//  - every WAL segment: header (required once the file is 33 bytes long),
//    every record, every WriteBatch decodes; a torn tail only in the
//    highest-numbered segment;
//  - notes (not problems): torn tail of the last WAL segment or of the
//    manifest, SSTables the manifest does not reference, manifests other
//    than the current one, leftover *.tmp files, unknown files.
// Appends one line per file checked, of the form "<name>: ok ...",
// "<name>: note: ...", "<name>: CORRUPT: ...", "<name>: MISSING ...", and
// a final line starting with "summary: ". *intact is true when no problem
// was found (notes allowed). Returns non-OK only when the directory itself
// cannot be listed; problems in files are reported through the lines.
Status VerifyDbDirectory(io::Env* env, const std::string& dir,
                         std::vector<std::string>* report_lines, bool* intact);

}  // namespace basalt::lsm
