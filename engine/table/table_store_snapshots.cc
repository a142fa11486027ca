// TableStore: snapshots and point-in-time recovery (snapshots.h; formats in
// snapshot_format.h; design, space and reclamation in docs/backup.md).
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <unordered_map>

#include "engine/base/coding.h"
#include "engine/base/logging.h"
#include "engine/table/catalog.h"
#include "engine/table/item_codec.h"
#include "engine/table/snapshot_format.h"
#include "engine/table/table_store.h"
#include "engine/table/table_store_internal.h"

namespace basalt::table {

using namespace store_detail;

namespace {

constexpr uint64_t kDayMs = uint64_t{24} * 3600 * 1000;
// Changes replayed per WriteAtomically call of a restore.
constexpr size_t kReplayChunk = 64;

Status NoSnapshot(const std::string& id) {
  return Status::NotFound(Status::SubCode::kSnapshotNotFound, "Snapshot not found: " + id);
}

// Every tree of a table and of its indexes: (index id, partition).
std::vector<std::pair<uint32_t, PartitionDef>> TreesOf(const PartitionSet& set) {
  std::vector<std::pair<uint32_t, PartitionDef>> out;
  for (const PartitionDef& p : set.table().parts()) out.emplace_back(0, p);
  for (const auto& [id, parts] : set.indexes()) {
    for (const PartitionDef& p : parts.map->parts()) out.emplace_back(id, p);
  }
  return out;
}

// The meta of a PITR base: the last stamp it holds.
std::string BaseMeta(uint64_t stamp) { return fmt::format("stamp={}", stamp); }
uint64_t BaseStamp(const TableSnapshotInfo& info) {
  uint64_t v = 0;
  if (info.meta.rfind("stamp=", 0) == 0) {
    std::from_chars(info.meta.data() + 6, info.meta.data() + info.meta.size(), v);
  }
  return v;
}

// Reads every entry of `tree`: each SSTable block read is checked against
// its checksum (Corruption on a mismatch).
Status ReadWholeTree(lsm::DB* db, lsm::TreeId tree) {
  std::unique_ptr<lsm::Iterator> it = db->NewIterator(lsm::ReadOptions(), tree);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
  }
  return it->status();
}

}  // namespace

// ---- snapshots ----

Status TableStore::SnapshotLocked(TableRuntime& rt, const std::string& id, std::string meta,
                                  TableSnapshotInfo* out) {
  TableSnapshotInfo info;
  info.id = id;
  info.def = DescribedLocked(rt);
  info.table = info.def.name;
  info.table_id = rt.table_id;
  info.created_ms = streams_->NowMs();
  info.meta = std::move(meta);
  std::vector<lsm::TreeId> sources;
  std::vector<std::string> names;
  for (const auto& [index_id, p] : TreesOf(*rt.partitions)) {
    sources.push_back(p.tree);
    names.push_back(SnapshotTreeName(id, index_id, p.id));
  }
  std::vector<lsm::TreeId> ids;
  // The clones are frozen (their names: lsm::Options::frozen_trees, set at
  // Open): a snapshot never compacts, so it shares the table's files until
  // the table rewrites them, and costs no space before.
  Status s = db_->CloneTrees(sources, names, &ids);
  if (!s.ok()) return s;
  for (lsm::TreeId t : ids) {
    uint64_t bytes = 0;
    if (db_->GetApproximateSize(t, &bytes).ok()) info.size_bytes += bytes;
  }
  std::string rec;
  EncodeSnapshotRecord(info, &rec);
  s = system_->Put(SnapshotKey(id), rec);
  if (!s.ok()) {
    // A crash here instead leaves trees without a record: Open drops them.
    for (lsm::TreeId t : ids) db_->DropTree(t).PermitUnchecked();
    return s;
  }
  if (out != nullptr) *out = std::move(info);
  return Status::OK();
}

void TableStore::FlushTable(const TableRuntime& rt) {
  for (const auto& [index_id, p] : TreesOf(*rt.Partitions())) {
    db_->Flush(p.tree).PermitUnchecked();  // only shortens the clone's pause
  }
}

