#include "engine/table/write_path.h"

#include <algorithm>
#include <vector>

#include "engine/base/checksum.h"
#include "engine/table/index_key.h"
#include "engine/table/item_codec.h"
#include "engine/table/item_collection.h"
#include "engine/table/query_scan.h"
#include "engine/table/snapshot_format.h"
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
      latches_(std::make_unique<std::array<Latch, kLatchStripes>>()) {}

size_t WritePath::StripeOf(const WriteSlot& slot) const {
  return Hash64(slot.key->encoded) % kLatchStripes;
}

Status WritePath::Commit(std::span<WriteSlot> slots,
                         FunctionRef<Status(std::span<WriteSlot>)> decide, bool* committed,
                         CommitOptions* options) {
  *committed = false;
  // Latches. One slot (the common case) needs no sorting.
  std::vector<std::unique_lock<Latch>> locks;
  std::unique_lock<Latch> single;
  if (slots.size() == 1) {
    single = std::unique_lock<Latch>((*latches_)[StripeOf(slots[0])]);
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

  bool condition_failed = false;
  bool any_write = false;
  Status st = Decide(slots, decide, options, &condition_failed, &any_write);
  if (!st.ok() || condition_failed) return st;
  if (any_write || (options != nullptr && options->stage_extra)) {
    st = Apply(slots, options);
    if (!st.ok()) return st;
  }
  Account(slots);
  *committed = true;
  return Status::OK();
}

Status WritePath::Decide(std::span<WriteSlot> slots,
                         FunctionRef<Status(std::span<WriteSlot>)> decide, CommitOptions* options,
                         bool* condition_failed, bool* any_write) {
  for (WriteSlot& s : slots) {
    Status st = ReadItem(db_, *s.table, lsm::ReadOptions(), *s.key, &s.old_item, &s.old_encoded);
    if (!st.ok()) return st;
  }
  Status st = decide(slots);
  if (!st.ok()) return st;
  for (const WriteSlot& s : slots) {
    if (s.decision.kind == Decision::Kind::kConditionFailed) {
      *condition_failed = true;
      return Status::OK();
    }
  }
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
    *any_write = *any_write || s.write;
  }
  return Status::OK();
}

