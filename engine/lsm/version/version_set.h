// VersionSet: the manifest side of the engine — the log of VersionEdits that
// says which table files make up each tree (docs/format/manifest.md), CURRENT,
// which names the live manifest, and VersionBuilder, which turns an edit into
// a tree's next Version. DBImpl owns the trees and their memtables; it writes
// every change of its file sets through here (DBImpl::LogAndApply), and at
// Open rebuilds the trees from Recover's state.
//
// Durability: an edit takes effect only after Append has synced it; a new
// manifest (WriteSnapshot) becomes live when CURRENT is renamed over and the
// directory synced. A failed Append or WriteSnapshot may still have reached
// the disk: the caller must treat the manifest as damaged (DBImpl enters its
// failed state and recovers by writing a fresh snapshot).
//
// Thread safety: every method is safe to call from any thread (one internal
// mutex; manifest writes are rare). A caller that must read its own state,
// log an edit and apply it as one step serialises those steps itself
// (DBImpl's manifest_mu_). Create and Recover run before the DB is shared.
// VersionBuilder is a local helper, one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "engine/base/encryption.h"
#include "engine/base/mutex.h"
#include "engine/base/status.h"
#include "engine/io/env.h"
#include "engine/lsm/version/manifest.h"
#include "engine/lsm/version/version.h"
#include "engine/lsm/version/version_edit.h"
#include "engine/lsm/wal/log_writer.h"

namespace basalt::lsm {

class VersionSet {
 public:
  // keys: encryption at rest (null: plain files); must outlive this.
  VersionSet(io::Env* env, std::string dir, const KeyRing* keys)
      : env_(env), dir_(std::move(dir)), keys_(keys) {}
  VersionSet(const VersionSet&) = delete;
  VersionSet& operator=(const VersionSet&) = delete;

  // A new DB: manifest 1 holding the default tree, then CURRENT naming it.
  Status Create() EXCLUDES(mu_);
  // Replays the manifest CURRENT names into *state (manifest.h's rules). It
  // stays the live manifest (manifest_number()) until WriteSnapshot, which
  // the caller must run before Append: a replayed file is never appended to.
  Status Recover(ManifestState* state) EXCLUDES(mu_);
  // Writes manifest `number` holding only `snapshot` (the whole state as one
  // edit), makes it live (CURRENT) and removes the old one.
  Status WriteSnapshot(const VersionEdit& snapshot, uint64_t number) EXCLUDES(mu_);
  // Appends edit to the live manifest and syncs it.
  Status Append(const VersionEdit& edit) EXCLUDES(mu_);
  // True when the live manifest passed its roll size (4 MiB): the next edit
  // should go to a fresh snapshot instead.
  bool NeedsSnapshot() EXCLUDES(mu_);
  uint64_t manifest_number() EXCLUDES(mu_);
  void Close() EXCLUDES(mu_);

 private:
  // CURRENT = "MANIFEST-NNNNNN <xxh3 hex of the name>\n": written to a temp
  // file, synced and renamed over CURRENT, then the directory is synced.
  Status SetCurrent(uint64_t manifest_number);
  Status NewManifest(uint64_t number, const VersionEdit& first, std::unique_ptr<log::Writer>* w);

  io::Env* const env_;
  const std::string dir_;
  const KeyRing* const keys_;
  Mutex mu_;
  std::unique_ptr<log::Writer> manifest_ GUARDED_BY(mu_);
  uint64_t manifest_number_ GUARDED_BY(mu_) = 0;
};

// Builds a tree's next Version: copy-on-write from the current one, files
// removed and added, then the levels put in their order (L0 newest first by
// file number, deeper levels by smallest key) and the block index rebuilt.
class VersionBuilder {
 public:
  // base: the version to start from; null starts empty.
  explicit VersionBuilder(const Version* base);
  // Takes file `number` out of level; returns it (null when absent).
  std::shared_ptr<TableFile> Remove(int level, uint64_t number);
  void Add(int level, std::shared_ptr<TableFile> file);
  std::shared_ptr<Version> Finish(bool use_block_index);

 private:
  std::shared_ptr<Version> v_;
};

}  // namespace basalt::lsm
