#include "engine/table/table_store.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <utility>

#include "engine/base/coding.h"
#include "engine/base/logging.h"
#include "engine/table/partition_map.h"
#include "engine/table/snapshot_format.h"
#include "engine/table/stream_store.h"
#include "engine/table/table_store_internal.h"

namespace basalt::table {

namespace store_detail {

constexpr std::string_view kTableKeyPrefix = "table:";
constexpr std::string_view kNextTableIdKey = "next_table_id";

std::string TableKey(std::string_view name) {
  std::string k(kTableKeyPrefix);
  k.append(name);
  return k;
}

uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

lsm::WriteOptions SyncWrite() {
  lsm::WriteOptions wo;
  wo.sync = true;
  return wo;
}

Status TableNotFound(std::string_view name) {
  return Status::NotFound(Status::SubCode::kTableNotFound, "Requested resource not found: Table: " +
                                                               std::string(name) + " not found");
}

Status Closed() { return Status::Aborted(Status::SubCode::kStoreClosed, "table store closed"); }

// Gives every index without an id (0) the table's next one, and checks that
// index names are unique.
Status AssignIndexIds(TableDef* def) {
  std::set<std::string_view> names;
  for (const IndexDef& ix : def->indexes) {
    if (ix.name.empty() || ix.partition_key.empty()) {
      return Status::InvalidArgument("index without a name or partition key");
    }
    if (!names.insert(ix.name).second) {
      return Status::InvalidArgument("duplicate index name: " + ix.name);
    }
    def->next_index_id = std::max(def->next_index_id, ix.id + 1);
  }
  for (IndexDef& ix : def->indexes) {
    if (ix.id == 0) ix.id = def->next_index_id++;
  }
  return Status::OK();
}

// The definition as a handle carries it: no partition list, no statistics
// (both live in the runtime).
std::shared_ptr<const TableDef> Stripped(TableDef def) {
  def.partitions.clear();
  def.approx_item_count = 0;
  def.approx_size_bytes = 0;
  for (IndexDef& ix : def.indexes) ix.approx_item_count = ix.approx_size_bytes = 0;
  return std::make_shared<const TableDef>(std::move(def));
}

// An index's partitions, with counters starting from its stored statistics.
PartitionSet::IndexParts MakeIndexParts(const IndexDef& ix, std::vector<PartitionDef> parts) {
  PartitionSet::IndexParts p;
  p.map = std::make_shared<const PartitionMap>(std::move(parts));
  p.counters = std::make_shared<PartitionSet::IndexCounters>();
  p.counters->item_count = static_cast<int64_t>(ix.approx_item_count);
  p.counters->size_bytes = static_cast<int64_t>(ix.approx_size_bytes);
  return p;
}

// Drops the trees of the given partitions (after a failed creation, or once
// their table or index is gone). Returns the first error.
Status DropPartitions(lsm::DB* db, const std::vector<PartitionDef>& parts) {
  Status first;
  for (const auto& p : parts) {
    Status s = db->DropTree(p.tree);
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

}  // namespace store_detail

using namespace store_detail;

// ---- open / close ----

Status TableStore::Open(const TableStoreOptions& options, std::unique_ptr<TableStore>* store) {
  if (options.initial_partitions == 0) {
    return Status::InvalidArgument("initial_partitions must be >= 1");
  }
  std::unique_ptr<TableStore> ts(new TableStore());
  ts->options_ = options;
  // Snapshot trees are read-only and never compacted: they keep sharing the
  // table's files instead of rewriting their own copy (snapshots.h).
  ts->options_.lsm.frozen_trees = [](std::string_view name) { return IsSnapshotTreeName(name); };
  Status s = lsm::DB::Open(ts->options_.lsm, options.dir, &ts->db_);
  if (!s.ok()) return s;
  s = ts->db_->FindTree(kCatalogTreeName, &ts->catalog_tree_);
  if (s.IsNotFound()) s = ts->db_->CreateTree(kCatalogTreeName, &ts->catalog_tree_);
  if (!s.ok()) return s;
  StreamStore::Options so;
  so.retention_ms = options.stream_retention_ms;
  so.trim_interval_ms = options.stream_trim_interval_ms;
  so.now_ms = options.now_ms;
  ts->streams_ = std::make_unique<StreamStore>(ts->db_.get(), std::move(so));
  ClientTokens::Options co;
  co.window_ms = options.client_token_window_ms;
  co.now_ms = options.now_ms;
  s = ClientTokens::Open(ts->db_.get(), std::move(co), &ts->tokens_);
  if (!s.ok()) return s;
  s = SystemRecords::Open(ts->db_.get(), &ts->system_);
  if (!s.ok()) return s;
  ts->write_path_ = std::make_unique<WritePath>(ts->db_.get(), ts->streams_.get(),
                                                options.item_collection_limit_bytes);
  TtlSweeper::Options to;
  to.interval_ms = options.ttl_sweep_interval_ms;
  to.max_deletes_per_second = options.ttl_max_deletes_per_second;
  to.scan_page_bytes = options.ttl_scan_page_bytes;
  to.now_seconds = options.now_seconds;
  ts->ttl_ = std::make_unique<TtlSweeper>(ts.get(), std::move(to));
  IndexBuilder::Options io;
  io.interval_ms = options.index_build_interval_ms;
  io.items_per_second = options.index_backfill_items_per_second;
  ts->index_builder_ = std::make_unique<IndexBuilder>(ts.get(), ts->write_path_.get(), io);
  s = ts->Load();
  if (!s.ok()) {
    ts->closed_ = true;  // do not write statistics back over a catalog we could not read
    ts->db_->Close().PermitUnchecked();
    return s;
  }
  s = ts->LoadSnapshots();
  if (!s.ok()) {
    ts->Close().PermitUnchecked();
    return s;
  }
  TableStore* p = ts.get();
  if (options.pitr_check_interval_ms != 0) {
    ts->pitr_loop_.Start(options.pitr_check_interval_ms, [p] {
      Status st = p->RunPitrMaintenance();
      if (!st.ok()) LogInfo("table store: point-in-time maintenance: {}", st.ToString());
    });
  }
  if (options.split_threshold_bytes != 0) {
    ts->split_loop_.Start(options.split_check_interval_ms, [p] { p->CheckSplits(); });
  }
  ts->ttl_->Start();
  ts->index_builder_->Start();
  if (options.client_token_trim_interval_ms != 0) {
    ts->token_loop_.Start(options.client_token_trim_interval_ms,
                          [p] { p->tokens_->Trim().PermitUnchecked(); });
  }
  ts->streams_->StartTrimming([p] {
    std::vector<std::shared_ptr<TableRuntime>> rts;
    for (auto& [name, rt] : p->AllTables()) rts.push_back(std::move(rt));
    return rts;
  });
  *store = std::move(ts);
  return Status::OK();
}

Status TableStore::Load() {
  std::map<uint64_t, TableDef> defs;
  std::vector<uint64_t> rewrite;  // tables whose entry is older than format 3
  {
    auto it = db_->NewIterator(lsm::ReadOptions(), catalog_tree_);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string_view k = it->key();
      if (k == kNextTableIdKey) {
        std::string_view v = it->value();
        if (!GetFixed64(&v, &next_table_id_)) return Status::Corruption("catalog: next_table_id");
        continue;
      }
      if (!k.starts_with(kTableKeyPrefix)) return Status::Corruption("catalog: unknown key");
      TableDef def;
      LegacyCatalogFields legacy;
      Status s = DecodeTableDef(it->value(), &def, &legacy);
      if (!s.ok()) return s;
      if (legacy.version < kCatalogFormatVersion) {
        if (!legacy.index_json.empty()) {
          if (!options_.legacy_index_decoder) {
            return Status::NotSupported(
                "catalog entry of table " + def.name + " (format " +
                std::to_string(legacy.version) +
                ") holds index definitions that only the server can convert; open the data "
                "directory with basalt-server once to upgrade it to format 3");
          }
          s = options_.legacy_index_decoder(def, legacy.index_json, &def.indexes);
          if (!s.ok()) {
            return Status::Corruption("catalog entry of table " + def.name + ": index definitions",
                                      s.ToString());
          }
          s = AssignIndexIds(&def);
          if (!s.ok()) return s;
          // Releases with those formats stored no index entries: each index
          // is filled from the table by the index builder, as an index added
          // to a table with items is (reads of it wait for that).
          for (IndexDef& ix : def.indexes) {
            ix.backfilling = true;
            ix.backfill_position.clear();
          }
        }
        rewrite.push_back(def.table_id);
      }
      next_table_id_ = std::max(next_table_id_, def.table_id + 1);
      const uint64_t id = def.table_id;
      defs.emplace(id, std::move(def));
    }
    if (!it->status().ok()) return it->status();
  }
  // The partitions are the trees "t<id>.p<n>" and "t<id>.i<index>.p<n>" with
  // their engine-kept bounds; trees of unknown tables or indexes are dropped
  // (partition_map.h).
  StoredTrees trees;
  Status s = LoadPartitions(
      db_.get(),
      [&](uint64_t id, uint32_t index_id) {
        auto it = defs.find(id);
        if (it == defs.end()) return false;
        return index_id == 0 || std::any_of(it->second.indexes.begin(), it->second.indexes.end(),
                                            [&](const IndexDef& ix) { return ix.id == index_id; });
      },
      &trees);
  if (!s.ok()) return s;
  // A table's or index's partitions: as stored, or (defensively, for one
  // without trees) one unbounded partition.
  auto partitions = [&](const TableDef& def, uint32_t index_id,
                        std::vector<PartitionDef>* parts) -> Status {
    *parts = std::move(trees.partitions[{def.table_id, index_id}]);
    if (parts->empty()) {
      PartitionDef p;
      Status st = db_->CreateTree(PartitionTreeName(def.table_id, 0, index_id), &p.tree);
      if (!st.ok()) return st;
      parts->push_back(p);
    }
    return CheckCoverage(def.name, *parts);
  };
  lsm::WriteBatch upgrade;
  for (auto& [id, def] : defs) {
    std::vector<PartitionDef> parts;
    s = partitions(def, 0, &parts);
    if (!s.ok()) return s;
    auto set = std::make_shared<PartitionSet>(std::make_shared<const PartitionMap>(parts));
    std::shared_ptr<const PartitionSet> full = set;
    for (const IndexDef& ix : def.indexes) {
      std::vector<PartitionDef> index_parts;
      s = partitions(def, ix.id, &index_parts);
      if (!s.ok()) return s;
      full = full->WithIndex(ix.id, MakeIndexParts(ix, std::move(index_parts)));
    }
    auto rt = std::make_shared<TableRuntime>(id);
    rt->item_count = static_cast<int64_t>(def.approx_item_count);
    rt->size_bytes = static_cast<int64_t>(def.approx_size_bytes);
    auto st = trees.stream_trees.find(id);
    s = streams_->Load(
        rt.get(),
        st == trees.stream_trees.end() ? std::nullopt : std::optional<lsm::TreeId>(st->second),
        parts);
    if (!s.ok()) return s;
    if (std::find(rewrite.begin(), rewrite.end(), id) != rewrite.end()) {
      def.partitions = parts;  // informational
      std::string enc;
      EncodeTableDef(def, &enc);
      upgrade.Put(catalog_tree_, TableKey(def.name), enc);
    }
    rt->partitions = std::move(full);
    rt->def = Stripped(std::move(def));
    Publish(rt);
  }
  // Entries of older formats are rewritten at once (docs/format/catalog.md):
  // from now on the catalog holds format 3 only.
  if (!upgrade.Empty()) return db_->Write(SyncWrite(), &upgrade);
  return Status::OK();
}

TableStore::~TableStore() { Close().PermitUnchecked(); }

Status TableStore::Close() {
  split_loop_.Stop();
  token_loop_.Stop();
  pitr_loop_.Stop();
  if (ttl_) ttl_->Stop();
  if (index_builder_) index_builder_->Stop();
  if (streams_) streams_->StopTrimming();
  std::lock_guard<std::mutex> cl(catalog_mu_);
  if (closed_ || db_ == nullptr) return Status::OK();
  closed_ = true;
  lsm::WriteBatch batch;
  for (const auto& [name, rt] : AllTables()) {
    std::string enc;
    EncodeTableDef(Described(*rt), &enc);
    batch.Put(catalog_tree_, TableKey(name), enc);
  }
  Status s = batch.Empty() ? Status::OK() : db_->Write(SyncWrite(), &batch);
  if (!s.ok()) {
    // The statistics are approximate and re-derived after a crash anyway: a
    // shutdown while the disk is full must still be clean.
    LogInfo("table store: statistics not persisted at close: {}", s.ToString());
  }
  return db_->Close();
}

// ---- the name map ----

Status TableStore::Resolve(std::string_view name, TableRef* out) {
  std::shared_lock<std::shared_mutex> l(mu_);
  auto it = tables_.find(name);
  if (it == tables_.end()) return TableNotFound(name);
  *out = it->second;
  return Status::OK();
}

Status TableStore::ResolveRuntime(std::string_view name, std::shared_ptr<TableRuntime>* rt) {
  TableRef h;
  Status s = Resolve(name, &h);
  if (s.ok()) *rt = h->shared_runtime();
  return s;
}

std::vector<std::pair<std::string, std::shared_ptr<TableRuntime>>> TableStore::AllTables() {
  std::shared_lock<std::shared_mutex> l(mu_);
  std::vector<std::pair<std::string, std::shared_ptr<TableRuntime>>> out;
  out.reserve(tables_.size());
  for (const auto& [name, h] : tables_) out.emplace_back(name, h->shared_runtime());
  return out;
}

void TableStore::Publish(const std::shared_ptr<TableRuntime>& rt) {
  auto h = std::make_shared<const TableHandle>(rt->def, rt->partitions, rt);
  std::unique_lock<std::shared_mutex> l(mu_);
  tables_[rt->def->name] = std::move(h);
}

TableDef TableStore::Described(const TableRuntime& rt) {
  std::shared_lock<SharedGate> l(rt.commit_mu);
  return DescribedLocked(rt);
}

TableDef TableStore::DescribedLocked(const TableRuntime& rt) {
  TableDef d;
  {
    d = *rt.def;
    d.partitions = rt.partitions->table().parts();
    for (IndexDef& ix : d.indexes) {
      const PartitionSet::IndexParts* parts = rt.partitions->index(ix.id);
      if (parts == nullptr) continue;
      ix.approx_item_count =
          static_cast<uint64_t>(std::max<int64_t>(0, parts->counters->item_count.load()));
      ix.approx_size_bytes =
          static_cast<uint64_t>(std::max<int64_t>(0, parts->counters->size_bytes.load()));
    }
  }
  d.approx_item_count = static_cast<uint64_t>(std::max<int64_t>(0, rt.item_count.load()));
  d.approx_size_bytes = static_cast<uint64_t>(std::max<int64_t>(0, rt.size_bytes.load()));
  return d;
}

// ---- catalog ----

Status TableStore::CreateTable(const TableDef& in, TableDef* created) {
  if (in.name.empty()) return Status::InvalidArgument("table name is empty");
  if (in.partition_key.name.empty() || !IsKeyType(in.partition_key.type)) {
    return Status::InvalidArgument("invalid partition key definition");
  }
  if (in.sort_key && (in.sort_key->name.empty() || !IsKeyType(in.sort_key->type) ||
                      in.sort_key->name == in.partition_key.name)) {
    return Status::InvalidArgument("invalid sort key definition");
  }
  TableDef def = in;
  Status s = AssignIndexIds(&def);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> cl(catalog_mu_);
  return CreateTableLocked(std::move(def), nullptr, created);
}

Status TableStore::CreateTableLocked(TableDef def, const SnapshotTrees* from, TableDef* created) {
  if (closed_) return Closed();
  Status s;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    if (tables_.count(def.name) != 0) {
      return Status::InvalidArgument(Status::SubCode::kTableInUse,
                                     "Table already exists: " + def.name);
    }
    def.table_id = next_table_id_;
  }
  if (def.creation_time_ms == 0) def.creation_time_ms = NowMs();
  // A new table starts without point-in-time recovery (DynamoDB's
  // CreateTable has no such setting; a restored table does not inherit it):
  // SetPointInTimeRecovery turns it on with its history.
  def.pitr = PitrSettings();
  if (from == nullptr) {
    def.approx_item_count = 0;
    def.approx_size_bytes = 0;
    // Indexes made with the table start empty, like it: ACTIVE at once.
    for (IndexDef& ix : def.indexes) {
      ix.status = IndexStatus::kActive;
      ix.backfilling = false;
      ix.backfill_position.clear();
      ix.approx_item_count = ix.approx_size_bytes = 0;
    }
  }
  // The trees of the table (index_id 0) or of one index: new and empty, or
  // clones of a snapshot's.
  auto make_parts = [&](uint32_t index_id, std::vector<PartitionDef>* parts) -> Status {
    if (from == nullptr) {
      return CreatePartitions(db_.get(), def.table_id, index_id, options_.initial_partitions,
                              parts);
    }
    auto it = from->find(index_id);
    if (it == from->end()) return Status::Corruption("snapshot without the trees of an index");
    std::vector<lsm::TreeId> sources;
    std::vector<std::string> names;
    for (const auto& [pid, info] : it->second) {
      sources.push_back(info.id);
      names.push_back(PartitionTreeName(def.table_id, pid, index_id));
    }
    std::vector<lsm::TreeId> ids;
    Status st = db_->CloneTrees(sources, names, &ids);
    if (!st.ok()) return st;
    for (size_t i = 0; i < ids.size(); i++) {
      PartitionDef p;
      p.id = it->second[i].first;
      p.tree = ids[i];
      const lsm::TreeInfo& info = it->second[i].second;
      p.lo = info.lower.empty() ? 0 : DecodeBigEndian64(info.lower);
      p.hi = info.upper ? DecodeBigEndian64(*info.upper) : 0;
      parts->push_back(p);
    }
    std::sort(parts->begin(), parts->end(),
              [](const PartitionDef& a, const PartitionDef& b) { return a.lo < b.lo; });
    st = CheckCoverage(def.name, *parts);
    if (!st.ok()) DropPartitions(db_.get(), *parts).PermitUnchecked();
    return st;
  };