Status TableStore::CreateSnapshot(const std::string& table, const std::string& id, std::string meta,
                                  TableSnapshotInfo* out) {
  if (!ValidSnapshotId(id)) return Status::InvalidArgument("invalid snapshot id", id);
  std::lock_guard<std::mutex> cl(catalog_mu_);
  if (closed_) return Closed();
  std::shared_ptr<TableRuntime> rt;
  Status s = ResolveRuntime(table, &rt);
  if (!s.ok()) return s;
  std::string old;
  bool found = false;
  s = system_->Get(SnapshotKey(id), &old, &found);
  if (!s.ok()) return s;
  if (found) {
    return Status::InvalidArgument(Status::SubCode::kTableInUse, "Snapshot already exists: " + id);
  }
  FlushTable(*rt);
  std::unique_lock<SharedGate> commit(rt->commit_mu);
  return SnapshotLocked(*rt, id, std::move(meta), out);
}

Status TableStore::ListSnapshots(std::vector<TableSnapshotInfo>* out) {
  out->clear();
  std::vector<std::pair<std::string, std::string>> recs;
  Status s = system_->List(kSnapshotKeyPrefix, &recs);
  if (!s.ok()) return s;
  for (const auto& [key, value] : recs) {
    TableSnapshotInfo info;
    s = DecodeSnapshotRecord(value, &info);
    if (!s.ok()) return Status::Corruption("snapshot record " + key + ": " + s.ToString());
    out->push_back(std::move(info));
  }
  return Status::OK();
}

Status TableStore::GetSnapshot(const std::string& id, TableSnapshotInfo* out) {
  std::string rec;
  bool found = false;
  Status s = system_->Get(SnapshotKey(id), &rec, &found);
  if (!s.ok()) return s;
  if (!found) return NoSnapshot(id);
  return DecodeSnapshotRecord(rec, out);
}

Status TableStore::SetSnapshotMeta(const std::string& id, std::string meta) {
  std::lock_guard<std::mutex> cl(catalog_mu_);
  TableSnapshotInfo info;
  Status s = GetSnapshot(id, &info);
  if (!s.ok()) return s;
  info.meta = std::move(meta);
  std::string rec;
  EncodeSnapshotRecord(info, &rec);
  return system_->Put(SnapshotKey(id), rec);
}

Status TableStore::DeleteSnapshotLocked(const std::string& id) {
  Status s = system_->Delete(SnapshotKey(id));
  if (!s.ok()) return s;
  // A crash from here on leaves trees without a record: Open drops them.
  for (const lsm::TreeInfo& t : db_->ListTrees()) {
    std::string sid;
    uint32_t index_id, pid;
    if (ParseSnapshotTreeName(t.name, &sid, &index_id, &pid) && sid == id) {
      Status d = db_->DropTree(t.id);
      if (s.ok()) s = d;
    }
  }
  return s;
}

Status TableStore::DeleteSnapshot(const std::string& id) {
  std::lock_guard<std::mutex> cl(catalog_mu_);
  TableSnapshotInfo info;
  Status s = GetSnapshot(id, &info);
  if (!s.ok()) return s;
  return DeleteSnapshotLocked(id);
}

namespace {

// The definition of a table restored from snapshot `info` as the caller
// asked for it (`target`): the snapshot's key schema, its kept indexes with
// their ids and contents, its statistics.
Status RestoredDef(const TableSnapshotInfo& info, const TableDef& target, TableDef* out) {
  const TableDef& src = info.def;
  if (!target.SameKeySchema(src)) {
    return Status::InvalidArgument("the key schema must equal the snapshot's");
  }
  TableDef def = target;
  def.table_id = 0;
  def.creation_time_ms = 0;
  def.status = TableStatus::kActive;
  def.partitions.clear();
  def.indexes.clear();
  for (const IndexDef& want : target.indexes) {
    const IndexDef* have = src.FindIndex(want.name);
    if (have == nullptr) {
      return Status::InvalidArgument("index " + want.name + " is not in the snapshot");
    }
    IndexDef ix = *have;
    ix.provisioned = want.provisioned;
    ix.on_demand = want.on_demand;
    ix.warm = want.warm;
    def.indexes.push_back(std::move(ix));
  }
  def.next_index_id = src.next_index_id;
  def.approx_item_count = src.approx_item_count;
  def.approx_size_bytes = src.approx_size_bytes;
  *out = std::move(def);
  return Status::OK();
}

}  // namespace

