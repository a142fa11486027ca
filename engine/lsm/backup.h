// Offline backup and restore of a whole DB directory: the logic behind
// `basalt-admin backup`, `verify-backup` and `restore` (docs/backup.md).
//
// What a backup is: a directory DEST holding
//   - every SSTable the live manifest references, HARD-LINKED from the DB
//     directory (SSTables are immutable once written: the engine never opens
//     one for writing again, it only removes it after a compaction, which
//     removes one name and leaves the other). When a hard link is impossible
//     (Env::LinkFile says NotSupported: another file system, no hard links)
//     the file is copied instead, and the result says so;
//   - COPIES of the mutable files: CURRENT, the manifest CURRENT names and
//     every WAL segment (*.log). These are appended to or replaced by a
//     running DB, so they are never linked;
//   - BACKUP.json, written last (temp file, fsync, rename, fsync of DEST):
//     format version, creation time, the source directory's base name (not
//     its full path), whether the DB is encrypted, the manifest name and
//     last sequence, and every file with its size, XXH3-64 of its bytes and
//     whether it was linked or copied. Format: docs/backup.md.
// Nothing is decrypted: files are linked or copied byte for byte, so the
// files of an encrypted DB stay encrypted in the backup and in a restore.
// Orphan SSTables, older manifests, *.tmp files, LOCK and foreign files are
// not part of a backup (DB::Open would remove the first three anyway).
//
// Durability: every copied file is fsynced, DEST (and a restore's directory
// and its parent) are fsynced after their entries are made. A crash during
// BackupDbDirectory leaves DEST without BACKUP.json: VerifyBackup and
// RestoreBackup refuse such a directory, so an incomplete backup is never
// mistaken for one. RestoreBackup builds the DB in a staging directory
// "<dir>.restore-tmp" beside dir and renames it to dir at the end, so dir
// either does not exist (or is still empty) or holds the whole restored DB.
//
// Offline only: BackupDbDirectory takes the DB directory's lock (LOCK) the
// way DB::Open does, for the whole backup, so it fails with Busy while a
// server or another tool has the DB open, and no server can open the DB
// while the backup runs.
//
// Errors (Status values, never exceptions): InvalidArgument for a directory
// that is not a DB, a DEST or restore target that exists and is not an empty
// directory, a leftover staging directory; Busy for a DB in use; the
// manifest's Corruption (or, for an encrypted DB without keys, its
// InvalidArgument) when the DB is damaged; Corruption for a damaged or
// incomplete backup; the Env's IOError/NotFound otherwise. A failed backup
// or restore may leave a partial DEST or staging directory behind (without
// BACKUP.json, or not yet renamed), which the caller removes.
//
// Thread safety: the functions share no state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/base/encryption.h"
#include "engine/base/status.h"
#include "engine/io/env.h"
#include "engine/lsm/filename.h"

namespace basalt::lsm {

// The name of the description a complete backup holds.
inline constexpr const char* kBackupInfoFileName = "BACKUP.json";
// BACKUP.json's "format_version"; readers refuse a higher one.
inline constexpr int kBackupFormatVersion = 1;

struct BackupFile {
  std::string name;  // a file name, e.g. "000012.sst" (no directory)
  FileType type = FileType::kUnknown;
  uint64_t size = 0;
  uint64_t xxh3 = 0;    // XXH3-64 of the file's bytes, as stored (encrypted or not)
  bool linked = false;  // hard-linked (true) or copied (false)
};

// What BACKUP.json says.
struct BackupInfo {
  int format_version = kBackupFormatVersion;
  std::string created;          // UTC, ISO 8601: "2026-12-07T01:57:12Z"
  uint64_t created_micros = 0;  // the same, microseconds since the Unix epoch
  std::string source;           // the base name of the DB directory
  bool encrypted = false;
  uint32_t key_id = 0;   // the manifest's key id (0: not encrypted)
  std::string manifest;  // the manifest CURRENT names
  uint64_t last_sequence = 0;
  std::vector<BackupFile> files;  // SSTables by number, then the manifest, WALs, CURRENT
};

// Backs up the closed DB in dir to dest (which must not exist, or be an empty
// directory; its parent must exist). keys: needed for an encrypted DB (its
// manifest is read to find the SSTables); nothing is decrypted to disk.
// Refuses a DB whose CURRENT or manifest is damaged, or whose manifest names
// a missing SSTable. Fills *info (may be null) with what BACKUP.json says.
// *link_fallback (may be null) is set to why SSTables were copied rather
// than linked ("" when every one was linked).
Status BackupDbDirectory(io::Env* env, const std::string& dir, const std::string& dest,
                         const KeyRing* keys, BackupInfo* info, std::string* link_fallback);

// Reads and checks dest/BACKUP.json: NotFound when there is none (not a
// backup, or an incomplete one), Corruption when it does not parse or
// names a file that is not a DB file, NotSupported for a format_version
// above kBackupFormatVersion.
Status ReadBackupInfo(io::Env* env, const std::string& dest, BackupInfo* info);

// Checks a backup without modifying it: BACKUP.json (ReadBackupInfo), that
// every file it lists exists with its size and checksum, then every check of
// VerifyDbDirectory (verify.h) on dest. Appends report lines in
// VerifyDbDirectory's style: a BACKUP.json line, one per listed file
// ("<name>: ok ...", "<name>: MISSING ...", "<name>: CORRUPT: ..."), then
// VerifyDbDirectory's own lines (which note BACKUP.json as a file the engine
// does not write) and its summary, and last a "backup summary: " line.
// *intact: nothing is damaged or missing. Returns non-OK only when dest
// cannot be listed; a missing or bad BACKUP.json is reported through the
// lines (and *intact false). info (may be null): what BACKUP.json says.
Status VerifyBackup(io::Env* env, const std::string& dest, const KeyRing* keys,
                    std::vector<std::string>* report_lines, bool* intact,
                    BackupInfo* info = nullptr);

// Restores the backup in dest into dir, which must not exist or be an empty
// directory (its parent must exist). Runs VerifyBackup first (its lines go to
// *report_lines) and refuses a damaged or incomplete backup (Corruption).
// SSTables are hard-linked from the backup (copied where links are
// impossible: *link_fallback says why), the other files copied, everything
// fsynced, in the staging directory "<dir>.restore-tmp", then renamed to
// dir. keys: as VerifyBackup (needed to verify an encrypted backup).
Status RestoreBackup(io::Env* env, const std::string& dest, const std::string& dir,
                     const KeyRing* keys, std::vector<std::string>* report_lines,
                     std::string* link_fallback);

}  // namespace basalt::lsm