  // A crash before the catalog write leaves trees of an unknown table id,
  // which Open drops.
  std::vector<PartitionDef> parts;
  std::vector<PartitionDef> all;  // every tree made, to drop on failure
  auto rt = std::make_shared<TableRuntime>(def.table_id);
  rt->item_count = static_cast<int64_t>(def.approx_item_count);
  rt->size_bytes = static_cast<int64_t>(def.approx_size_bytes);
  auto drop_created = [&] {
    DropPartitions(db_.get(), all).PermitUnchecked();
    streams_->Drop(rt.get()).PermitUnchecked();
  };
  s = make_parts(0, &parts);
  if (!s.ok()) return s;
  all = parts;
  std::shared_ptr<const PartitionSet> set =
      std::make_shared<PartitionSet>(std::make_shared<const PartitionMap>(parts));
  for (const IndexDef& ix : def.indexes) {
    std::vector<PartitionDef> index_parts;
    s = make_parts(ix.id, &index_parts);
    if (!s.ok()) {
      drop_created();
      return s;
    }
    all.insert(all.end(), index_parts.begin(), index_parts.end());
    set = set->WithIndex(ix.id, MakeIndexParts(ix, std::move(index_parts)));
  }
  def.partitions = parts;  // informational copy in the catalog
  rt->partitions = std::move(set);
  lsm::WriteBatch batch;
  std::function<void()> apply_stream;
  std::unique_lock<SharedGate> commit(rt->commit_mu);
  if (def.stream.enabled) {
    s = streams_->StageSpecChange(rt.get(), StreamSpec(), &def.stream, parts, &batch,
                                  &apply_stream);
    if (!s.ok()) {
      drop_created();
      return s;
    }
  }
  std::string enc;
  EncodeTableDef(def, &enc);
  std::string next;
  PutFixed64(&next, def.table_id + 1);
  batch.Put(catalog_tree_, TableKey(def.name), enc);
  batch.Put(catalog_tree_, kNextTableIdKey, next);
  s = db_->Write(SyncWrite(), &batch);
  if (!s.ok()) {
    drop_created();
    return s;
  }
  if (apply_stream) apply_stream();
  if (created != nullptr) *created = def;
  rt->def = Stripped(std::move(def));
  Publish(rt);
  std::unique_lock<std::shared_mutex> l(mu_);
  next_table_id_ = rt->table_id + 1;
  return Status::OK();
}

Status TableStore::DescribeTable(const std::string& name, TableDef* def) {
  std::shared_ptr<TableRuntime> rt;
  Status s = ResolveRuntime(name, &rt);
  if (!s.ok()) return s;
  *def = Described(*rt);
  return Status::OK();
}

Status TableStore::AlterTable(const std::string& name, const std::function<Status(TableDef*)>& fn,
                              TableDef* altered) {
  std::lock_guard<std::mutex> cl(catalog_mu_);
  if (closed_) return Closed();
  std::shared_ptr<TableRuntime> rt;
  Status s = ResolveRuntime(name, &rt);
  if (!s.ok()) return s;
  TableDef def = Described(*rt);
  const TableDef before = def;
  s = fn(&def);
  if (!s.ok()) return s;
  if (def.name != before.name || def.table_id != before.table_id || !def.SameKeySchema(before) ||
      def.creation_time_ms != before.creation_time_ms) {
    return Status::InvalidArgument("AlterTable may not change the name, key schema or id");
  }
  if (def.pitr != before.pitr) {
    return Status::InvalidArgument(
        "point-in-time recovery changes go through SetPointInTimeRecovery");
  }
  s = AssignIndexIds(&def);
  if (!s.ok()) return s;
  def.partitions = before.partitions;
  // Indexes added (new ids) are filled by the index builder; indexes kept may
  // not change what they index; indexes gone are dropped after the commit.
  std::vector<IndexDef> added;
  for (IndexDef& ix : def.indexes) {
    const IndexDef* old = nullptr;
    for (const IndexDef& b : before.indexes) {
      if (b.id == ix.id) old = &b;
    }
    if (old == nullptr) {
      ix.status = IndexStatus::kCreating;
      ix.backfilling = true;
      ix.backfill_position.clear();
      ix.approx_item_count = ix.approx_size_bytes = 0;
      added.push_back(ix);
    } else if (ix.name != old->name || ix.kind != old->kind ||
               ix.partition_key != old->partition_key || ix.sort_key != old->sort_key ||
               ix.projection != old->projection ||
               ix.non_key_attributes != old->non_key_attributes) {
      return Status::InvalidArgument("AlterTable may not change what index " + ix.name +
                                     " indexes");
    }
  }
  std::vector<uint32_t> removed;
  for (const IndexDef& b : before.indexes) {
    if (def.FindIndex(b.name) == nullptr || def.FindIndex(b.name)->id != b.id) {
      removed.push_back(b.id);
    }
  }
  // The trees of added indexes exist before the catalog names them (a crash
  // in between leaves trees of an unknown index, which Open drops).
  std::vector<std::pair<uint32_t, std::vector<PartitionDef>>> created;
  auto drop_created = [&] {
    for (const auto& [id, parts] : created) DropPartitions(db_.get(), parts).PermitUnchecked();
  };
  for (const IndexDef& ix : added) {
    std::vector<PartitionDef> parts;
    s = CreatePartitions(db_.get(), def.table_id, ix.id, options_.initial_partitions, &parts);
    if (!s.ok()) {
      drop_created();
      return s;
    }
    created.emplace_back(ix.id, std::move(parts));
  }
  // Under the commit lock no write of the table is in flight: stream records
  // land in open shards, and the next write sees the new definition whole
  // (it maintains an added index from its first write on).
  std::unique_lock<SharedGate> commit(rt->commit_mu);
  lsm::WriteBatch batch;
  std::function<void()> apply_stream;
  s = streams_->StageSpecChange(rt.get(), before.stream, &def.stream, before.partitions, &batch,
                                &apply_stream);
  if (!s.ok()) {
    drop_created();
    return s;
  }
  std::string enc;
  EncodeTableDef(def, &enc);
  batch.Put(catalog_tree_, TableKey(name), enc);
  s = db_->Write(SyncWrite(), &batch);
  if (!s.ok()) {
    drop_created();
    return s;
  }
  if (apply_stream) apply_stream();
  std::shared_ptr<const PartitionSet> set = rt->partitions;
  std::vector<PartitionDef> dropped;
  for (uint32_t id : removed) {
    const PartitionSet::IndexParts* parts = set->index(id);
    if (parts != nullptr) {
      dropped.insert(dropped.end(), parts->map->parts().begin(), parts->map->parts().end());
    }
    set = set->WithoutIndex(id);
  }
  for (auto& [id, parts] : created) {
    const IndexDef* ix = nullptr;
    for (const IndexDef& a : added) {
      if (a.id == id) ix = &a;
    }
    set = set->WithIndex(id, MakeIndexParts(*ix, std::move(parts)));
  }
  if (altered != nullptr) *altered = def;
  rt->def = Stripped(std::move(def));
  rt->partitions = std::move(set);
  Publish(rt);
  commit.unlock();
  if (!added.empty()) index_builder_->Wake();
  // No write uses the removed indexes any more: their space is reclaimed.
  // (A crash before this leaves trees of an unknown index: Open drops them.)
  return DropPartitions(db_.get(), dropped);
}

std::vector<std::string> TableStore::ListTables() {
  std::shared_lock<std::shared_mutex> l(mu_);
  std::vector<std::string> names;
  names.reserve(tables_.size());
  for (const auto& [name, h] : tables_) names.push_back(name);
  return names;
}

Status TableStore::SplitPartition(const std::string& table, uint32_t partition_id,
                                  uint32_t index_id) {
  std::lock_guard<std::mutex> cl(catalog_mu_);  // one split / DDL at a time
  if (closed_) return Closed();
  std::shared_ptr<TableRuntime> rt;
  Status s = ResolveRuntime(table, &rt);
  if (!s.ok()) return s;
  return table::SplitPartition(
      db_.get(), rt.get(), index_id, partition_id,
      [&](const PartitionDef& parent, const PartitionDef& left, const PartitionDef& right) {
        streams_->OnSplit(rt.get(), parent, left, right);
      },
      [&](std::shared_ptr<const PartitionSet> set) {
        rt->partitions = std::move(set);
        Publish(rt);
      });
}

Status TableStore::DeleteTable(const std::string& name) {
  std::lock_guard<std::mutex> cl(catalog_mu_);
  if (closed_) return Closed();
  std::shared_ptr<TableRuntime> rt;
  Status s = ResolveRuntime(name, &rt);
  if (!s.ok()) return s;
  {
    // Checked under the catalog mutex, so an UpdateTable that turns the
    // protection on cannot slip in between (DynamoDB's text).
    std::shared_lock<SharedGate> l(rt->commit_mu);
    if (rt->DefLocked().deletion_protection) {
      return Status::InvalidArgument(
          "Resource cannot be deleted as it is currently protected against deletion. Disable "
          "deletion protection first.");
    }
  }
  lsm::WriteBatch batch;
  batch.Delete(catalog_tree_, TableKey(name));
  s = db_->Write(SyncWrite(), &batch);
  if (!s.ok()) return s;
  {
    std::unique_lock<std::shared_mutex> l(mu_);
    tables_.erase(name);
  }
  rt->dropped = true;
  // A crash before this point leaves trees of an unknown table id: Open drops them.
  const std::shared_ptr<const PartitionSet> set = rt->Partitions();
  s = DropPartitions(db_.get(), set->table().parts());
  for (const auto& [id, parts] : set->indexes()) {
    Status d = DropPartitions(db_.get(), parts.map->parts());
    if (s.ok()) s = d;
  }
  if (!s.ok()) return s;
  s = streams_->Drop(rt.get());
  if (!s.ok()) return s;
  // Its point-in-time history goes with it (the server keeps a backup of a
  // table with PITR on before deleting it, as DynamoDB does). A crash before
  // this leaves history of an unknown table: Open drops it.
  return DropPitrState(rt->table_id);
}

void TableStore::CheckSplits() {
  for (const auto& [name, rt] : AllTables()) {
    const std::shared_ptr<const PartitionSet> set = rt->Partitions();
    std::vector<std::pair<uint32_t, const PartitionMap*>> maps{{0, &set->table()}};
    for (const auto& [id, parts] : set->indexes()) maps.emplace_back(id, parts.map.get());
    for (const auto& [index_id, map] : maps) {
      for (const PartitionDef& p : map->parts()) {
        if (split_loop_.stopping()) return;
        uint64_t bytes = 0;
        Status s = db_->GetApproximateSize(p.tree, &bytes);
        if (!s.ok() || !ShouldSplit(p, bytes, options_.split_threshold_bytes)) continue;
        // Errors (table or index deleted meanwhile, single-hash partition)
        // are retried or ignored at the next check.
        SplitPartition(name, p.id, index_id).PermitUnchecked();
      }
    }
  }
}

}  // namespace basalt::table