Status TableStore::RestoreSnapshot(const std::string& id, const TableDef& target,
                                   TableDef* created) {
  std::lock_guard<std::mutex> cl(catalog_mu_);
  if (closed_) return Closed();
  TableSnapshotInfo info;
  Status s = GetSnapshot(id, &info);
  if (!s.ok()) return s;
  TableDef def;
  s = RestoredDef(info, target, &def);
  if (!s.ok()) return s;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    if (tables_.count(def.name) != 0) {
      return Status::InvalidArgument(Status::SubCode::kTableInUse,
                                     "Table already exists: " + def.name);
    }
  }
  SnapshotTrees trees;
  s = SnapshotTreesOf(id, def, &trees);
  if (!s.ok()) return s;
  return CreateTableLocked(std::move(def), &trees, created);
}

// ---- point-in-time recovery ----

void TableStore::PitrWindow(const TableDef& def, uint64_t now_ms, uint64_t* earliest,
                            uint64_t* latest) const {
  const uint64_t period = uint64_t{def.pitr.recovery_period_days} * kDayMs;
  *earliest = std::max(def.pitr.enabled_since_ms, now_ms > period ? now_ms - period : 0);
  // Every acknowledged change is in the history (same batch as the item), so
  // the latest restorable time is now: the lag is zero.
  *latest = std::max(now_ms, *earliest);
}

Status TableStore::DescribePointInTimeRecovery(const std::string& table, PitrStatus* out) {
  std::shared_ptr<TableRuntime> rt;
  Status s = ResolveRuntime(table, &rt);
  if (!s.ok()) return s;
  const TableDef def = Described(*rt);
  *out = PitrStatus();
  out->recovery_period_days = def.pitr.recovery_period_days;
  out->enabled = def.pitr.enabled;
  if (def.pitr.enabled) PitrWindow(def, streams_->NowMs(), &out->earliest_ms, &out->latest_ms);
  return Status::OK();
}

Status TableStore::StartHistorySegment(TableRuntime& rt, uint64_t* base_stamp) {
  const uint64_t segment = std::max(streams_->NowMs(), rt.history_segment + 1);
  lsm::TreeId tree;
  Status s = db_->CreateTree(HistoryTreeName(rt.table_id, segment), &tree);
  if (!s.ok()) return s;
  FlushTable(rt);
  std::unique_lock<SharedGate> commit(rt.commit_mu);
  const uint64_t stamp = rt.last_stamp.load();
  s = SnapshotLocked(rt, PitrBaseId(rt.table_id, segment), BaseMeta(stamp), nullptr);
  if (!s.ok()) {
    commit.unlock();
    db_->DropTree(tree).PermitUnchecked();
    return s;
  }
  // From the next write on, changes go to the new segment: the base holds
  // every change stamped up to `stamp`, the segment every later one.
  rt.history_tree = tree;
  rt.history_segment = segment;
  if (base_stamp != nullptr) *base_stamp = stamp;
  return Status::OK();
}

