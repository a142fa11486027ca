// Block index: an in-memory B+tree per tree version that maps key ranges to
// (table file, data block) for every live SSTable, so a point read finds the
// one candidate block per level without seeking per-file index blocks.
// Design and measurements: docs/block_index.md.
//
// What it maps: each data block's separator internal key (the key of its
// entry in the SSTable's index block: >= the block's last key, < the next
// block's first key) to the block's handle. The last block's separator is
// clamped to the file's largest internal key, so the entries of a level's
// files (sorted, non-overlapping) form one ordered sequence. A lookup returns
// the first entry whose key >= the lookup internal key (CompareInternalKey):
// the one block that can hold the newest visible version of the lookup's user
// key in that level (or, for level 0, that file).
//
// Two parts, so a new version costs only its inner nodes:
//  - FileBlockIndex: the leaves of one SSTable (up to `fanout` entries each,
//    keys decoded whole into one string per leaf). Built once when the file
//    is opened, shared by every version (and every split tree) holding it.
//  - BlockIndex: the inner nodes of one Version. For each level >= 1 one tree
//    bulk-built bottom-up over the ordered leaves of the level's files; for
//    level 0 one small tree per file (L0 files overlap). Inner keys are views
//    of the leaves' keys (no copies).
// Every node also keeps, per key, a "head": the 8 user-key bytes after the
// prefix all its keys share, as a big-endian integer. Binary search compares
// heads (contiguous, no pointer chasing) and reads a whole key only when two
// heads tie.
//
// The index knows files only by their position in the level lists it was
// built from (BlockIndex::FileEntry), not by the Version's file type, so the
// version layer (version/) builds it and maps positions back to its files
// (Version::BuildBlockIndex, Version::ForEachCandidateBlock).
//
// Thread safety: both are immutable after Build and read by any number of
// threads without locks.
// Lifetime: a BlockIndex pins the FileBlockIndex leaves it points into. The
// positions it returns are only meaningful for the level lists it was built
// from; whoever holds the index keeps both together (a Version holds its
// files and its index).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"
#include "engine/lsm/sstable/format.h"

namespace basalt::lsm {

class Table;

// Entries per leaf and children per inner node: a node's heads fill 8 cache
// lines. bench/micro/block_index_bench.cc (BM_FindBlockFanout) measures 8 to
// 256; 64 to 256 were alike, smaller fanouts slower and larger in memory.
inline constexpr size_t kBlockIndexFanout = 64;

class FileBlockIndex {
 public:
  // Up to fanout consecutive data blocks of one file.
  struct Leaf {
    std::string keys;               // separator keys, back to back
    std::vector<uint32_t> offsets;  // key i = keys[offsets[i], offsets[i + 1])
    std::vector<uint64_t> heads;    // see the file comment
    std::vector<BlockHandle> handles;
    uint32_t prefix_len = 0;  // user-key bytes all keys share (those of key 0)

    size_t size() const { return handles.size(); }
    std::string_view key(size_t i) const {
      return std::string_view(keys).substr(offsets[i], offsets[i + 1] - offsets[i]);
    }
    // Index of the first entry with key >= ikey (CompareInternalKey); size() if none.
    size_t LowerBound(std::string_view ikey) const;
  };

  // Reads table's pinned index block (no I/O) into leaves of fanout entries.
  // largest: the file's largest internal key (FileMetaData::largest); the last
  // block's separator is clamped to it. Corruption for a malformed index
  // block or handle. REQUIRES: fanout >= 2.
  static Status Build(const Table& table, std::string_view largest,
                      std::shared_ptr<const FileBlockIndex>* out,
                      size_t fanout = kBlockIndexFanout);

  const std::vector<Leaf>& leaves() const { return leaves_; }
  size_t num_blocks() const { return num_blocks_; }
  // Heap bytes of the leaves (keys, offsets, heads, handles) and this object.
  size_t MemoryUsage() const { return memory_usage_; }

 private:
  FileBlockIndex() = default;

