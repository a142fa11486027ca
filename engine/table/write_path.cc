#include "engine/table/write_path.h"

#include <algorithm>
#include <shared_mutex>
#include <vector>

#include "engine/base/checksum.h"
#include "engine/table/index_key.h"
#include "engine/table/item_codec.h"
#include "engine/table/item_collection.h"
#include "engine/table/query_scan.h"
#include "engine/table/stream_store.h"
#include "engine/table/table_handle.h"

namespace basalt::table {

namespace {

// Validates and canonicalises a kPut decision's item and encodes it into
// slot->encoded. The item's key attributes must equal the slot's (already
// validated) key; values compare as the key codec orders them (numbers by
// value), so equal values have equal encodings and nothing is re-encoded.
Status PreparePut(WriteSlot* slot) {
  const TableDef& def = slot->table->def();
  Item& item = slot->decision.item;
  for (const KeyAttribute* a : def.KeyAttributes()) {
    const Value* v = item.Find(a->name);
    const Value* k = slot->key->attributes.Find(a->name);
    if (v == nullptr || k == nullptr || !(*v == *k)) {
      return Status::InvalidArgument(
          "One or more parameter values were invalid: the new item's key attributes differ from "
          "the key");
    }
  }
  if (!slot->decision.validated) {
    Status s = ValidateItem(item);
    if (!s.ok()) return s;
  }
  CanonicalizeItem(&item);
  slot->encoded.clear();
  EncodeItem(item, &slot->encoded);
  return Status::OK();
}

// The commit locks (shared) of the tables a commit writes, taken in table id
// order so that commits never deadlock with each other or with a change
// holding one lock exclusively.
class CommitLocks {
 public:
  explicit CommitLocks(std::span<const WriteSlot> slots) {
    for (const WriteSlot& s : slots) {
      if (s.write) tables_.push_back(&s.table->runtime());
    }
    std::sort(tables_.begin(), tables_.end(), [](const TableRuntime* a, const TableRuntime* b) {
      return a->table_id < b->table_id;
    });
    tables_.erase(std::unique(tables_.begin(), tables_.end()), tables_.end());
  }
  void Lock() {
    for (TableRuntime* rt : tables_) rt->commit_mu.lock_shared();
    held_ = true;
  }
  void Unlock() {
    if (!held_) return;
    for (auto it = tables_.rbegin(); it != tables_.rend(); ++it) (*it)->commit_mu.unlock_shared();
    held_ = false;
  }
  ~CommitLocks() { Unlock(); }

 private:
  std::vector<TableRuntime*> tables_;
  bool held_ = false;
};

}  // namespace

WritePath::WritePath(lsm::DB* db, StreamStore* streams, uint64_t item_collection_limit_bytes)
    : db_(db),
      streams_(streams),
      item_collection_limit_bytes_(item_collection_limit_bytes),
      latches_(std::make_unique<std::array<std::mutex, kLatchStripes>>()) {}

size_t WritePath::StripeOf(const WriteSlot& slot) const {
  return Hash64(slot.key->encoded) % kLatchStripes;
}

Status WritePath::Commit(std::span<WriteSlot> slots,
                         FunctionRef<Status(std::span<WriteSlot>)> decide, bool* committed,
                         CommitOptions* options) {
  *committed = false;
  // Latches. One slot (the common case) needs no sorting.
  std::vector<std::unique_lock<std::mutex>> locks;
  std::unique_lock<std::mutex> single;
  if (slots.size() == 1) {
    single = std::unique_lock<std::mutex>((*latches_)[StripeOf(slots[0])]);
  } else {
    std::vector<std::pair<uint64_t, const std::string*>> items;
    std::vector<size_t> stripes;
    for (const WriteSlot& s : slots) {
      items.emplace_back(s.table->id(), &s.key->encoded);
      stripes.push_back(StripeOf(s));
    }
    std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first < b.first : *a.second < *b.second;
    });
    for (size_t i = 1; i < items.size(); i++) {
      if (items[i].first == items[i - 1].first && *items[i].second == *items[i - 1].second) {
        return Status::InvalidArgument(Status::SubCode::kDuplicateKeys, kDuplicateKeysMessage);
      }
    }
    std::sort(stripes.begin(), stripes.end());
    stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
    locks.reserve(stripes.size());
    for (size_t stripe : stripes) locks.emplace_back((*latches_)[stripe]);
  }

  for (WriteSlot& s : slots) {
    Status st = ReadItem(db_, *s.table, lsm::ReadOptions(), *s.key, &s.old_item, &s.old_encoded);
    if (!st.ok()) return st;
  }
  Status st = decide(slots);
  if (!st.ok()) return st;
  for (const WriteSlot& s : slots) {
    if (s.decision.kind == Decision::Kind::kConditionFailed) return Status::OK();
  }
  bool any_write = false;
  for (WriteSlot& s : slots) {
    s.write = s.record = false;
    switch (s.decision.kind) {
      case Decision::Kind::kPut: {
        st = PreparePut(&s);
        if (!st.ok()) {
          if (options != nullptr) options->failed_slot = &s - slots.data();
          return st;
        }
        s.new_item = std::move(s.decision.item);
        s.write = true;
        // A put of an item identical to the old one changes nothing: no
        // stream record (as DynamoDB). Both encodings are canonical.
        s.record = !s.old_item || s.old_encoded != s.encoded;
        break;
      }
      case Decision::Kind::kDelete:
        s.write = s.record = s.old_item.has_value();
        break;
      case Decision::Kind::kRefreshIndex:
        s.write = s.old_item.has_value();  // index entries only
        break;
      case Decision::Kind::kConditionFailed:
      case Decision::Kind::kNoChange:
        break;
    }
    any_write = any_write || s.write;
  }
  if (any_write || (options != nullptr && options->stage_extra)) {
    st = Apply(slots, options);
    if (!st.ok()) return st;
  }
  for (WriteSlot& s : slots) {
    if (s.write && s.decision.kind != Decision::Kind::kRefreshIndex) {
      s.table->runtime().Account(s.old_item, s.new_item);
    }
  }
  *committed = true;
  return Status::OK();
}

