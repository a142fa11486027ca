// Version: the immutable set of SSTables that forms one tree at one moment.
// Readers pin a Version (shared_ptr) so a file is never deleted while in use:
// a TableFile removed by a compaction is marked obsolete and its file is
// unlinked when the last Version holding it goes away.
#pragma once

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "engine/io/env.h"
#include "engine/lsm/cache/block_cache.h"
#include "engine/lsm/index/block_index.h"
#include "engine/lsm/sstable/table.h"
#include "engine/lsm/version/version_edit.h"

namespace basalt::lsm {

struct TableFile {
  TableFile(FileMetaData m, std::shared_ptr<Table> t, io::Env* e, std::string p,
            std::shared_ptr<const FileBlockIndex> bi = nullptr,
            BlockCache::Reservation r = BlockCache::Reservation())
      : meta(std::move(m)),
        table(std::move(t)),
        env(e),
        path(std::move(p)),
        block_index(std::move(bi)),
        reservation(std::move(r)) {}
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
  // Options::charge_table_metadata: the table's filter and index blocks and
  // its block index leaves, charged to the block cache while the file is open.
  const BlockCache::Reservation reservation;
  // How many trees' current versions hold the file (split children share
  // files). Changed under the DB mutex when edits are applied.
  int tree_refs = 0;
  // Set when no tree holds the file any more (tree_refs fell to 0) or it was
  // never installed; the file is deleted with the last reference.
  std::atomic<bool> obsolete{false};
  // Options::read_triggered_compaction: reads this file may still be charged
  // before it asks to be compacted (any thread; relaxed).
  mutable std::atomic<int64_t> read_budget{
      std::max<int64_t>(100, static_cast<int64_t>(meta.file_size >> 14))};
};

struct Version {
  // Level 0: newest file first (files may overlap). Levels >= 1: sorted by
  // smallest key, non-overlapping.
  std::vector<std::shared_ptr<TableFile>> levels[kNumLevels];
  // Inner nodes of the block index over levels' files (BuildBlockIndex),
  // built before the version is installed, so it changes atomically with it.
  // Null when Options::use_block_index is off (reads then search file by
  // file). A copy must rebuild (or reset) it: the index names files by their
  // positions in levels, which the copy may change.
  std::shared_ptr<const BlockIndex> block_index;

  // BlockIndex::Build over levels' files (their FileBlockIndex leaves and
  // key ranges); nullptr if some file has no leaves.
  std::shared_ptr<const BlockIndex> BuildBlockIndex(size_t fanout = kBlockIndexFanout) const;

  uint64_t LevelBytes(int level) const;
  // The files of `level` whose key range holds user_key, in search order
  // (L0: newest first; deeper levels: at most one): *first is set to the
  // first of them if it is still null, and *count grows by their number.
  void NoteHolders(int level, std::string_view user_key, const TableFile** first, int* count) const;
  // Whether some file in level may hold user_key (its range covers it); no
  // allocation. A binary search in L1 and deeper (their files are sorted and
  // disjoint), so a compaction can ask for every key it writes.
  bool MayHold(int level, std::string_view user_key) const;
  // Files in level whose user-key range intersects [smallest_user, largest_user].
  std::vector<std::shared_ptr<TableFile>> Overlapping(int level, std::string_view smallest_user,
                                                      std::string_view largest_user) const;

  // The point-read path of one level, shared by Get and MultiGet: calls
  // visit(file, block handle) for each data block of `level` that may hold
  // the newest version of lookup_ikey's user key at its sequence, in search
  // order (L0: newest file first; deeper levels: at most one block). A file
  // is skipped when its key range or its bloom filter excludes the key; the
  // block comes from block_index, or without one from the table's own index.
  // visit returns true to stop. No I/O. Errors: Corruption from a table index.
  template <typename Visit>
  Status ForEachCandidateBlock(int level, std::string_view lookup_ikey, Visit&& visit) const;
};

template <typename Visit>
Status Version::ForEachCandidateBlock(int level, std::string_view lookup_ikey,
                                      Visit&& visit) const {
  const std::string_view user_key = ExtractUserKey(lookup_ikey);
  const BlockIndex* index = block_index.get();
  // Without the index: the table's filter, then its pinned index block.
  auto per_file = [&](const TableFile& f, bool* stop) -> Status {
    if (!f.table->KeyMayMatch(user_key)) return Status::OK();
    BlockHandle h;
    Status s = f.table->FindDataBlock(lookup_ikey, &h);
    if (s.IsNotFound()) return Status::OK();  // past the table's last block
    if (s.ok()) *stop = visit(f, h);
    return s;
  };
  const auto& files = levels[level];
  bool stop = false;
  if (level == 0) {
    for (size_t i = 0; i < files.size() && !stop; i++) {  // newest first
      const TableFile& f = *files[i];
      if (user_key < ExtractUserKey(f.meta.smallest) || user_key > ExtractUserKey(f.meta.largest)) {
        continue;
      }
      if (index == nullptr) {
        Status s = per_file(f, &stop);
        if (!s.ok()) return s;
        continue;
      }
      BlockHandle h;  // the filter goes before the leaf search: most files miss
      if (f.table->KeyMayMatch(user_key) && index->FindInL0File(i, lookup_ikey, &h)) {
        stop = visit(f, h);
      }
    }
    return Status::OK();
  }
  if (index != nullptr) {
    BlockIndex::Candidate c;
    if (!index->FindCandidate(level, lookup_ikey, &c)) return Status::OK();
    const TableFile& f = *files[c.file];
    if (user_key >= ExtractUserKey(f.meta.smallest) && f.table->KeyMayMatch(user_key)) {
      visit(f, BlockIndex::BlockOf(c, lookup_ikey));
    }
    return Status::OK();
  }
  // First file whose largest key >= the lookup key.
  auto it = std::lower_bound(files.begin(), files.end(), lookup_ikey,
                             [](const std::shared_ptr<TableFile>& f, std::string_view k) {
                               return CompareInternalKey(f->meta.largest, k) < 0;
                             });
  if (it == files.end() || user_key < ExtractUserKey((*it)->meta.smallest)) return Status::OK();
  return per_file(**it, &stop);
}

}  // namespace basalt::lsm
