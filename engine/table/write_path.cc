#include "engine/table/write_path.h"

#include <algorithm>
#include <shared_mutex>
#include <vector>

#include "engine/base/checksum.h"
#include "engine/table/item_codec.h"
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

WritePath::WritePath(lsm::DB* db, StreamStore* streams)
    : db_(db),
      streams_(streams),
      latches_(std::make_unique<std::array<std::mutex, kLatchStripes>>()) {}

size_t WritePath::StripeOf(const WriteSlot& slot) const {
  return Hash64(slot.key->encoded) % kLatchStripes;
}

Status WritePath::Commit(std::span<WriteSlot> slots,
                         FunctionRef<Status(std::span<WriteSlot>)> decide, bool* committed) {
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
        if (!st.ok()) return st;
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
      case Decision::Kind::kConditionFailed:
      case Decision::Kind::kNoChange:
        break;
    }
    any_write = any_write || s.write;
  }
  if (any_write) {
    st = Apply(slots);
    if (!st.ok()) return st;
  }
  for (WriteSlot& s : slots) {
    if (s.write) s.table->runtime().Account(s.old_item, s.new_item);
  }
  *committed = true;
  return Status::OK();
}

Status WritePath::Apply(std::span<WriteSlot> slots) {
  CommitLocks commit(slots);
  std::vector<lsm::TreeId> used;
  std::vector<const TableRuntime*> used_by;
  std::vector<StagedRecord> staged;
  for (;;) {
    commit.Lock();
    lsm::WriteBatch batch;
    used.clear();
    used_by.clear();
    bool stamped = false;
    uint64_t now_ms = 0;
    for (WriteSlot& s : slots) {
      if (!s.write) continue;
      TableRuntime& rt = s.table->runtime();
      // The newest map under the commit lock: a split cannot install a new
      // one until this Write returned.
      const PartitionDef& part = rt.PartitionsLocked().Route(s.key->hash);
      used.push_back(part.tree);
      used_by.push_back(&rt);
      if (s.decision.kind == Decision::Kind::kPut) {
        batch.Put(part.tree, s.key->encoded, s.encoded);
      } else {
        batch.Delete(part.tree, s.key->encoded);
      }
      if (s.record) {
        if (!stamped) {
          now_ms = streams_->NowMs();
          stamped = true;
        }
        streams_->StageRecord(&rt, part.id, s.key->attributes, s.old_item, s.new_item,
                              s.decision.origin == Decision::Origin::kTtl, now_ms, &batch, &staged);
      }
    }
    Status st = db_->Write(lsm::WriteOptions(), &batch);
    StreamStore::FinishRecords(&staged, st.ok());
    commit.Unlock();  // before waiting in ShouldReroute: a split needs the lock
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
