// Basalt LSM engine — start here.
//
// A DB is a directory holding many independent LSM trees ("trees", like
// RocksDB's column families; the table layer makes one per partition). All
// trees share one write-ahead log, so a WriteBatch spanning trees is atomic,
// one flush thread and Options::max_background_compactions compaction
// threads. Tree 0, "default", always exists.
//
// Durability: a write that returned OK survives kill -9 in every mode, and
// power loss in Durability::kSync (the default). See options.h.
// Errors: every call returns Status. An I/O error while writing the WAL or a
// table puts the DB in a failed state: later writes return the error
// (Aborted/IOError) until the DB is reopened; nothing acknowledged is lost.
// Thread safety: all methods are safe to call concurrently. Iterators and
// snapshots must be destroyed/released before the DB.
//
// The public API is this header with options.h, table_options.h,
// write_batch.h, iterator.h, stats.h and types.h; none of them includes the
// engine's internals, so callers depend on nothing else.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"
#include "engine/lsm/iterator.h"
#include "engine/lsm/options.h"
#include "engine/lsm/stats.h"
#include "engine/lsm/types.h"
#include "engine/lsm/write_batch.h"

namespace basalt::lsm {

// A consistent point-in-time view; obtained from DB::GetSnapshot.
class Snapshot {
 public:
  virtual ~Snapshot() = default;
  virtual SequenceNumber sequence() const = 0;
};

struct TreeInfo {
  TreeId id;
  std::string name;
  // Key range [lower, upper) of a tree made by SplitTree; unbounded otherwise.
  std::string lower;
  std::optional<std::string> upper;
};

class DB {
 public:
  // Opens (or creates, per options) the DB in dir, recovering from the
  // manifest and replaying the WAL. Fails with Busy if another process holds
  // the directory, Corruption if a checksum fails anywhere but in the WAL's
  // torn tail (which is truncated: those bytes were never acknowledged).
  static Status Open(const Options& options, const std::string& dir, std::unique_ptr<DB>* db);
  virtual ~DB() = default;

  // Waits for background work, syncs the WAL, releases the directory.
  // Further calls return Aborted. Called by the destructor if needed.
  virtual Status Close() = 0;

  // Trees. Names are unique; ids are never reused.
  virtual Status CreateTree(std::string_view name, TreeId* id) = 0;
  // Drops the tree and deletes its files. NotFound if absent; kDefaultTree cannot be dropped.
  virtual Status DropTree(TreeId id) = 0;
  // Splits a tree at split_key into a left tree (keys < split_key) and a right
  // tree (keys >= split_key), within the parent's own key range, and drops the
  // parent — one atomic manifest edit. The children take over the parent's
  // SSTables (shared, not copied; compaction later rewrites each child's part
  // and drops keys outside its range); the parent's unflushed entries are
  // flushed first. Reads of other trees never wait; writes wait only for the
  // final flush of what the parent received since the split began (ms).
  // After it returns, the parent id is gone (calls on it fail with
  // InvalidArgument, sub-code kTreeGone); snapshots taken before still read
  // the children.
  // InvalidArgument if split_key is not strictly inside the parent's range or a
  // name is taken; NotFound if the parent is absent. kDefaultTree cannot be split.
  virtual Status SplitTree(TreeId parent, std::string_view split_key, std::string_view left_name,
                           std::string_view right_name, TreeId* left, TreeId* right) = 0;
  // Clones trees: for each sources[i], a new tree names[i] with the same key
  // range and the same data, sharing the source's SSTables (not copied; a
  // shared file leaves the disk when no tree holds it). All clones are one
  // consistent cut: writes are held back while the sources' unflushed entries
  // are flushed (each source is flushed first, so that wait covers only what
  // arrived meanwhile), and one atomic manifest edit creates the clones. The
  // clones then live on their own: writes, compactions and drops of either
  // side do not affect the other. *ids receives the new trees' ids.
  // InvalidArgument if a name is taken, empty or repeated, or the spans'
  // sizes differ; NotFound if a source is absent. kDefaultTree cannot be cloned.
  virtual Status CloneTrees(std::span<const TreeId> sources, std::span<const std::string> names,
                            std::vector<TreeId>* ids) = 0;
  // NotFound if no tree has that name.
  virtual Status FindTree(std::string_view name, TreeId* id) = 0;
  virtual std::vector<TreeInfo> ListTrees() = 0;

  virtual Status Put(const WriteOptions& options, TreeId tree, std::string_view key,
                     std::string_view value) = 0;
  virtual Status Delete(const WriteOptions& options, TreeId tree, std::string_view key) = 0;
  // Applies batch atomically. InvalidArgument if it names a tree that does not
  // exist (sub-code kTreeGone) or a key outside its tree's range (kKeyOutOfRange).
  virtual Status Write(const WriteOptions& options, WriteBatch* batch) = 0;
  // Write without waiting: returns at once; done(status) runs later, on the
  // engine's committer thread, once the batch is applied (visible to reads)
  // and, per options / Options::durability, durable. Batches submitted while
  // a group is being written share the next group's WAL sync, however few
  // threads submit them (commit_queue.h). The batch must stay alive and
  // unchanged until done runs; done runs exactly once, must be quick and must
  // not wait for another async write. Errors as Write. After Close: done
  // (Aborted) at once.
  virtual void WriteAsync(const WriteOptions& options, WriteBatch* batch,
                          std::function<void(Status)> done) = 0;

