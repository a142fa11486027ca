// Offline inspection of a DB directory: the checks behind `basalt-admin
// verify` and the manifest/CURRENT readers behind `basalt-admin dump-manifest`.
//
// Nothing here writes, truncates, renames or removes a file, and nothing takes
// the directory lock (LOCK), so these functions may run beside an open DB.
// They then see one moment of a directory that keeps changing: a file
// deleted by a concurrent compaction shows up as missing, the live WAL
// segment as a torn tail. For a definitive answer run them on a closed DB.
//
// The manifest is read with the same functions DB::Open uses
// (version/manifest.h); the WAL and file rules mirror DB::Open (ReplayWal,
// DeleteOrphans): what Open would refuse is reported as a problem,
// what Open would repair silently (torn WAL tail in the last segment, torn
// manifest tail, orphan files) as a note. Formats: docs/format/wal.md, docs/format/manifest.md,
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

#include "engine/base/encryption.h"
#include "engine/base/status.h"
#include "engine/io/env.h"
#include "engine/lsm/dbformat.h"
#include "engine/lsm/version/manifest.h"
#include "engine/lsm/write_batch.h"

namespace basalt::lsm {

// Checks a DB directory without modifying it and without the lock:
//  - CURRENT: well formed, checksum, names an existing manifest;
//  - the manifest: header, every record's checksum, every edit decodes, the
//    default tree exists;
//  - every SSTable the manifest references: exists, has the recorded size,
//    opens, passes Table::VerifyChecksums, and its properties agree with the
//    manifest (entry count, smallest and largest key);
//  - every WAL segment: header (required once the file is a header record long),
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
// keys: the key ring for encrypted files (may be null: an encrypted file is
// then reported as a problem, "no encryption key file was given"). Lines of
// encrypted files say "encrypted, key id N".
Status VerifyDbDirectory(io::Env* env, const std::string& dir,
                         std::vector<std::string>* report_lines, bool* intact,
                         const KeyRing* keys = nullptr);

}  // namespace basalt::lsm
