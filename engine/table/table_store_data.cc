// TableStore's data plane (table_store.h): item reads and writes through the
// write path, Query and Scan of tables and indexes, the by-name conveniences,
// and the entry points of the index builder, TTL and Streams, which forward
// to their modules. table_store.cc has Open/Close, the name map and the
// catalog.
#include <span>
#include <utility>

#include "engine/table/stream_store.h"
#include "engine/table/table_store.h"

namespace basalt::table {

// ---- items ----

Status TableStore::GetItem(const TableHandle& table, const ItemKey& key,
                           const lsm::Snapshot* snapshot, std::optional<Item>* out) {
  lsm::ReadOptions ro;
  ro.snapshot = snapshot;
  return ReadItem(db_.get(), table, ro, key, out);
}

Status TableStore::Update(const TableHandle& table, const ItemKey& key,
                          const std::function<Decision(const Item* old)>& fn,
                          UpdateResult* result) {
  WriteSlot slot;
  slot.table = &table;
  slot.key = &key;
  bool committed;
  Status s = write_path_->Commit(
      {&slot, 1},
      [&](std::span<WriteSlot> slots) {
        WriteSlot& w = slots[0];
        w.decision = fn(w.old_item ? &*w.old_item : nullptr);
        return Status::OK();
      },
      &committed);
  if (!s.ok()) return s;
  TakeResult(&slot, result);
  return Status::OK();
}

void TableStore::TakeResult(WriteSlot* slot, UpdateResult* result) {
  result->outcome = slot->decision.kind;
  if (result->outcome == Decision::Kind::kPut || result->outcome == Decision::Kind::kDelete) {
    result->new_item = std::move(slot->new_item);
  } else {
    result->new_item = slot->old_item;
  }
  result->old_item = std::move(slot->old_item);
}

bool TableStore::TryUpdateAsync(const TableHandle& table, const ItemKey& key,
                                const std::function<Decision(const Item* old)>& fn,
                                UpdateDone done) {
  struct State {
    WriteSlot slot;
    UpdateDone done;
  };
  auto state = std::make_shared<State>();
  state->slot.table = &table;
  state->slot.key = &key;
  state->done = std::move(done);
  WriteSlot* slot = &state->slot;
  return write_path_->TryCommitOneAsync(
      slot,
      [&](std::span<WriteSlot> slots) {
        WriteSlot& w = slots[0];
        w.decision = fn(w.old_item ? &*w.old_item : nullptr);
        return Status::OK();
      },
      [state](Status s, bool) {
        UpdateResult r;
        if (s.ok()) TakeResult(&state->slot, &r);
        state->done(std::move(s), std::move(r));
      });
}

Status TableStore::WriteAtomically(const std::vector<WriteOp>& ops, WriteAtomicallyResult* result) {
  std::vector<WriteSlot> slots(ops.size());
  for (size_t i = 0; i < ops.size(); i++) {
    if (ops[i].table == nullptr) return Status::InvalidArgument("WriteOp without a table");
    slots[i].table = ops[i].table.get();
    slots[i].key = &ops[i].key;
  }
  std::optional<size_t> failed;
  bool committed;
  Status s = write_path_->Commit(
      slots,
      [&](std::span<WriteSlot> ws) {
        for (size_t i = 0; i < ws.size(); i++) {
          const WriteOp& op = ops[i];
          const Item* old = ws[i].old_item ? &*ws[i].old_item : nullptr;
          if (op.condition && !op.condition(old)) {
            failed = i;
            ws[i].decision = Decision::ConditionFailed();
            return Status::OK();
          }
          if (op.kind == WriteOp::Kind::kDelete) {
            ws[i].decision = Decision::Delete();
          } else {
            ws[i].decision =
                op.item_validated ? Decision::PutValidated(op.item) : Decision::Put(op.item);
          }
        }
        return Status::OK();
      },
      &committed);
  if (!s.ok()) return s;
  if (result != nullptr) {
    result->failed_op = failed;
    result->old_items.clear();
    for (WriteSlot& w : slots) result->old_items.push_back(std::move(w.old_item));
  }
  return Status::OK();
}

Status TableStore::PrepareWrite(std::string_view table, WriteOp::Kind kind, Item item,
                                WriteOp* op) {
  Status s = Resolve(table, &op->table);
  if (!s.ok()) return s;
  op->kind = kind;
  if (kind == WriteOp::Kind::kPut) {
    s = op->table->LocateItem(item, &op->key);
    op->item = std::move(item);
  } else {
    s = op->table->LocateKey(item, &op->key);
  }
  return s;
}

Status TableStore::Query(const TableHandle& table, const Value& pk, const SortKeyCondition& cond,
                         bool forward, const ItemKey* exclusive_start, size_t byte_budget,
                         size_t limit, const lsm::Snapshot* snapshot, QueryPage* out) {
  return QueryPartitionKey(db_.get(), table, pk, cond, forward, exclusive_start, byte_budget, limit,
                           snapshot, out);
}

Status TableStore::Scan(const TableHandle& table, uint64_t lo, uint64_t hi,
                        const ItemKey* exclusive_start, size_t byte_budget, size_t limit,
                        const lsm::Snapshot* snapshot, ScanPage* out) {
  return ScanHashRange(db_.get(), table, lo, hi, exclusive_start, byte_budget, limit, snapshot,
                       out);
}

// ---- items by table name ----

Status TableStore::GetItem(std::string_view table, const Item& key, const lsm::Snapshot* snapshot,
                           std::optional<Item>* out) {
  TableRef t;
  ItemKey k;
  Status s = Resolve(table, &t);
  if (s.ok()) s = t->LocateKey(key, &k);
  return s.ok() ? GetItem(*t, k, snapshot, out) : s;
}

Status TableStore::PutItem(std::string_view table, const Item& item, std::optional<Item>* old) {
  TableRef t;
  ItemKey k;
  Status s = Resolve(table, &t);
  if (s.ok()) s = t->LocateItem(item, &k);
  if (!s.ok()) return s;
  UpdateResult r;
  s = Update(
      *t, k, [&](const Item*) { return Decision::Put(item); }, &r);
  if (s.ok() && old != nullptr) *old = std::move(r.old_item);
  return s;
}

Status TableStore::DeleteItem(std::string_view table, const Item& key, std::optional<Item>* old) {
  UpdateResult r;
  Status s = Update(
      table, key, [](const Item*) { return Decision::Delete(); }, &r);
  if (s.ok() && old != nullptr) *old = std::move(r.old_item);
  return s;
}

Status TableStore::Update(std::string_view table, const Item& key,
                          const std::function<Decision(const Item* old)>& fn,
                          UpdateResult* result) {
  TableRef t;
  ItemKey k;
  Status s = Resolve(table, &t);
  if (s.ok()) s = t->LocateKey(key, &k);
  return s.ok() ? Update(*t, k, fn, result) : s;
}

Status TableStore::Query(std::string_view table, const Value& pk, const SortKeyCondition& cond,
                         bool forward, const std::optional<Item>& exclusive_start_key,
                         size_t byte_budget, size_t limit, const lsm::Snapshot* snapshot,
                         QueryPage* out) {
  *out = QueryPage();
  TableRef t;
  ItemKey start;
  Status s = Resolve(table, &t);
  if (s.ok() && exclusive_start_key) s = t->LocateKey(*exclusive_start_key, &start);
  if (!s.ok()) return s;
  return Query(*t, pk, cond, forward, exclusive_start_key ? &start : nullptr, byte_budget, limit,
               snapshot, out);
}

Status TableStore::Scan(std::string_view table, uint64_t lo, uint64_t hi,
                        const std::optional<Item>& exclusive_start_key, size_t byte_budget,
                        size_t limit, const lsm::Snapshot* snapshot, ScanPage* out) {
  *out = ScanPage();
  TableRef t;
  ItemKey start;
  Status s = Resolve(table, &t);
  if (s.ok() && exclusive_start_key) s = t->LocateKey(*exclusive_start_key, &start);
  if (!s.ok()) return s;
  return Scan(*t, lo, hi, exclusive_start_key ? &start : nullptr, byte_budget, limit, snapshot,
              out);
}

// ---- Secondary indexes ----

Status TableStore::QueryIndex(const TableHandle& table, const IndexDef& index,
                              const IndexQuery& query, bool forward,
                              const std::string* exclusive_start, size_t byte_budget, size_t limit,
                              const lsm::Snapshot* snapshot, QueryPage* out) {
  return table::QueryIndex(db_.get(), table, index, query, forward, exclusive_start, byte_budget,
                           limit, snapshot, out);
}

Status TableStore::ScanIndex(const TableHandle& table, const IndexDef& index, uint64_t lo,
                             uint64_t hi, const std::string* exclusive_start, size_t byte_budget,
                             size_t limit, const lsm::Snapshot* snapshot, ScanPage* out) {
  return table::ScanIndex(db_.get(), table, index, lo, hi, exclusive_start, byte_budget, limit,
                          snapshot, out);
}

Status TableStore::BuildIndexes() { return index_builder_->RunOnce(); }

IndexBuildStats TableStore::index_build_stats() const { return index_builder_->stats(); }

// ---- Time to Live ----

Status TableStore::SweepExpiredItems(TtlStats* stats) { return ttl_->Sweep(stats); }

TtlStats TableStore::ttl_stats() const { return ttl_->stats(); }

// ---- Streams ----

Status TableStore::ListStreams(const std::string& table, std::vector<StreamInfo>* out) {
  out->clear();
  if (table.empty()) {
    for (const auto& [name, rt] : AllTables()) streams_->List(name, *rt, out);
    return Status::OK();
  }
  std::shared_ptr<TableRuntime> rt;
  Status s = ResolveRuntime(table, &rt);
  if (!s.ok()) return s;
  streams_->List(table, *rt, out);
  return Status::OK();
}

Status TableStore::DescribeStream(const std::string& table, const std::string& label,
                                  StreamInfo* info, std::vector<ShardInfo>* shards) {
  shards->clear();
  std::shared_ptr<TableRuntime> rt;
  if (!ResolveRuntime(table, &rt).ok()) return StreamNotFound(label);
  return streams_->Describe(table, *rt, label, info, shards);
}

Status TableStore::ReadShard(const std::string& table, const std::string& label,
                             const std::string& shard_id, uint64_t from_sequence, size_t limit,
                             size_t max_bytes, std::vector<StreamRecord>* out,
                             uint64_t* next_sequence, bool* shard_end) {
  out->clear();
  *next_sequence = from_sequence;
  *shard_end = false;
  std::shared_ptr<TableRuntime> rt;
  if (!ResolveRuntime(table, &rt).ok()) return StreamNotFound(label);
  return streams_->ReadShard(rt.get(), label, shard_id, from_sequence, limit, max_bytes, out,
                             next_sequence, shard_end);
}

Status TableStore::ShardBounds(const std::string& table, const std::string& label,
                               const std::string& shard_id, uint64_t* trim_horizon,
                               uint64_t* latest) {
  std::shared_ptr<TableRuntime> rt;
  if (!ResolveRuntime(table, &rt).ok()) return StreamNotFound(label);
  return streams_->ShardBounds(*rt, label, shard_id, trim_horizon, latest);
}

Status TableStore::TrimStreams(uint64_t* trimmed) {
  if (trimmed != nullptr) *trimmed = 0;
  std::vector<std::shared_ptr<TableRuntime>> rts;
  for (auto& [name, rt] : AllTables()) rts.push_back(std::move(rt));
  return streams_->TrimAll(rts, trimmed);
}

}  // namespace basalt::table