  // Stores the newest value of key (as of options.snapshot) in *value; NotFound if none.
  // InvalidArgument with sub-code kTreeGone (no such tree) or kKeyOutOfRange.
  virtual Status Get(const ReadOptions& options, TreeId tree, std::string_view key,
                     std::string* value) = 0;
  // Get for many keys of one tree at once, all as of one sequence number
  // (options.snapshot, or the latest state when the call starts). Sets
  // values->size() == statuses->size() == keys.size(); for each i,
  // (*statuses)[i] is what Get(keys[i]) would return at that sequence number
  // — OK with (*values)[i] set, NotFound, InvalidArgument (kKeyOutOfRange) when
  // keys[i] is outside the tree's key range (per key: the others are still read), or
  // the IOError/Corruption of reading that key's block — and (*values)[i] is
  // empty unless OK. A whole-call failure (no such tree: InvalidArgument, kTreeGone; DB
  // closed: Aborted) is reported in every status. Duplicate keys are allowed.
  // After the memtables, the SSTable block reads still needed are issued level
  // by level, each level's reads (across files) as one batch (io_uring: one
  // submission); blocks shared by several keys are read once. See docs/io.md.
  virtual void MultiGet(const ReadOptions& options, TreeId tree,
                        const std::vector<std::string_view>& keys, std::vector<std::string>* values,
                        std::vector<Status>* statuses) = 0;
  // Iterator over user keys and values of one tree as of options.snapshot (or now).
  virtual std::unique_ptr<Iterator> NewIterator(const ReadOptions& options, TreeId tree) = 0;
  // Replaces *out with the first `limit` live (key, value) pairs of the tree
  // with start <= key < end (an empty end: no upper bound), in key order, as
  // of options.snapshot (or now; then from the row cache when it covers the
  // range, else through an iterator whose result then fills the cache).
  // options.lower_bound/upper_bound are ignored. Keys outside the tree's
  // range are never returned. InvalidArgument (kTreeGone) if the tree does not exist;
  // an I/O or corruption error leaves *out empty.
  virtual Status GetRange(const ReadOptions& options, TreeId tree, std::string_view start,
                          std::string_view end, size_t limit,
                          std::vector<std::pair<std::string, std::string>>* out) = 0;

  virtual const Snapshot* GetSnapshot() = 0;
  virtual void ReleaseSnapshot(const Snapshot* snapshot) = 0;

  // Writes the tree's memtable (kAllTrees: every tree's) to L0 and waits until it is durable.
  static constexpr TreeId kAllTrees = ~TreeId{0};
  virtual Status Flush(TreeId tree) = 0;
  // Compacts until no level of the tree needs compaction; waits.
  virtual Status CompactAll(TreeId tree) = 0;
  // A full compaction (RocksDB's CompactRange over the whole key range):
  // flushes the tree's memtable, then merges each level's tables into the
  // next level below that holds tables (L0 into L1 at least), level by
  // level, so that the tables the tree had end up in its deepest level,
  // without overwritten versions and with no tombstone that no snapshot
  // needs. The tree's background compactions and splits wait meanwhile;
  // writes go on (what they flush meanwhile stays in L0). Waits.
  // NotFound: no such tree; NotSupported: compaction is disabled; OK without
  // work for a frozen tree; else the first error of a flush or merge.
  virtual Status CompactFull(TreeId tree) = 0;

  virtual Status GetTreeStats(TreeId tree, TreeStats* stats) = 0;
  // Block cache and row cache counters.
  virtual CacheStats GetCacheStats() = 0;
  // DB-wide compaction, write-stall and WAL counters (stats.h).
  virtual DbStats GetDbStats() = 0;
  // Approximate bytes of the tree's data within its own key range: memtables
  // plus, per SSTable, the share of its data blocks inside the range (from the
  // index, no I/O; scaled to the file's size, so that the parts of a range add
  // up to the whole) — so split children do not count their sibling's half of
  // the files they share. For split decisions and DescribeTable-style stats.
  virtual Status GetApproximateSize(TreeId tree, uint64_t* bytes) = 0;
  // Approximate bytes of the tree's data with start <= key < end (an empty
  // end: no upper bound), clipped to the tree's range: the SSTables' share as
  // above (bytes as stored, i.e. compressed), plus the memtables' entries in
  // the range — counted when few (MemTable::kExactRangeEntries), else
  // estimated from the skiplist in O(log n). No I/O. For item collection
  // sizes (docs/indexes.md).
  virtual Status GetApproximateRangeSize(TreeId tree, std::string_view start, std::string_view end,
                                         uint64_t* bytes) = 0;
  // Human-readable description of levels, files and counters.
  virtual std::string DebugString() = 0;
};

}  // namespace basalt::lsm