Status WritePath::CheckItemCollection(const WriteSlot& slot, int64_t growth) const {
  const TableRuntime& rt = slot.table->runtime();
  const TableDef& def = rt.DefLocked();
  const PartitionSet& set = rt.PartitionsLocked();
  // No collection can be larger than the table with its LSIs: while four
  // times their logical size (a generous bound on the bytes stored for it)
  // stays under the limit, no estimate is needed. The common case: O(1).
  int64_t logical = rt.size_bytes.load(std::memory_order_relaxed);
  for (const IndexDef& ix : def.indexes) {
    const PartitionSet::IndexParts* parts = set.index(ix.id);
    if (!ix.global() && parts != nullptr) {
      logical += parts->counters->size_bytes.load(std::memory_order_relaxed);
    }
  }
  const uint64_t limit = item_collection_limit_bytes_;
  if (4 * static_cast<uint64_t>(std::max<int64_t>(logical, 0)) + growth <= limit) {
    return Status::OK();
  }
  const Value* pk = slot.key->attributes.Find(def.partition_key.name);
  if (pk == nullptr) return Status::OK();  // cannot happen: keys are validated
  uint64_t bytes = 0;
  Status s = ItemCollectionBytes(db_, def, set, *pk, &bytes);
  if (!s.ok()) return s;
  if (bytes + static_cast<uint64_t>(growth) > limit) {
    return Status::InvalidArgument(Status::SubCode::kItemCollectionTooLarge,
                                   kItemCollectionLimitMessage);
  }
  return Status::OK();
}

// A change of an index's statistics, applied once the batch committed.
struct WritePath::IndexDelta {
  PartitionSet::IndexCounters* counters;
  int64_t items;
  int64_t bytes;
};

Status WritePath::StageIndexEntries(const WriteSlot& slot, lsm::WriteBatch* batch,
                                    std::vector<lsm::TreeId>* used,
                                    std::vector<const TableRuntime*>* used_by,
                                    std::vector<IndexDelta>* deltas, int64_t* local_bytes) {
  *local_bytes = 0;
  const TableRuntime& rt = slot.table->runtime();
  const TableDef& def = rt.DefLocked();
  if (def.indexes.empty()) return Status::OK();
  const PartitionSet& set = rt.PartitionsLocked();
  const bool refresh = slot.decision.kind == Decision::Kind::kRefreshIndex;
  const Item* old = slot.old_item ? &*slot.old_item : nullptr;
  const Item* next = nullptr;
  if (slot.decision.kind == Decision::Kind::kPut) next = &*slot.new_item;
  if (refresh) next = old;
  for (const IndexDef& ix : def.indexes) {
    if (refresh && ix.id != slot.decision.index_id) continue;
    const PartitionSet::IndexParts* parts = set.index(ix.id);
    if (parts == nullptr) continue;  // cannot happen: the set follows the definition
    IndexEntry before, after;
    bool had = false, has = false;
    // An old item whose index keys cannot be indexed (written before the
    // index existed, skipped by its backfill) simply has no entry.
    if (old != nullptr && !refresh && !MakeIndexEntry(def, ix, *old, &before, &had).ok()) {
      had = false;
    }
    if (next != nullptr) {
      Status s = MakeIndexEntry(def, ix, *next, &after, &has);
      if (!s.ok()) {
        if (!refresh) return s;
        has = false;  // the backfill skips index key violations
      }
    }
    if (refresh && has) {
      // Written already (by a write since the index was added): keep it.
      std::string existing;
      const lsm::TreeId tree = parts->map->Route(after.hash).tree;
      Status s = db_->Get(lsm::ReadOptions(), tree, after.key, &existing);
      if (s.ok()) continue;
      if (!s.IsNotFound()) return s;
    }
    const bool same_key = had && has && before.key == after.key;
    if (had && !same_key) {
      const lsm::TreeId tree = parts->map->Route(before.hash).tree;
      batch->Delete(tree, before.key);
      used->push_back(tree);
      used_by->push_back(&rt);
      deltas->push_back(
          {parts->counters.get(), -1, -static_cast<int64_t>(ItemSize(before.projected))});
      if (!ix.global()) *local_bytes += deltas->back().bytes;
    }
    if (has && !(same_key && before.projected == after.projected)) {
      std::string value;
      EncodeItem(after.projected, &value);
      const lsm::TreeId tree = parts->map->Route(after.hash).tree;
      batch->Put(tree, after.key, value);
      used->push_back(tree);
      used_by->push_back(&rt);
      const int64_t size = static_cast<int64_t>(ItemSize(after.projected));
      deltas->push_back(
          {parts->counters.get(), same_key ? 0 : 1,
           same_key ? size - static_cast<int64_t>(ItemSize(before.projected)) : size});
      if (!ix.global()) *local_bytes += deltas->back().bytes;
    }
  }
  return Status::OK();
}

