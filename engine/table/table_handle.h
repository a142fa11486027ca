// TableRuntime and TableHandle: a table as the data path sees it.
//
// TableHandle is an immutable snapshot of one table's definition and
// partition map. TableStore::Resolve hands it out by name; a request resolves
// it once and passes it down (no copy of the definition, no second lookup).
// Altering or splitting the table builds a new handle and replaces the old
// one atomically (as the LSM replaces a Version); holders of the old handle
// keep a consistent, if stale, view: the key schema never changes, and every
// LSM call that hits a partition split away re-routes through the newest map.
//
// TableRuntime is the live, mutable state shared by all handles of one table:
// its commit lock, the newest definition and partition map, the split mark,
// the drop flag, the approximate statistics and the stream state. It is internal to the table
// layer (write path, reads, streams, splits).
//
// Thread safety: TableHandle is immutable. TableRuntime documents each member.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>

#include "engine/base/status.h"
#include "engine/base/sync.h"
#include "engine/table/item_key.h"
#include "engine/table/partition_map.h"
#include "engine/table/schema.h"
#include "engine/table/snapshot_format.h"
#include "engine/table/stream_store.h"

namespace basalt::table {

class TableHandle;
using TableRef = std::shared_ptr<const TableHandle>;

struct TableRuntime {
  explicit TableRuntime(uint64_t id) : table_id(id) {}
  TableRuntime(const TableRuntime&) = delete;
  TableRuntime& operator=(const TableRuntime&) = delete;

  const uint64_t table_id;

  // The commit lock. Held SHARED by every writer from routing its change to
  // the end of its lsm Write (an async write: until its completion; hence a
  // SharedGate, which the committer thread may release), and EXCLUSIVE by whoever changes the
  // table's definition or partition map (AlterTable, a split, stream changes), so that no write
  // straddles a change: a write is staged entirely under the old definition and map, or entirely
  // under the new ones.
  mutable SharedGate commit_mu;
  // The newest definition and partition map (the handle TableStore hands
  // out is built from them). Replaced only under commit_mu exclusive; read
  // under commit_mu, shared suffices (the *Locked accessors when it is held).
  std::shared_ptr<const TableDef> def;
  std::shared_ptr<const PartitionSet> partitions;
  std::shared_ptr<const PartitionSet> Partitions() const {
    std::shared_lock<SharedGate> l(commit_mu);
    return partitions;
  }
  const TableDef& DefLocked() const { return *def; }
  const PartitionSet& PartitionsLocked() const { return *partitions; }

  // The tree of the partition being split (kNoTree if none): set before
  // DB::SplitTree drops it, cleared once the children are in the map, so a
  // caller that found the tree gone waits instead of failing (ShouldReroute).
  static constexpr uint64_t kNoTree = ~uint64_t{0};
  std::atomic<uint64_t> splitting{kNoTree};
  // Set by DeleteTable: operations that hit the dropped trees fail.
  std::atomic<bool> dropped{false};

  // Approximate statistics, adjusted by every committed write.
  std::atomic<int64_t> item_count{0};
  std::atomic<int64_t> size_bytes{0};
  void Account(const std::optional<Item>& old_item, const std::optional<Item>& new_item);

  // Point-in-time history (snapshots.h, snapshot_format.h): while PITR is
  // enabled, the tree of the current history segment and its number. Changed
  // only under commit_mu exclusive; read under it (shared suffices).
  std::optional<lsm::TreeId> history_tree;
  uint64_t history_segment = 0;
  // The last change stamp handed out: NextStamp returns max(now_ms <<
  // kStampShift, last + 1), so stamps increase strictly per table and a
  // later write of one item (after its latch) gets a larger one.
  std::atomic<uint64_t> last_stamp{0};
  uint64_t NextStamp(uint64_t now_ms) {
    uint64_t last = last_stamp.load(std::memory_order_relaxed);
    for (;;) {
      const uint64_t next = std::max(now_ms << kStampShift, last + 1);
      if (last_stamp.compare_exchange_weak(last, next, std::memory_order_relaxed)) return next;
    }
  }

  // Stream state (stream_store.h); its own locks.
  TableStreams streams;
};

class TableHandle {
 public:
  TableHandle(std::shared_ptr<const TableDef> def, std::shared_ptr<const PartitionSet> parts,
              std::shared_ptr<TableRuntime> runtime)
      : def_(std::move(def)), parts_(std::move(parts)), runtime_(std::move(runtime)) {}

  // The definition. Its `partitions` and statistics are not maintained here
  // (TableStore::DescribeTable fills them).
  const TableDef& def() const { return *def_; }
  const std::string& name() const { return def_->name; }
  uint64_t id() const { return def_->table_id; }
  // The table's partitions, and its indexes' (partition_set()).
  const PartitionMap& partitions() const { return parts_->table(); }
  const PartitionSet& partition_set() const { return *parts_; }
  TableRuntime& runtime() const { return *runtime_; }
  const std::shared_ptr<TableRuntime>& shared_runtime() const { return runtime_; }

  // Key validation and encoding against this table's key schema (item_key.h).
  Status LocateKey(const Item& key, ItemKey* out) const {
    return table::LocateKey(*def_, key, out);
  }
  Status LocateItem(const Item& item, ItemKey* out) const {
    return table::LocateItem(*def_, item, out);
  }
  Item KeyOf(const Item& item) const { return ExtractKey(*def_, item); }

 private:
  std::shared_ptr<const TableDef> def_;
  std::shared_ptr<const PartitionSet> parts_;
  std::shared_ptr<TableRuntime> runtime_;
};

}  // namespace basalt::table
