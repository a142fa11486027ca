// Partition map: a table's hash partitions — tree naming, coverage checks,
// routing, split decisions and the split itself (docs/table.md "Partition
// splits").
//
// A table is split into hash ranges [lo, hi) of the uint64 space (hi == 0
// means 2^64); each range is a partition stored in its own LSM tree
// "t<table_id>.p<partition_id>" whose key bounds are [BE64(lo), BE64(hi)),
// kept by the engine's manifest. The LSM is the source of truth: Open
// rebuilds every table's partitions from its trees (LoadPartitions), so a
// split — one DB::SplitTree call, one manifest edit — is atomic.
//
// Thread safety: PartitionMap is immutable (share it freely); the free
// functions are pure except SplitPartition, CreatePartitions and
// ShouldReroute, whose contracts say what they lock.
#pragma once

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

// "t<table_id>.p<partition_id>"; ParsePartitionTreeName: false for any other name.
std::string PartitionTreeName(uint64_t table_id, uint32_t partition_id);
bool ParsePartitionTreeName(std::string_view name, uint64_t* table_id, uint32_t* partition_id);

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

// ---- split decisions (pure) ----

// The hash at which `p` splits (the middle of its range), or false when the
// range holds a single hash.
bool SplitPoint(const PartitionDef& p, uint64_t* mid);
// True if a partition holding `bytes` should split under `threshold_bytes`
// (0 = never).
bool ShouldSplit(const PartitionDef& p, uint64_t bytes, uint64_t threshold_bytes);

// ---- operations on the LSM ----

// What Open finds: each table id's partitions (sorted by lo) and stream tree.
struct StoredTrees {
  std::map<uint64_t, std::vector<PartitionDef>> partitions;
  std::map<uint64_t, lsm::TreeId> stream_trees;
};
// Reads the trees named "t<id>.p<n>" (with their engine-kept bounds) and
// "s<id>" from db->ListTrees(). Trees of a table id for which known(id) is
// false were left by a crash inside CreateTable (before its catalog write) or
// DeleteTable (after it) and are dropped. Corruption for malformed bounds.
Status LoadPartitions(lsm::DB* db, const std::function<bool(uint64_t)>& known, StoredTrees* out);

// Creates the partitions of a new table: tree p0 unbounded, then the last
// partition split successively at floor(i * 2^64 / n), so that after every
// step the partitions cover the space. On error the trees made so far are dropped.
Status CreatePartitions(lsm::DB* db, uint64_t table_id, uint32_t n,
                        std::vector<PartitionDef>* parts);

// Splits parts[index] of table `table_id` at `mid` (DB::SplitTree: one
// manifest edit; the children share the parent's SSTables) and replaces it
// by the two children (ids max existing + 1 and + 2) in *parts.
Status SplitAt(lsm::DB* db, uint64_t table_id, std::vector<PartitionDef>* parts, size_t index,
               uint64_t mid);

// Splits the partition `partition_id` of the table behind `rt` at the middle
// of its hash range, while reads and writes go on:
//   1. marks the parent tree as splitting (rerouting callers wait for the map);
//   2. SplitAt;
//   3. takes the table's commit lock exclusively — no write to the parent is
//      in flight — and calls on_split(parent, left, right) (stream shards
//      follow the partitions) and install(new map);
//   4. clears the mark.
// NotFound (no such partition), InvalidArgument (its range holds one hash),
// or the LSM's error (the old map stays). REQUIRES: the caller serialises
// splits and catalog changes of the table (TableStore's catalog mutex).
Status SplitPartition(lsm::DB* db, TableRuntime* rt, uint32_t partition_id,
                      const std::function<void(const PartitionDef&, const PartitionDef&,
                                               const PartitionDef&)>& on_split,
                      const std::function<void(std::shared_ptr<const PartitionMap>)>& install);

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