Status WritePath::Apply(std::span<WriteSlot> slots, CommitOptions* options) {
  CommitLocks commit(slots);
  std::vector<lsm::TreeId> used;
  std::vector<const TableRuntime*> used_by;
  std::vector<StagedRecord> staged;
  std::vector<IndexDelta> deltas;
  for (;;) {
    commit.Lock();
    lsm::WriteBatch batch;
    used.clear();
    used_by.clear();
    deltas.clear();
    // Items and index entries first (an index key error writes nothing),
    // then stream records (which take sequences).
    for (WriteSlot& s : slots) {
      if (!s.write) continue;
      TableRuntime& rt = s.table->runtime();
      // The newest definition and maps under the commit lock: an alter or a
      // split cannot install new ones until this Write returned.
      const PartitionDef& part = rt.PartitionsLocked().table().Route(s.key->hash);
      used.push_back(part.tree);
      used_by.push_back(&rt);
      if (s.decision.kind == Decision::Kind::kPut) {
        batch.Put(part.tree, s.key->encoded, s.encoded);
      } else if (s.decision.kind == Decision::Kind::kDelete) {
        batch.Delete(part.tree, s.key->encoded);
      }
      int64_t local_bytes = 0;
      Status st = StageIndexEntries(s, &batch, &used, &used_by, &deltas, &local_bytes);
      if (!st.ok()) {
        if (options != nullptr) options->failed_slot = &s - slots.data();
        return st;
      }
      if (s.decision.kind == Decision::Kind::kPut && HasLocalIndex(rt.DefLocked())) {
        const int64_t growth = static_cast<int64_t>(ItemSize(*s.new_item)) -
                               (s.old_item ? static_cast<int64_t>(ItemSize(*s.old_item)) : 0) +
                               local_bytes;
        if (growth > 0) {
          st = CheckItemCollection(s, growth);
          if (!st.ok()) {
            if (options != nullptr) options->failed_slot = &s - slots.data();
            return st;
          }
        }
      }
    }
    bool stamped = false;
    uint64_t now_ms = 0;
    for (WriteSlot& s : slots) {
      if (!s.write) continue;
      TableRuntime& rt = s.table->runtime();
      if (s.record) {
        const PartitionDef& part = rt.PartitionsLocked().table().Route(s.key->hash);
        if (!stamped) {
          now_ms = streams_->NowMs();
          stamped = true;
        }
        streams_->StageRecord(&rt, part.id, s.key->attributes, s.old_item, s.new_item,
                              s.decision.origin == Decision::Origin::kTtl, now_ms, &batch, &staged);
      }
    }
    if (options != nullptr && options->stage_extra) options->stage_extra(&batch);
    Status st = batch.Empty() ? Status::OK() : db_->Write(lsm::WriteOptions(), &batch);
    StreamStore::FinishRecords(&staged, st.ok());
    commit.Unlock();  // before waiting in ShouldReroute: a split needs the lock
    if (st.ok()) {
      for (const IndexDelta& d : deltas) {
        d.counters->item_count.fetch_add(d.items, std::memory_order_relaxed);
        d.counters->size_bytes.fetch_add(d.bytes, std::memory_order_relaxed);
      }
    }
    if (IsRerouteError(st)) {
      bool retry = false;
      for (size_t i = 0; i < used.size() && !retry; i++) {
        retry = ShouldReroute(*used_by[i], {&used[i], 1});
      }
      if (retry) continue;
    }
    return st;
  }
}

}  // namespace basalt::table
