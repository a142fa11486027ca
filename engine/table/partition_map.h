// Partition map: a table's hash partitions — tree naming, coverage checks,
// routing, split decisions and the split itself (docs/table.md "Partition
// splits").
//
// A table is split into hash ranges [lo, hi) of the uint64 space (hi == 0
// means 2^64); each range is a partition stored in its own LSM tree
// "t<table_id>.p<partition_id>" whose key bounds are [BE64(lo), BE64(hi)),
// kept by the engine's manifest. Each secondary index of the table has its
// own partitions the same way, trees "t<table_id>.i<index_id>.p<partition_id>"
// (index_key.h: entries are keyed by the hash of the index's partition key),
// split independently of the table's. The LSM is the source of truth: Open
// rebuilds every table's and index's partitions from the trees
// (LoadPartitions), so a split — one DB::SplitTree call, one manifest edit —
// is atomic.
//
// Thread safety: PartitionMap and PartitionSet are immutable (share them
// freely; an index's counters are atomics); the free
// functions are pure except SplitPartition, CreatePartitions and
// ShouldReroute, whose contracts say what they lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"
#include "engine/lsm/db.h"
#include "engine/table/schema.h"

namespace basalt::table {

struct TableRuntime;

// "t<table_id>.p<partition_id>" (index_id 0: the table itself) or
// "t<table_id>.i<index_id>.p<partition_id>". ParsePartitionTreeName: false
// for any other name (*index_id = 0 for a table partition).
std::string PartitionTreeName(uint64_t table_id, uint32_t partition_id, uint32_t index_id = 0);
bool ParsePartitionTreeName(std::string_view name, uint64_t* table_id, uint32_t* partition_id,
                            uint32_t* index_id = nullptr);

// OK if the partitions (sorted by lo) cover [0, 2^64) exactly, with no overlap;
// Corruption naming `table` otherwise.
Status CheckCoverage(std::string_view table, const std::vector<PartitionDef>& parts);

// The partitions of one table, sorted by lo, covering the hash space.
class PartitionMap {
 public:
  // REQUIRES: CheckCoverage(parts) passed.
  explicit PartitionMap(std::vector<PartitionDef> parts) : parts_(std::move(parts)) {}

  const std::vector<PartitionDef>& parts() const { return parts_; }
  // The partition whose range holds `hash`.
  const PartitionDef& Route(uint64_t hash) const;
  // True if one of the partitions is stored in `tree`.
  bool HoldsTree(lsm::TreeId tree) const;
  // Position of the partition with id `id` in parts(), or parts().size().
  size_t IndexOf(uint32_t id) const;

 private:
  std::vector<PartitionDef> parts_;
};

// The partition maps of a table and of each of its secondary indexes, with
// each index's approximate statistics. Immutable; a change (a split, an index
// added or dropped) makes a new set. An index's counters are shared by every
// set of the table (they are adjusted by each committed write).
class PartitionSet {
 public:
  struct IndexCounters {
    std::atomic<int64_t> item_count{0};
    std::atomic<int64_t> size_bytes{0};
  };
  struct IndexParts {
    std::shared_ptr<const PartitionMap> map;
    std::shared_ptr<IndexCounters> counters;
  };

  explicit PartitionSet(std::shared_ptr<const PartitionMap> table) : table_(std::move(table)) {}

  const PartitionMap& table() const { return *table_; }
  // The index's parts, or nullptr when the set has no such index.
  const IndexParts* index(uint32_t index_id) const;
  const std::map<uint32_t, IndexParts>& indexes() const { return indexes_; }
  // True if the table or one of its indexes is stored (partly) in `tree`.
  bool HoldsTree(lsm::TreeId tree) const;
  // The map of `index_id` (0: the table's), or nullptr.
  const PartitionMap* Map(uint32_t index_id) const;

  // Copies with one map replaced / an index added or removed.
  std::shared_ptr<const PartitionSet> WithMap(uint32_t index_id,
                                              std::shared_ptr<const PartitionMap> map) const;
  std::shared_ptr<const PartitionSet> WithIndex(uint32_t index_id, IndexParts parts) const;
  std::shared_ptr<const PartitionSet> WithoutIndex(uint32_t index_id) const;