Status TableStore::SetPointInTimeRecovery(const std::string& table, bool enabled,
                                          uint32_t period_days) {
  if (period_days < 1 || period_days > 35) {
    return Status::InvalidArgument("RecoveryPeriodInDays must be between 1 and 35");
  }
  std::lock_guard<std::mutex> pl(pitr_mu_);
  std::lock_guard<std::mutex> cl(catalog_mu_);
  if (closed_) return Closed();
  std::shared_ptr<TableRuntime> rt;
  Status s = ResolveRuntime(table, &rt);
  if (!s.ok()) return s;
  const TableDef before = Described(*rt);
  TableDef def = before;
  def.pitr.recovery_period_days = period_days;
  def.pitr.enabled = enabled;
  const bool starting = enabled && !before.pitr.enabled;
  if (starting) {
    // A crash before the catalog write below leaves a base and a segment of
    // a table without PITR: Open drops them.
    uint64_t stamp = 0;
    s = StartHistorySegment(*rt, &stamp);
    if (!s.ok()) return s;
    // Every T >= enabled_since has LastStampOf(T) >= the base's stamp.
    def.pitr.enabled_since_ms = std::max(streams_->NowMs(), StampTimeMs(stamp));
  }
  if (!enabled) def.pitr.enabled_since_ms = 0;
  std::unique_lock<SharedGate> commit(rt->commit_mu);
  std::string enc;
  EncodeTableDef(def, &enc);
  lsm::WriteBatch batch;
  batch.Put(catalog_tree_, TableKey(def.name), enc);
  s = db_->Write(SyncWrite(), &batch);
  if (!s.ok()) {
    if (starting) {
      rt->history_tree.reset();
      commit.unlock();
      DropPitrState(rt->table_id).PermitUnchecked();
    }
    return s;
  }
  if (!enabled) rt->history_tree.reset();
  rt->def = Stripped(std::move(def));
  Publish(rt);
  commit.unlock();
  // Turning PITR off drops the history and its bases (a crash before the end
  // leaves them for a table without PITR: Open drops them).
  if (!enabled && before.pitr.enabled) return DropPitrState(rt->table_id);
  return Status::OK();
}

namespace {

// The history segments of a table: segment -> tree.
std::map<uint64_t, lsm::TreeId> HistoryTrees(lsm::DB* db, uint64_t table_id) {
  std::map<uint64_t, lsm::TreeId> out;
  for (const lsm::TreeInfo& t : db->ListTrees()) {
    uint64_t tid, segment;
    if (ParseHistoryTreeName(t.name, &tid, &segment) && tid == table_id) out[segment] = t.id;
  }
  return out;
}

}  // namespace