void WritePath::Account(std::span<WriteSlot> slots) {
  for (WriteSlot& s : slots) {
    if (s.write && s.decision.kind != Decision::Kind::kRefreshIndex) {
      s.table->runtime().Account(s.old_item, s.new_item);
    }
  }
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

// One staging of a commit's batch and what it holds until the write returned.
struct WritePath::Attempt {
  explicit Attempt(std::span<const WriteSlot> slots);
  CommitLocks commit;
  lsm::WriteBatch batch;
  std::vector<lsm::TreeId> used;             // trees written...
  std::vector<const TableRuntime*> used_by;  // ...and their tables
  std::vector<StagedRecord> staged;
  std::vector<IndexDelta> deltas;
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

WritePath::Attempt::Attempt(std::span<const WriteSlot> slots) : commit(slots) {}

Status WritePath::Apply(std::span<WriteSlot> slots, CommitOptions* options) {
  Attempt a(slots);
  for (;;) {
    Status st = Stage(slots, options, &a);
    if (!st.ok()) return st;
    st = a.batch.Empty() ? Status::OK() : db_->Write(lsm::WriteOptions(), &a.batch);
    if (!Finish(&a, st)) return st;
  }
}

Status WritePath::Stage(std::span<WriteSlot> slots, CommitOptions* options, Attempt* a) {
  a->commit.Lock();
  a->batch.Clear();
  a->used.clear();
  a->used_by.clear();
  a->deltas.clear();
  a->staged.clear();
  lsm::WriteBatch& batch = a->batch;
  // Items and index entries first (an index key error writes nothing),
  // then stream records (which take sequences).
  for (WriteSlot& s : slots) {
    if (!s.write) continue;
    TableRuntime& rt = s.table->runtime();
    // The newest definition and maps under the commit lock: an alter or a
    // split cannot install new ones until this write is finished.
    const PartitionDef& part = rt.PartitionsLocked().table().Route(s.key->hash);
    a->used.push_back(part.tree);
    a->used_by.push_back(&rt);
    if (s.decision.kind == Decision::Kind::kPut) {
      batch.Put(part.tree, s.key->encoded, s.encoded);
    } else if (s.decision.kind == Decision::Kind::kDelete) {
      batch.Delete(part.tree, s.key->encoded);
    }
    int64_t local_bytes = 0;
    Status st = StageIndexEntries(s, &batch, &a->used, &a->used_by, &a->deltas, &local_bytes);
    if (!st.ok()) {
      if (options != nullptr) options->failed_slot = &s - slots.data();
      a->commit.Unlock();
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
          a->commit.Unlock();
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
                            s.decision.origin == Decision::Origin::kTtl, now_ms, &batch,
                            &a->staged);
    }
  }
  // Point-in-time history: one change record per real change of a table with
  // PITR on, in the same batch; a commit's changes of one table share a stamp.
  std::vector<std::pair<TableRuntime*, uint64_t>> stamps;
  uint32_t n = 0;
  for (WriteSlot& s : slots) {
    if (!s.write || !s.record) continue;
    TableRuntime& rt = s.table->runtime();
    if (!rt.history_tree) continue;
    auto it =
        std::find_if(stamps.begin(), stamps.end(), [&](const auto& e) { return e.first == &rt; });
    if (it == stamps.end()) {
      if (!stamped) {
        now_ms = streams_->NowMs();
        stamped = true;
      }
      stamps.emplace_back(&rt, rt.NextStamp(now_ms));
      it = stamps.end() - 1;
    }
    batch.Put(*rt.history_tree, HistoryKey(it->second, n++),
              s.decision.kind == Decision::Kind::kPut ? HistoryPutValue(s.encoded)
                                                      : HistoryDeleteValue(s.key->attributes));
  }
  if (options != nullptr && options->stage_extra) options->stage_extra(&batch);
  return Status::OK();
}

bool WritePath::Finish(Attempt* a, const Status& st) {
  StreamStore::FinishRecords(&a->staged, st.ok());
  a->commit.Unlock();  // before waiting in ShouldReroute: a split needs the lock
  if (st.ok()) {
    for (const IndexDelta& d : a->deltas) {
      d.counters->item_count.fetch_add(d.items, std::memory_order_relaxed);
      d.counters->size_bytes.fetch_add(d.bytes, std::memory_order_relaxed);
    }
  }
  if (IsRerouteError(st)) {
    for (size_t i = 0; i < a->used.size(); i++) {
      if (ShouldReroute(*a->used_by[i], {&a->used[i], 1})) return true;
    }
  }
  return false;
}

// One asynchronous commit of one slot, from its latch to its completion.
struct WritePath::AsyncCommit {
  AsyncCommit(WriteSlot* s, Latch* l, AsyncDone d)
      : slot(s), latch(l), done(std::move(d)), attempt(std::span<const WriteSlot>(s, 1)) {}
  WriteSlot* const slot;
  Latch* const latch;  // held until done runs
  AsyncDone done;
  Attempt attempt;
};

bool WritePath::TryCommitOneAsync(WriteSlot* slot, FunctionRef<Status(std::span<WriteSlot>)> decide,
                                  AsyncDone done) {
  Latch* latch = &(*latches_)[StripeOf(*slot)];
  if (!latch->try_lock()) return false;
  std::span<WriteSlot> slots(slot, 1);
  bool condition_failed = false;
  bool any_write = false;
  Status st = Decide(slots, decide, nullptr, &condition_failed, &any_write);
  if (!st.ok() || condition_failed || !any_write) {
    latch->unlock();
    done(st, st.ok() && !condition_failed);
    return true;
  }
  StartAsync(std::make_shared<AsyncCommit>(slot, latch, std::move(done)));
  return true;
}

void WritePath::StartAsync(std::shared_ptr<AsyncCommit> c) {
  Status st = Stage({c->slot, 1}, nullptr, &c->attempt);
  if (!st.ok() || c->attempt.batch.Empty()) return FinishAsync(std::move(c), st);
  lsm::WriteBatch* batch = &c->attempt.batch;
  db_->WriteAsync(lsm::WriteOptions(), batch,
                  [this, c = std::move(c)](Status s) mutable { FinishAsync(std::move(c), s); });
}

void WritePath::FinishAsync(std::shared_ptr<AsyncCommit> c, Status st) {
  if (Finish(&c->attempt, st)) return StartAsync(std::move(c));  // re-routed after a split
  if (st.ok()) Account({c->slot, 1});
  c->latch->unlock();
  AsyncDone done = std::move(c->done);
  c.reset();
  done(st, st.ok());
}

}  // namespace basalt::table