 private:
  std::shared_ptr<const PartitionMap> table_;
  std::map<uint32_t, IndexParts> indexes_;
};

// ---- split decisions (pure) ----

// The hash at which `p` splits (the middle of its range), or false when the
// range holds a single hash.
bool SplitPoint(const PartitionDef& p, uint64_t* mid);
// True if a partition holding `bytes` should split under `threshold_bytes`
// (0 = never).
bool ShouldSplit(const PartitionDef& p, uint64_t bytes, uint64_t threshold_bytes);

// ---- operations on the LSM ----

// What Open finds: the partitions (sorted by lo) of each (table id, index id)
// — index id 0 for the table's own — and each table's stream tree.
struct StoredTrees {
  std::map<std::pair<uint64_t, uint32_t>, std::vector<PartitionDef>> partitions;
  std::map<uint64_t, lsm::TreeId> stream_trees;
};
// Reads the partition trees (with their engine-kept bounds) and the stream
// trees "s<id>" from db->ListTrees(). Trees for which known(table id, index
// id) is false — index id 0 for a table's partitions and stream — were left
// by a crash inside CreateTable or AlterTable (before the catalog write) or
// DeleteTable or an index deletion (after it) and are dropped. Corruption for
// malformed bounds.
Status LoadPartitions(lsm::DB* db, const std::function<bool(uint64_t, uint32_t)>& known,
                      StoredTrees* out);

// Creates the partitions of a new table (index_id 0) or index: tree p0
// unbounded, then the last partition split successively at
// floor(i * 2^64 / n), so that after every step the partitions cover the
// space. On error the trees made so far are dropped.
Status CreatePartitions(lsm::DB* db, uint64_t table_id, uint32_t index_id, uint32_t n,
                        std::vector<PartitionDef>* parts);

// Splits parts[index] of the table's (index_id 0) or an index's partitions at
// `mid` (DB::SplitTree: one manifest edit; the children share the parent's
// SSTables) and replaces it by the two children (ids max existing + 1 and
// + 2) in *parts.
Status SplitAt(lsm::DB* db, uint64_t table_id, uint32_t index_id, std::vector<PartitionDef>* parts,
               size_t index, uint64_t mid);

// Splits the partition `partition_id` of the table behind `rt` (index_id 0)
// or of its index `index_id` at the middle of its hash range, while reads and
// writes go on:
//   1. marks the parent tree as splitting (rerouting callers wait for the map);
//   2. SplitAt;
//   3. takes the table's commit lock exclusively — no write to the parent is
//      in flight — and calls on_split(parent, left, right) (stream shards
//      follow the table's partitions, so only for index_id 0) and
//      install(the new set);
//   4. clears the mark.
// NotFound (no such index or partition), InvalidArgument (its range holds
// one hash), or the LSM's error (the old maps stay). REQUIRES: the caller
// serialises splits and catalog changes of the table (TableStore's catalog
// mutex).
Status SplitPartition(lsm::DB* db, TableRuntime* rt, uint32_t index_id, uint32_t partition_id,
                      const std::function<void(const PartitionDef&, const PartitionDef&,
                                               const PartitionDef&)>& on_split,
                      const std::function<void(std::shared_ptr<const PartitionSet>)>& install);

// True for the LSM errors a concurrent split causes (the tree was split away,
// or the key is outside a child's range): the caller re-routes and retries.
bool IsRerouteError(const Status& s);
// After an LSM call on the trees `used` failed with IsRerouteError: true if
// one of them is gone from the table's current map (waiting while a split of
// one is in flight), so the caller should route again; false to report the
// error (e.g. the table was dropped). Takes the table's commit lock shared
// briefly: the caller must not hold it.
bool ShouldReroute(const TableRuntime& rt, std::span<const lsm::TreeId> used);

}  // namespace basalt::table