  std::vector<Leaf> leaves_;
  size_t num_blocks_ = 0;
  size_t memory_usage_ = 0;
};

class BlockIndex {
 public:
  // One SSTable of a level, as Build sees it.
  struct FileEntry {
    // The file's leaves; a null entry makes Build return nullptr.
    std::shared_ptr<const FileBlockIndex> leaves;
    // The file's smallest and largest internal keys (FileMetaData).
    std::string_view smallest;
    std::string_view largest;
  };

  // Builds the inner nodes over the leaves of the files of levels[0..n):
  // levels[0] in search order (newest first; the files may overlap, each
  // gets its own tree), every other level sorted by key and non-overlapping.
  // O(leaves), no key copies; the key views must outlive the call only.
  // Returns nullptr when some file has no leaves, or when the files of a
  // level >= 1 are not in key order (both would be bugs); readers then take
  // the per-file path. REQUIRES: fanout >= 2.
  static std::shared_ptr<const BlockIndex> Build(const std::vector<std::vector<FileEntry>>& levels,
                                                 size_t fanout = kBlockIndexFanout);

  // Level >= 1: the file (its position in levels[level] at Build) and block
  // holding the first entry of the level with key >= ikey. False if every
  // entry of the level is < ikey (then no file of the level holds ikey's
  // user key at or below its sequence).
  bool Find(int level, std::string_view ikey, size_t* file, BlockHandle* handle) const;
  // Find in two steps, so a reader can check the file (its range, its bloom
  // filter) before searching the leaf: FindCandidate descends the inner
  // nodes to the file and leaf holding that first entry; BlockOf searches
  // the leaf. REQUIRES for BlockOf: c came from FindCandidate with this ikey
  // on an index that is still alive.
  struct Candidate {
    size_t file = 0;  // position in levels[level] at Build
    const FileBlockIndex::Leaf* leaf = nullptr;
  };
  bool FindCandidate(int level, std::string_view ikey, Candidate* c) const;
  static BlockHandle BlockOf(const Candidate& c, std::string_view ikey);
  // Level 0: the same within the i-th file of levels[0] (newest first).
  bool FindInL0File(size_t i, std::string_view ikey, BlockHandle* handle) const;

  // Heap bytes of the inner nodes (this version's own cost).
  size_t InnerMemoryUsage() const { return inner_bytes_; }
  // Inner nodes plus the leaves of every file the version holds (leaves of a
  // file shared with other versions or trees are counted in each).
  size_t MemoryUsage() const { return inner_bytes_ + leaf_bytes_; }

 private:
  BlockIndex() = default;

  struct LeafRef {
    const FileBlockIndex::Leaf* leaf;
    size_t file;  // position in its level's list at Build
  };
  // One level of inner nodes: node j holds entries [j * fanout, (j + 1) * fanout).
  struct InnerLevel {
    std::vector<std::string_view> keys;  // views of leaf keys
    std::vector<uint64_t> heads;
    std::vector<uint32_t> prefix_len;  // per node
  };
  // One B+tree over an ordered sequence of leaves. Node boundaries are
  // implicit: inner[0] key j is the largest key under leaf j; inner[h + 1]
  // key j is the largest key of node j of inner[h]. inner.back() (<= fanout
  // keys) is the root.
  struct Tree {
    std::vector<LeafRef> leaves;
    std::vector<InnerLevel> inner;

    void Build(size_t fanout);
    // The entry of node `node` of inner[h] holding the first key >= ikey
    // (the node's end if none).
    size_t SearchInner(size_t fanout, size_t h, size_t node, std::string_view ikey) const;
    // The leaf holding the first entry >= ikey; nullptr if none.
    const LeafRef* FindLeaf(size_t fanout, std::string_view ikey) const;
    size_t MemoryUsage() const;
  };

  size_t fanout_ = kBlockIndexFanout;
  std::vector<Tree> l0_;      // one per level-0 file, in levels[0] order
  std::vector<Tree> levels_;  // levels_[0] unused
  // Keeps the leaves alive as long as the index (views point into them).
  std::vector<std::shared_ptr<const FileBlockIndex>> pinned_;
  size_t inner_bytes_ = 0;
  size_t leaf_bytes_ = 0;
};

}  // namespace basalt::lsm
