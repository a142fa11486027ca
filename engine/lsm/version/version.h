// Version: the immutable set of SSTables that forms one tree at one moment.
// Readers pin a Version (shared_ptr) so a file is never deleted while in use:
// a TableFile removed by a compaction is marked obsolete and its file is
// unlinked when the last Version holding it goes away.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "engine/io/env.h"
#include "engine/lsm/index/block_index.h"
#include "engine/lsm/sstable/table.h"
#include "engine/lsm/version/version_edit.h"

namespace basalt::lsm {

struct TableFile {
  TableFile(FileMetaData m, std::shared_ptr<Table> t, io::Env* e, std::string p,
            std::shared_ptr<const FileBlockIndex> bi = nullptr)
      : meta(std::move(m)),
        table(std::move(t)),
        env(e),
        path(std::move(p)),
        block_index(std::move(bi)) {}
  ~TableFile();
  TableFile(const TableFile&) = delete;
  TableFile& operator=(const TableFile&) = delete;

  const FileMetaData meta;
  const std::shared_ptr<Table> table;
  io::Env* const env;
  const std::string path;
  // The file's leaves of the block index (built once when the file is
  // opened); null when Options::use_block_index is off.
  const std::shared_ptr<const FileBlockIndex> block_index;
  // How many trees' current versions hold the file (split children share
  // files). Changed under the DB mutex when edits are applied.
  int tree_refs = 0;
  // Set when no tree holds the file any more (tree_refs fell to 0) or it was
  // never installed; the file is deleted with the last reference.
  std::atomic<bool> obsolete{false};
};

struct Version {
  // Level 0: newest file first (files may overlap). Levels >= 1: sorted by
  // smallest key, non-overlapping.
  std::vector<std::shared_ptr<TableFile>> levels[kNumLevels];
  // Inner nodes of the block index over levels' files, built before the
  // version is installed, so it changes atomically with it. Null when
  // Options::use_block_index is off (reads then search file by file).
  // A copy must rebuild (or reset) it: the old index may point at files the
  // copy no longer holds.
  std::shared_ptr<const BlockIndex> block_index;

  uint64_t LevelBytes(int level) const;
  // Whether some file in level may hold user_key (its range covers it); no allocation.
  bool MayHold(int level, std::string_view user_key) const;
  // Files in level whose user-key range intersects [smallest_user, largest_user].
  std::vector<std::shared_ptr<TableFile>> Overlapping(int level, std::string_view smallest_user,
                                                      std::string_view largest_user) const;
};

}  // namespace basalt::lsm