Status TableStore::PitrBases(uint64_t table_id,
                             std::vector<std::pair<uint64_t, TableSnapshotInfo>>* out) {
  out->clear();
  std::vector<TableSnapshotInfo> all;
  Status s = ListSnapshots(&all);
  if (!s.ok()) return s;
  for (TableSnapshotInfo& info : all) {
    uint64_t tid, segment;
    if (ParsePitrBaseId(info.id, &tid, &segment) && tid == table_id) {
      out->emplace_back(segment, std::move(info));
    }
  }
  std::sort(out->begin(), out->end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return Status::OK();
}

Status TableStore::DropPitrState(uint64_t table_id) {
  std::vector<std::pair<uint64_t, TableSnapshotInfo>> bases;
  Status s = PitrBases(table_id, &bases);
  if (!s.ok()) return s;
  for (const auto& [segment, info] : bases) {
    Status d = DeleteSnapshotLocked(info.id);
    if (s.ok()) s = d;
  }
  for (const auto& [segment, tree] : HistoryTrees(db_.get(), table_id)) {
    Status d = db_->DropTree(tree);
    if (s.ok()) s = d;
  }
  return s;
}

Status TableStore::RunPitrMaintenance() {
  std::lock_guard<std::mutex> pl(pitr_mu_);
  Status first;
  for (const auto& [name, rt] : AllTables()) {
    if (pitr_loop_.stopping()) break;
    std::lock_guard<std::mutex> cl(catalog_mu_);
    if (closed_) return Closed();
    if (rt->dropped) continue;
    const TableDef def = Described(*rt);
    if (!def.pitr.enabled) continue;
    std::vector<std::pair<uint64_t, TableSnapshotInfo>> bases;
    Status s = PitrBases(rt->table_id, &bases);
    const uint64_t now = streams_->NowMs();
    if (s.ok() &&
        (bases.empty() || now >= bases.back().second.created_ms + options_.pitr_base_interval_ms)) {
      s = StartHistorySegment(*rt, nullptr);
      if (s.ok()) s = PitrBases(rt->table_id, &bases);
    }
    if (s.ok()) {
      // Keep the newest base at or before the window's start and every later
      // one; older bases and their segments are no longer needed.
      uint64_t earliest = 0, latest = 0;
      PitrWindow(def, now, &earliest, &latest);
      size_t keep_from = 0;
      for (size_t i = 0; i < bases.size(); i++) {
        if (BaseStamp(bases[i].second) <= LastStampOf(earliest)) keep_from = i;
      }
      const std::map<uint64_t, lsm::TreeId> segments = HistoryTrees(db_.get(), rt->table_id);
      for (size_t i = 0; i < keep_from && s.ok(); i++) {
        s = DeleteSnapshotLocked(bases[i].second.id);
        auto it = segments.find(bases[i].first);
        if (s.ok() && it != segments.end()) s = db_->DropTree(it->second);
      }
    }
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

Status TableStore::CheckPitrTime(const TableDef& def, uint64_t time_ms) {
  if (!def.pitr.enabled) {
    return Status::InvalidArgument(
        Status::SubCode::kPitrNotEnabled,
        "Point in time recovery is not enabled for table '" + def.name + "'");
  }
  uint64_t earliest = 0, latest = 0;
  PitrWindow(def, streams_->NowMs(), &earliest, &latest);
  if (time_ms < earliest || time_ms > latest) {
    return Status::InvalidArgument(Status::SubCode::kOutOfWindow,
                                   fmt::format("time {} is outside the restorable window [{}, {}]",
                                               time_ms, earliest, latest));
  }
  return Status::OK();
}

Status TableStore::SnapshotTreesOf(const std::string& id, const TableDef& def,
                                   SnapshotTrees* trees) {
  trees->clear();
  for (const lsm::TreeInfo& t : db_->ListTrees()) {
    std::string sid;
    uint32_t index_id, pid;
    if (!ParseSnapshotTreeName(t.name, &sid, &index_id, &pid) || sid != id) continue;
    const bool kept =
        index_id == 0 || std::any_of(def.indexes.begin(), def.indexes.end(),
                                     [&](const IndexDef& ix) { return ix.id == index_id; });
    if (!kept) continue;
    Status s = ReadWholeTree(db_.get(), t.id);
    if (!s.ok()) return Status::Corruption("snapshot " + id + " is damaged: " + s.ToString());
    (*trees)[index_id].emplace_back(pid, t);
  }
  return Status::OK();
}

Status TableStore::RestoreToPointInTime(const std::string& source, uint64_t time_ms,
                                        const TableDef& target, TableDef* created) {
  std::lock_guard<std::mutex> pl(pitr_mu_);  // no pruning under the replay
  std::shared_ptr<TableRuntime> rt;
  TableDef made;
  uint64_t from_segment = 0;
  const uint64_t stamp = LastStampOf(time_ms);
  {
    std::lock_guard<std::mutex> cl(catalog_mu_);
    if (closed_) return Closed();
    Status s = ResolveRuntime(source, &rt);
    if (!s.ok()) return s;
    // Every change stamped until now has committed once the commit lock is
    // free (a write holds it from its stamp to its commit).
    { std::unique_lock<SharedGate> barrier(rt->commit_mu); }
    const TableDef def = Described(*rt);
    s = CheckPitrTime(def, time_ms);
    if (!s.ok()) return s;
    std::vector<std::pair<uint64_t, TableSnapshotInfo>> bases;
    s = PitrBases(rt->table_id, &bases);
    if (!s.ok()) return s;
    const TableSnapshotInfo* base = nullptr;
    for (const auto& [segment, info] : bases) {
      if (BaseStamp(info) <= stamp) {
        base = &info;
        from_segment = segment;
      }
    }
    if (base == nullptr) {
      return Status::InvalidArgument(Status::SubCode::kOutOfWindow,
                                     "no base snapshot at or before the restore time");
    }
    TableDef want;
    s = RestoredDef(*base, target, &want);
    if (!s.ok()) return s;
    {
      std::shared_lock<std::shared_mutex> l(mu_);
      if (tables_.count(want.name) != 0) {
        return Status::InvalidArgument(Status::SubCode::kTableInUse,
                                       "Table already exists: " + want.name);
      }
    }
    // CREATING until the replay is done: a crash before that leaves a table
    // that Open deletes (an unfinished restore).
    want.status = TableStatus::kCreating;
    SnapshotTrees trees;
    s = SnapshotTreesOf(base->id, want, &trees);
    if (!s.ok()) return s;
    s = CreateTableLocked(std::move(want), &trees, &made);
    if (!s.ok()) return s;
  }
  Status s = ReplayHistory(rt->table_id, from_segment, stamp, made.name);
  if (s.ok()) {
    s = AlterTable(
        made.name,
        [](TableDef* d) {
          d->status = TableStatus::kActive;
          return Status::OK();
        },
        created);
  }
  if (!s.ok()) DeleteTable(made.name).PermitUnchecked();
  return s;
}

Status TableStore::ReplayHistory(uint64_t source_id, uint64_t from_segment, uint64_t stamp,
                                 const std::string& target) {
  std::vector<WriteOp> ops;
  std::unordered_map<std::string, size_t> pos;  // encoded key -> its op
  auto flush = [&]() -> Status {
    if (ops.empty()) return Status::OK();
    Status s = WriteAtomically(ops);
    ops.clear();
    pos.clear();
    return s;
  };
  for (const auto& [segment, tree] : HistoryTrees(db_.get(), source_id)) {
    if (segment < from_segment) continue;
    std::unique_ptr<lsm::Iterator> it = db_->NewIterator(lsm::ReadOptions(), tree);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      uint64_t st = 0;
      if (!ParseHistoryKey(it->key(), &st)) return Status::Corruption("history key");
      if (st > stamp) return flush();  // stamps only grow from here on
      Item key;
      std::optional<Item> item;
      Status s = DecodeHistoryValue(it->value(), &key, &item);
      if (!s.ok()) return s;
      WriteOp op;
      s = item ? PrepareWrite(target, WriteOp::Kind::kPut, std::move(*item), &op)
               : PrepareWrite(target, WriteOp::Kind::kDelete, std::move(key), &op);
      if (!s.ok()) return s;
      op.item_validated = true;
      // Only the last change of an item in a chunk counts (one batch may not
      // name an item twice).
      auto [p, fresh] = pos.emplace(op.key.encoded, ops.size());
      if (fresh) {
        ops.push_back(std::move(op));
      } else {
        ops[p->second] = std::move(op);
      }
      if (ops.size() >= kReplayChunk) {
        s = flush();
        if (!s.ok()) return s;
      }
    }
    if (!it->status().ok()) return it->status();
  }
  return flush();
}

Status TableStore::ReadTableChanges(const std::string& table, uint64_t from_ms, uint64_t to_ms,
                                    const std::function<Status(const TableChange&)>& fn) {
  std::lock_guard<std::mutex> pl(pitr_mu_);  // no pruning under the walk
  std::shared_ptr<TableRuntime> rt;
  Status s = ResolveRuntime(table, &rt);
  if (!s.ok()) return s;
  { std::unique_lock<SharedGate> barrier(rt->commit_mu); }
  const TableDef def = Described(*rt);
  s = CheckPitrTime(def, from_ms);
  if (s.ok()) s = CheckPitrTime(def, to_ms);
  if (!s.ok()) return s;
  const uint64_t lo = LastStampOf(from_ms), hi = LastStampOf(to_ms);
  for (const auto& [segment, tree] : HistoryTrees(db_.get(), rt->table_id)) {
    std::unique_ptr<lsm::Iterator> it = db_->NewIterator(lsm::ReadOptions(), tree);
    it->Seek(HistoryKey(lo + 1, 0));
    for (; it->Valid(); it->Next()) {
      uint64_t st = 0;
      if (!ParseHistoryKey(it->key(), &st)) return Status::Corruption("history key");
      if (st > hi) return Status::OK();
      TableChange c;
      c.time_ms = StampTimeMs(st);
      s = DecodeHistoryValue(it->value(), &c.key, &c.new_item);
      if (!s.ok()) return s;
      if (c.new_item) c.key = ExtractKey(def, *c.new_item);
      s = fn(c);
      if (!s.ok()) return s;
    }
    if (!it->status().ok()) return it->status();
  }
  return Status::OK();
}

Status TableStore::LoadSnapshots() {
  // Unfinished point-in-time restores (CREATING tables) are removed.
  for (const auto& [name, rt] : AllTables()) {
    if (Described(*rt).status != TableStatus::kCreating) continue;
    LogInfo("table store: removing table {}, whose restore did not finish", name);
    Status s = DeleteTable(name);
    if (!s.ok()) return s;
  }
  std::vector<TableSnapshotInfo> snaps;
  Status s = ListSnapshots(&snaps);
  if (!s.ok()) return s;
  std::set<std::string> ids;
  for (const TableSnapshotInfo& info : snaps) ids.insert(info.id);
  // Trees of snapshots without a record (a crash inside CreateSnapshot or
  // DeleteSnapshot) are dropped.
  for (const lsm::TreeInfo& t : db_->ListTrees()) {
    std::string sid;
    uint32_t index_id, pid;
    if (ParseSnapshotTreeName(t.name, &sid, &index_id, &pid) && ids.count(sid) == 0) {
      s = db_->DropTree(t.id);
      if (!s.ok()) return s;
    }
  }
  // PITR: each enabled table continues its newest segment that has a base;
  // everything else of the history is dropped.
  std::map<uint64_t, std::shared_ptr<TableRuntime>> by_id;
  for (const auto& [name, rt] : AllTables()) by_id[rt->table_id] = rt;
  std::set<uint64_t> with_history;
  for (const lsm::TreeInfo& t : db_->ListTrees()) {
    uint64_t tid, segment;
    if (ParseHistoryTreeName(t.name, &tid, &segment)) with_history.insert(tid);
  }
  for (const TableSnapshotInfo& info : snaps) {
    uint64_t tid, segment;
    if (ParsePitrBaseId(info.id, &tid, &segment)) with_history.insert(tid);
  }
  for (uint64_t tid : with_history) {
    auto rt = by_id.find(tid);
    if (rt == by_id.end() || !Described(*rt->second).pitr.enabled) {
      s = DropPitrState(tid);
      if (!s.ok()) return s;
    }
  }
  for (const auto& [tid, rt] : by_id) {
    if (!Described(*rt).pitr.enabled) continue;
    std::vector<std::pair<uint64_t, TableSnapshotInfo>> bases;
    s = PitrBases(tid, &bases);
    if (!s.ok()) return s;
    const std::map<uint64_t, lsm::TreeId> segments = HistoryTrees(db_.get(), tid);
    std::optional<uint64_t> current;
    for (const auto& [segment, info] : bases) {
      if (segments.count(segment) != 0) current = segment;
    }
    for (const auto& [seg, tree] : segments) {
      const uint64_t segment = seg;  // a lambda may not capture a structured binding (clang 14)
      const bool has_base = std::any_of(bases.begin(), bases.end(),
                                        [&](const auto& b) { return b.first == segment; });
      if (!has_base || (current && segment > *current)) {
        s = db_->DropTree(tree);
        if (!s.ok()) return s;
      }
    }
    uint64_t last = 0;
    for (const auto& [segment, info] : bases) {
      if (segments.count(segment) == 0) {
        s = DeleteSnapshotLocked(info.id);  // a base whose segment is gone
        if (!s.ok()) return s;
      }
      last = std::max(last, BaseStamp(info));
    }
    if (!current) {
      // The history is gone (a crash inside its first base): start it again.
      LogInfo("table store: restarting the point-in-time history of table {}", rt->def->name);
      s = StartHistorySegment(*rt, nullptr);
      if (!s.ok()) return s;
      continue;
    }
    const lsm::TreeId tree = segments.at(*current);
    std::unique_ptr<lsm::Iterator> it = db_->NewIterator(lsm::ReadOptions(), tree);
    it->SeekToLast();
    uint64_t st = 0;
    if (it->Valid() && ParseHistoryKey(it->key(), &st)) last = std::max(last, st);
    rt->history_tree = tree;
    rt->history_segment = *current;
    rt->last_stamp = last;
  }
  return Status::OK();
}

}  // namespace basalt::table
