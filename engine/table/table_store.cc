#include "engine/table/table_store.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <set>
#include <utility>

#include "engine/base/checksum.h"
#include "engine/base/coding.h"
#include "engine/table/item_codec.h"

namespace basalt::table {

namespace {

constexpr std::string_view kTableKeyPrefix = "table:";
constexpr std::string_view kNextTableIdKey = "next_table_id";
constexpr std::string_view kInvalidPrefix = "One or more parameter values were invalid: ";
constexpr std::string_view kConditionTypeMismatch =
    "One or more parameter values were invalid: Condition parameter type does not match schema "
    "type";

std::string TableKey(std::string_view name) {
  std::string k(kTableKeyPrefix);
  k.append(name);
  return k;
}

std::string TreeName(uint64_t table_id, uint32_t partition_id) {
  return "t" + std::to_string(table_id) + ".p" + std::to_string(partition_id);
}

// Parses "t<id>.p<n>"; false for any other name.
bool ParseTreeName(std::string_view name, uint64_t* table_id, uint32_t* partition_id) {
  if (name.size() < 4 || name[0] != 't') return false;
  size_t dot = name.find(".p");
  if (dot == std::string_view::npos || dot == 1 || dot + 2 >= name.size()) return false;
  uint64_t id = 0;
  for (size_t i = 1; i < dot; i++) {
    if (name[i] < '0' || name[i] > '9') return false;
    id = id * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  uint64_t pid = 0;
  if (name.size() - (dot + 2) > 10) return false;
  for (size_t i = dot + 2; i < name.size(); i++) {
    if (name[i] < '0' || name[i] > '9') return false;
    pid = pid * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  if (pid > UINT32_MAX) return false;
  *table_id = id;
  *partition_id = static_cast<uint32_t>(pid);
  return true;
}

uint64_t DecodeBigEndian64(std::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; i++) v = (v << 8) | static_cast<uint8_t>(s[i]);
  return v;
}

using PartitionList = std::vector<PartitionDef>;

// OK if the partitions (sorted by lo) cover [0, 2^64) exactly, no overlap.
Status CheckCoverage(const TableDef& def, const PartitionList& parts) {
  auto bad = [&](const std::string& what) {
    return Status::Corruption("table " + def.name + ": partitions " + what);
  };
  if (parts.empty()) return bad("missing");
  if (parts.front().lo != 0) return bad("do not start at hash 0");
  for (size_t i = 0; i < parts.size(); i++) {
    const PartitionDef& p = parts[i];
    if (p.hi != 0 && p.hi <= p.lo) return bad("have an empty range");
    if (i + 1 < parts.size()) {
      if (p.hi == 0 || parts[i + 1].lo != p.hi) return bad("overlap or leave a gap");
    } else if (p.hi != 0) {
      return bad("do not reach the end of the hash space");
    }
  }
  return Status::OK();
}

std::string BigEndian64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 7; i >= 0; i--) {
    s[static_cast<size_t>(i)] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return s;
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

std::vector<const KeyAttribute*> KeyAttributes(const TableDef& def) {
  std::vector<const KeyAttribute*> attrs{&def.partition_key};
  if (def.sort_key) attrs.push_back(&*def.sort_key);
  return attrs;
}

Status CheckKeySize(const TableDef& def, const KeyAttribute& attr, const Value& v) {
  size_t size = ValueSize(v);
  if (&attr == &def.partition_key) {
    if (size > kMaxPartitionKeyBytes) {
      return Status::InvalidArgument(
          "One or more parameter values were invalid: Size of hashkey has exceeded the maximum "
          "size limit of2048 bytes");
    }
  } else if (size > kMaxSortKeyBytes) {
    return Status::InvalidArgument(
        "One or more parameter values were invalid: Aggregated size of all range keys has "
        "exceeded the size limit of 1024 bytes");
  }
  return Status::OK();
}

bool IsEmptyKeyValue(const Value& v) {
  return (v.type() == ValueType::kS || v.type() == ValueType::kB) && v.bytes().empty();
}

// The key attributes of `item` (REQUIRES: ValidateItemKey passed).
Item ExtractKey(const TableDef& def, const Item& item) {
  Item key;
  std::vector<std::pair<std::string, Value>> entries;
  for (const KeyAttribute* a : KeyAttributes(def)) {
    const Value* v = item.Find(a->name);
    if (v != nullptr) entries.emplace_back(a->name, *v);
  }
  return AttributeMap::FromUnsorted(std::move(entries));
}

// One message (Status's two-part constructor would join the parts with ": ").
Status Invalid(std::string_view a, std::string_view b) {
  std::string msg(a);
  msg.append(b);
  return Status::InvalidArgument(msg);
}

size_t MaybeItemSize(const std::optional<Item>& item) { return item ? ItemSize(*item) : 0; }

// A stream record added to a write attempt's batch, whose sequence is in flight.
struct StagedRecord {
  TableStreams* s;
  uint64_t seq;
  uint64_t shard_no;
};

// If s's stream is enabled: takes a sequence (now in flight) and adds the
// record of a change of the item in partition `pid` to *batch. The shard is
// derived from the partition this attempt routed to, so a write that must
// re-route after a split computes a new record with it. REQUIRES
// s->commit_mu held shared until FinishRecords.
void StageRecord(TableStreams* s, uint32_t pid, const Item& keys, const std::optional<Item>& old,
                 const std::optional<Item>& next, bool by_ttl, uint64_t now_ms,
                 lsm::WriteBatch* batch, std::vector<StagedRecord>* staged) {
  StreamViewType view;
  uint64_t seq, shard_no;
  lsm::TreeId tree;
  {
    std::lock_guard<std::mutex> l(s->mu);
    if (s->current == 0 || !s->tree) return;
    view = s->streams[s->current].view_type;
    seq = s->next_seq++;
    s->in_flight.insert(seq);
    shard_no = (static_cast<uint64_t>(s->current) << 32) | pid;
    tree = *s->tree;
  }
  std::string enc;
  EncodeStreamRecord(MakeStreamRecord(keys, old, next, view, by_ttl, now_ms), &enc);
  batch->Put(tree, StreamRecordKey(shard_no, seq), enc);
  staged->push_back({s, seq, shard_no});
}

// After the attempt's Write returned: the sequences leave the in-flight set
// (a failed attempt's sequence is simply never used).
void FinishRecords(std::vector<StagedRecord>* staged, bool committed) {
  for (const StagedRecord& r : *staged) {
    std::lock_guard<std::mutex> l(r.s->mu);
    r.s->in_flight.erase(r.seq);
    if (!committed) continue;
    auto it = r.s->shards.find(r.shard_no);
    if (it != r.s->shards.end()) it->second.last_seq = std::max(it->second.last_seq, r.seq);
  }
  staged->clear();
}

}  // namespace

bool IsTableInUse(const Status& s) {
  return s.IsInvalidArgument() && s.message().starts_with(kTableInUsePrefix);
}

struct TableStore::TableState {
  // Immutable while in tables_, except the statistics below and the metadata
  // fields AlterTable may change (billing, throughput, status, tags, index and
  // stream settings, TTL: written under catalog_mu_ + def_mu, read under def_mu;
  // the data path reads only the key schema and table id, which never change).
  // def.partitions is stale (the current list is `parts`).
  TableDef def;
  mutable std::mutex def_mu;
  // The partition map, sorted by lo; replaced (never modified) by a split.
  mutable std::shared_mutex parts_mu;
  std::shared_ptr<const PartitionList> parts;  // guarded by parts_mu
  std::optional<lsm::TreeId> splitting;        // guarded by parts_mu
  std::atomic<bool> dropped{false};            // set by DeleteTable
  std::atomic<int64_t> item_count{0};
  std::atomic<int64_t> size_bytes{0};
  TableStreams streams;

  void Account(const std::optional<Item>& old_item, const std::optional<Item>& new_item) {
    item_count.fetch_add((new_item ? 1 : 0) - (old_item ? 1 : 0), std::memory_order_relaxed);
    size_bytes.fetch_add(static_cast<int64_t>(MaybeItemSize(new_item)) -
                             static_cast<int64_t>(MaybeItemSize(old_item)),
                         std::memory_order_relaxed);
  }
  std::shared_ptr<const PartitionList> Parts() const {
    std::shared_lock<std::shared_mutex> l(parts_mu);
    return parts;
  }
  void FillStats(TableDef* d) const {
    d->approx_item_count = static_cast<uint64_t>(std::max<int64_t>(0, item_count.load()));
    d->approx_size_bytes = static_cast<uint64_t>(std::max<int64_t>(0, size_bytes.load()));
  }
};

// ---- validation ----

// DynamoDB's text for an empty S/B key value: "are not valid." (not "were
// invalid:"), for PutItem as for Key parameters and key conditions.
static Status EmptyKeyError(const std::string& name) {
  return Status::InvalidArgument(
      "One or more parameter values are not valid. The AttributeValue for a key attribute "
      "cannot contain an empty string value. Key: " +
      name);
}

Status TableStore::ValidateItemKey(const TableDef& def, const Item& item) {
  for (const KeyAttribute* a : KeyAttributes(def)) {
    const Value* v = item.Find(a->name);
    if (v == nullptr) {
      return Invalid(kInvalidPrefix, "Missing the key " + a->name + " in the item");
    }
    if (v->type() != a->type) {
      return Invalid(kInvalidPrefix, "Type mismatch for key " + a->name +
                                         " expected: " + ValueTypeName(a->type) +
                                         " actual: " + ValueTypeName(v->type()));
    }
    if (IsEmptyKeyValue(*v)) return EmptyKeyError(a->name);
    Status s = CheckKeySize(def, *a, *v);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

Status TableStore::ValidateKeyOnly(const TableDef& def, const Item& key) {
  auto attrs = KeyAttributes(def);
  if (key.size() != attrs.size()) return Status::InvalidArgument(kKeySchemaMismatchMessage);
  for (const KeyAttribute* a : attrs) {
    const Value* v = key.Find(a->name);
    if (v == nullptr || v->type() != a->type) {
      return Status::InvalidArgument(kKeySchemaMismatchMessage);
    }
    if (IsEmptyKeyValue(*v)) return EmptyKeyError(a->name);
    Status s = CheckKeySize(def, *a, *v);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

// ---- open / close ----

Status TableStore::Open(const TableStoreOptions& options, std::unique_ptr<TableStore>* store) {
  if (options.initial_partitions == 0) {
    return Status::InvalidArgument("initial_partitions must be >= 1");
  }
  std::unique_ptr<TableStore> ts(new TableStore());
  ts->options_ = options;
  Status s = lsm::DB::Open(options.lsm, options.dir, &ts->db_);
  if (!s.ok()) return s;
  s = ts->db_->FindTree(kCatalogTreeName, &ts->catalog_tree_);
  if (s.IsNotFound()) s = ts->db_->CreateTree(kCatalogTreeName, &ts->catalog_tree_);
  if (!s.ok()) return s;
  s = ts->Load();
  if (!s.ok()) {
    ts->closed_ = true;  // do not write statistics back over a catalog we could not read
    ts->db_->Close().PermitUnchecked();
    return s;
  }
  if (options.split_threshold_bytes != 0) {
    ts->split_thread_ = std::thread([p = ts.get()] { p->SplitLoop(); });
  }
  if (options.ttl_sweep_interval_ms != 0) {
    ts->ttl_thread_ = std::thread([p = ts.get()] { p->TtlLoop(); });
  }
  if (options.stream_trim_interval_ms != 0) {
    ts->stream_thread_ = std::thread([p = ts.get()] { p->StreamLoop(); });
  }
  *store = std::move(ts);
  return Status::OK();
}

Status TableStore::Load() {
  std::map<uint64_t, std::shared_ptr<TableState>> by_id;
  {
    auto it = db_->NewIterator(lsm::ReadOptions(), catalog_tree_);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string_view k = it->key();
      if (k == kNextTableIdKey) {
        std::string_view v = it->value();
        if (!GetFixed64(&v, &next_table_id_)) return Status::Corruption("catalog: next_table_id");
      } else if (k.starts_with(kTableKeyPrefix)) {
        auto t = std::make_shared<TableState>();
        Status s = DecodeTableDef(it->value(), &t->def);
        if (!s.ok()) return s;
        t->item_count = static_cast<int64_t>(t->def.approx_item_count);
        t->size_bytes = static_cast<int64_t>(t->def.approx_size_bytes);
        next_table_id_ = std::max(next_table_id_, t->def.table_id + 1);
        by_id[t->def.table_id] = t;
        tables_[t->def.name] = std::move(t);
      } else {
        return Status::Corruption("catalog: unknown key");
      }
    }
    if (!it->status().ok()) return it->status();
  }
  // The partitions are the trees "t<id>.p<n>" with their engine-kept bounds.
  // Trees of a table id the catalog does not know were left by a crash inside
  // CreateTable (before its catalog write) or DeleteTable (after it): drop.
  std::map<uint64_t, PartitionList> parts;
  for (const auto& info : db_->ListTrees()) {
    uint64_t table_id;
    uint32_t pid;
    if (ParseStreamTreeName(info.name, &table_id)) {
      if (by_id.count(table_id) == 0) {
        Status s = db_->DropTree(info.id);
        if (!s.ok()) return s;
      } else {
        by_id[table_id]->streams.tree = info.id;
      }
      continue;
    }
    if (!ParseTreeName(info.name, &table_id, &pid)) continue;
    if (by_id.count(table_id) == 0) {
      Status s = db_->DropTree(info.id);
      if (!s.ok()) return s;
      continue;
    }
    if ((!info.lower.empty() && info.lower.size() != 8) ||
        (info.upper && info.upper->size() != 8)) {
      return Status::Corruption("partition tree " + info.name + " has malformed bounds");
    }
    PartitionDef p;
    p.id = pid;
    p.tree = info.id;
    p.lo = info.lower.empty() ? 0 : DecodeBigEndian64(info.lower);
    p.hi = info.upper ? DecodeBigEndian64(*info.upper) : 0;
    parts[table_id].push_back(p);
  }
  for (auto& [id, t] : by_id) {
    PartitionList& list = parts[id];
    if (list.empty()) {
      // Defensive: a table without trees gets one unbounded partition.
      PartitionDef p;
      Status s = db_->CreateTree(TreeName(id, 0), &p.tree);
      if (!s.ok()) return s;
      list.push_back(p);
    }
    std::sort(list.begin(), list.end(),
              [](const PartitionDef& a, const PartitionDef& b) { return a.lo < b.lo; });
    Status s = CheckCoverage(t->def, list);
    if (!s.ok()) return s;
    t->def.partitions = list;
    t->streams.table_id = id;
    s = LoadStreams(t.get(), list);
    if (!s.ok()) return s;
    t->parts = std::make_shared<const PartitionList>(std::move(list));
  }
  return Status::OK();
}

TableStore::~TableStore() { Close().PermitUnchecked(); }

Status TableStore::Close() {
  {
    std::lock_guard<std::mutex> l(split_mu_);
    split_stop_ = true;
  }
  split_cv_.notify_all();
  if (split_thread_.joinable()) split_thread_.join();
  {
    std::lock_guard<std::mutex> l(ttl_mu_);
    ttl_stop_ = true;
  }
  ttl_cv_.notify_all();
  if (ttl_thread_.joinable()) ttl_thread_.join();
  {
    std::lock_guard<std::mutex> l(stream_mu_);
    stream_stop_ = true;
  }
  stream_cv_.notify_all();
  if (stream_thread_.joinable()) stream_thread_.join();
  std::lock_guard<std::mutex> cl(catalog_mu_);
  if (closed_ || db_ == nullptr) return Status::OK();
  closed_ = true;
  lsm::WriteBatch batch;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    for (const auto& [name, t] : tables_) {
      TableDef def;
      {
        std::lock_guard<std::mutex> dl(t->def_mu);
        def = t->def;
      }
      t->FillStats(&def);
      def.partitions = *t->Parts();  // informational
      std::string enc;
      EncodeTableDef(def, &enc);
      batch.Put(catalog_tree_, TableKey(name), enc);
    }
  }
  Status s = batch.Empty() ? Status::OK() : db_->Write(SyncWrite(), &batch);
  Status c = db_->Close();
  return s.ok() ? c : s;
}

// ---- catalog ----

Status TableStore::FindTable(const std::string& name, std::shared_ptr<TableState>* t) {
  std::shared_lock<std::shared_mutex> l(mu_);
  auto it = tables_.find(name);
  if (it == tables_.end()) {
    return Status::NotFound("Requested resource not found: Table: " + name + " not found");
  }
  *t = it->second;
  return Status::OK();
}

Status TableStore::SplitAt(uint64_t table_id, PartitionList* parts, size_t index, uint64_t mid) {
  uint32_t next = 0;
  for (const auto& p : *parts) next = std::max(next, p.id + 1);
  const PartitionDef parent = (*parts)[index];
  PartitionDef left{next, 0, parent.lo, mid};
  PartitionDef right{next + 1, 0, mid, parent.hi};
  Status s = db_->SplitTree(parent.tree, BigEndian64(mid), TreeName(table_id, left.id),
                            TreeName(table_id, right.id), &left.tree, &right.tree);
  if (!s.ok()) return s;
  (*parts)[index] = left;
  parts->insert(parts->begin() + static_cast<ptrdiff_t>(index) + 1, right);
  return Status::OK();
}

Status TableStore::CreateTable(const TableDef& in, TableDef* created) {
  if (in.name.empty()) return Status::InvalidArgument("table name is empty");
  if (in.partition_key.name.empty() || !IsKeyType(in.partition_key.type)) {
    return Status::InvalidArgument("invalid partition key definition");
  }
  if (in.sort_key && (in.sort_key->name.empty() || !IsKeyType(in.sort_key->type) ||
                      in.sort_key->name == in.partition_key.name)) {
    return Status::InvalidArgument("invalid sort key definition");
  }
  std::lock_guard<std::mutex> cl(catalog_mu_);
  if (closed_) return Status::Aborted("table store closed");
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    if (tables_.count(in.name) != 0) return Invalid(kTableInUsePrefix, in.name);
  }
  auto t = std::make_shared<TableState>();
  TableDef& def = t->def;
  def = in;
  def.table_id = next_table_id_;
  t->streams.table_id = def.table_id;
  def.partitions.clear();
  def.approx_item_count = 0;
  def.approx_size_bytes = 0;
  if (def.creation_time_ms == 0) def.creation_time_ms = NowMs();
  if (def.status.empty()) def.status = "ACTIVE";

  // p0 unbounded, then split the last partition at each boundary
  // floor(i * 2^64 / n): after every step the partitions cover the space.
  // A crash before the catalog write leaves trees of an unknown table id,
  // which Open drops.
  const uint32_t n = options_.initial_partitions;
  PartitionList parts;
  auto drop_created = [&] {
    for (const auto& p : parts) db_->DropTree(p.tree).PermitUnchecked();
  };
  {
    PartitionDef p0;
    Status s = db_->CreateTree(TreeName(def.table_id, 0), &p0.tree);
    if (!s.ok()) return s;
    parts.push_back(p0);
  }
  for (uint32_t i = 1; i < n; i++) {
    uint64_t b = static_cast<uint64_t>((static_cast<unsigned __int128>(i) << 64) / n);
    Status s = SplitAt(def.table_id, &parts, parts.size() - 1, b);
    if (!s.ok()) {
      drop_created();
      return s;
    }
  }
  def.partitions = parts;  // informational copy in the catalog
  lsm::WriteBatch batch;
  std::function<void()> apply_stream;
  if (def.stream.enabled) {
    // A crash before the catalog write leaves the stream tree of an unknown
    // table id too, which Open drops.
    std::unique_lock<std::shared_mutex> commit(t->streams.commit_mu);
    Status s = StageStreamChange(t.get(), StreamSpec(), &def.stream, parts, &batch, &apply_stream);
    if (!s.ok()) {
      drop_created();
      if (t->streams.tree) db_->DropTree(*t->streams.tree).PermitUnchecked();
      return s;
    }
  }
  std::string enc;
  EncodeTableDef(def, &enc);
  std::string next;
  PutFixed64(&next, def.table_id + 1);
  batch.Put(catalog_tree_, TableKey(def.name), enc);
  batch.Put(catalog_tree_, kNextTableIdKey, next);
  Status s = db_->Write(SyncWrite(), &batch);
  if (!s.ok()) {
    drop_created();
    if (t->streams.tree) db_->DropTree(*t->streams.tree).PermitUnchecked();
    return s;
  }
  if (apply_stream) apply_stream();
  if (created != nullptr) *created = def;
  t->parts = std::make_shared<const PartitionList>(std::move(parts));
  std::unique_lock<std::shared_mutex> l(mu_);
  next_table_id_ = def.table_id + 1;
  tables_[def.name] = std::move(t);
  return Status::OK();
}

Status TableStore::SplitPartition(const std::string& table, uint32_t partition_id) {
  std::lock_guard<std::mutex> cl(catalog_mu_);  // one split / DDL at a time
  if (closed_) return Status::Aborted("table store closed");
  std::shared_ptr<TableState> t;
  Status s = FindTable(table, &t);
  if (!s.ok()) return s;
  PartitionList parts = *t->Parts();
  size_t index = parts.size();
  for (size_t i = 0; i < parts.size(); i++) {
    if (parts[i].id == partition_id) index = i;
  }
  if (index == parts.size()) {
    return Status::NotFound("table " + table + " has no partition " + std::to_string(partition_id));
  }
  const PartitionDef parent = parts[index];
  const unsigned __int128 hi =
      parent.hi == 0 ? (static_cast<unsigned __int128>(1) << 64) : parent.hi;
  const unsigned __int128 span = hi - parent.lo;
  if (span < 2) return Status::InvalidArgument("partition holds a single hash");
  const uint64_t mid = parent.lo + static_cast<uint64_t>(span / 2);
  {
    std::unique_lock<std::shared_mutex> l(t->parts_mu);
    t->splitting = parent.tree;
  }
  s = SplitAt(t->def.table_id, &parts, index, mid);
  // Writers hold commit_mu shared from routing to the end of their Write, so
  // under it exclusively no write to the parent is in flight: its shard's
  // last record is final, and the children's shards exist before any write
  // can route to them.
  std::unique_lock<std::shared_mutex> commit(t->streams.commit_mu);
  if (s.ok()) StreamSplit(t.get(), parent, parts[index], parts[index + 1]);
  std::unique_lock<std::shared_mutex> l(t->parts_mu);
  if (s.ok()) t->parts = std::make_shared<const PartitionList>(std::move(parts));
  t->splitting.reset();
  return s;
}

Status TableStore::DescribeTable(const std::string& name, TableDef* def) {
  std::shared_ptr<TableState> t;
  Status s = FindTable(name, &t);
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> l(t->def_mu);
    *def = t->def;
  }
  def->partitions = *t->Parts();
  t->FillStats(def);
  return Status::OK();
}

Status TableStore::AlterTable(const std::string& name, const std::function<Status(TableDef*)>& fn,
                              TableDef* altered) {
  std::lock_guard<std::mutex> cl(catalog_mu_);
  if (closed_) return Status::Aborted("table store closed");
  std::shared_ptr<TableState> t;
  Status s = FindTable(name, &t);
  if (!s.ok()) return s;
  TableDef def;
  {
    std::lock_guard<std::mutex> l(t->def_mu);
    def = t->def;
  }
  def.partitions = *t->Parts();
  t->FillStats(&def);
  const TableDef before = def;
  s = fn(&def);
  if (!s.ok()) return s;
  if (def.name != before.name || def.table_id != before.table_id ||
      def.partition_key.name != before.partition_key.name ||
      def.partition_key.type != before.partition_key.type ||
      def.sort_key.has_value() != before.sort_key.has_value() ||
      (def.sort_key && (def.sort_key->name != before.sort_key->name ||
                        def.sort_key->type != before.sort_key->type)) ||
      def.creation_time_ms != before.creation_time_ms) {
    return Status::InvalidArgument("AlterTable may not change the name, key schema or id");
  }
  // Stream changes are written with the catalog entry, with no write of the
  // table in flight (commit_mu), so every record lands in a shard that is open.
  std::unique_lock<std::shared_mutex> commit(t->streams.commit_mu);
  lsm::WriteBatch batch;
  std::function<void()> apply_stream;
  s = StageStreamChange(t.get(), before.stream, &def.stream, def.partitions, &batch, &apply_stream);
  if (!s.ok()) return s;
  std::string enc;
  EncodeTableDef(def, &enc);
  batch.Put(catalog_tree_, TableKey(name), enc);
  s = db_->Write(SyncWrite(), &batch);
  if (!s.ok()) return s;
  if (apply_stream) apply_stream();
  commit.unlock();
  {
    std::lock_guard<std::mutex> l(t->def_mu);
    t->def.attribute_definitions = def.attribute_definitions;
    t->def.billing_mode = def.billing_mode;
    t->def.read_capacity_units = def.read_capacity_units;
    t->def.write_capacity_units = def.write_capacity_units;
    t->def.status = def.status;
    t->def.tags = def.tags;
    t->def.index_definitions = def.index_definitions;
    t->def.stream_settings = def.stream_settings;
    t->def.ttl = def.ttl;
    t->def.stream = def.stream;
  }
  if (altered != nullptr) *altered = def;
  return Status::OK();
}

std::vector<std::string> TableStore::ListTables() {
  std::shared_lock<std::shared_mutex> l(mu_);
  std::vector<std::string> names;
  for (const auto& [name, t] : tables_) names.push_back(name);
  return names;
}

Status TableStore::DeleteTable(const std::string& name) {
  std::lock_guard<std::mutex> cl(catalog_mu_);
  if (closed_) return Status::Aborted("table store closed");
  std::shared_ptr<TableState> t;
  Status s = FindTable(name, &t);
  if (!s.ok()) return s;
  lsm::WriteBatch batch;
  batch.Delete(catalog_tree_, TableKey(name));
  s = db_->Write(SyncWrite(), &batch);
  if (!s.ok()) return s;
  {
    std::unique_lock<std::shared_mutex> l(mu_);
    tables_.erase(name);
  }
  t->dropped = true;
  // A crash before this point leaves trees of an unknown table id: Open drops them.
  for (const auto& p : *t->Parts()) {
    s = db_->DropTree(p.tree);
    if (!s.ok()) return s;
  }
  std::optional<lsm::TreeId> stream_tree;
  {
    std::lock_guard<std::mutex> sl(t->streams.mu);
    stream_tree = t->streams.tree;
  }
  if (stream_tree) return db_->DropTree(*stream_tree);
  return Status::OK();
}

// ---- automatic splits ----

void TableStore::SplitLoop() {
  std::unique_lock<std::mutex> lk(split_mu_);
  while (!split_stop_) {
    split_cv_.wait_for(lk, std::chrono::milliseconds(options_.split_check_interval_ms),
                       [&] { return split_stop_.load(); });
    if (split_stop_) break;
    lk.unlock();
    CheckSplits();
    lk.lock();
  }
}

void TableStore::CheckSplits() {
  std::vector<std::pair<std::string, std::shared_ptr<TableState>>> tables;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    tables.assign(tables_.begin(), tables_.end());
  }
  for (const auto& [name, t] : tables) {
    auto parts = t->Parts();
    for (const PartitionDef& p : *parts) {
      if (split_stop_) return;
      uint64_t bytes = 0;
      Status s = db_->GetApproximateSize(p.tree, &bytes);
      if (!s.ok() || bytes <= options_.split_threshold_bytes) continue;
      // Errors (table deleted meanwhile, single-hash partition) are retried
      // or ignored at the next check.
      SplitPartition(name, p.id).PermitUnchecked();
    }
  }
}

// ---- items ----

lsm::TreeId TableStore::RouteTree(const TableState& t, uint64_t hash) {
  auto parts = t.Parts();
  auto it = std::upper_bound(parts->begin(), parts->end(), hash,
                             [](uint64_t h, const PartitionDef& p) { return h < p.lo; });
  return (it - 1)->tree;  // parts[0].lo == 0
}

PartitionDef TableStore::RoutePartition(const TableState& t, uint64_t hash) {
  auto parts = t.Parts();
  auto it = std::upper_bound(parts->begin(), parts->end(), hash,
                             [](uint64_t h, const PartitionDef& p) { return h < p.lo; });
  return *(it - 1);
}

bool TableStore::ShouldReroute(const TableState& t, const std::vector<lsm::TreeId>& used) {
  // SplitPartition sets `splitting` before DB::SplitTree drops the parent and
  // clears it when it installs the children, so a dropped parent is always
  // either marked splitting or absent from the map.
  for (;;) {
    if (t.dropped) return false;
    bool gone = false, splitting = false;
    {
      std::shared_lock<std::shared_mutex> l(t.parts_mu);
      for (lsm::TreeId tree : used) {
        bool present = std::any_of(t.parts->begin(), t.parts->end(),
                                   [&](const PartitionDef& p) { return p.tree == tree; });
        if (!present) gone = true;
        if (t.splitting == tree) splitting = true;
      }
    }
    if (gone) return true;
    if (!splitting) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

Status TableStore::LocateKey(const TableState& t, const Item& key, bool key_only, std::string* ikey,
                             uint64_t* hash) {
  Status s = key_only ? ValidateKeyOnly(t.def, key) : ValidateItemKey(t.def, key);
  if (!s.ok()) return s;
  const Value* pk = key.Find(t.def.partition_key.name);
  const Value* sk = t.def.sort_key ? key.Find(t.def.sort_key->name) : nullptr;
  ikey->clear();
  s = EncodeItemKey(*pk, sk, ikey);
  if (!s.ok()) return s;
  *hash = PartitionHash(*pk);
  return Status::OK();
}

Status TableStore::ReadRouted(const TableState& t, const lsm::ReadOptions& ro, uint64_t hash,
                              const std::string& ikey, std::optional<Item>* out) {
  for (;;) {
    lsm::TreeId tree = RouteTree(t, hash);
    Status s = ReadItem(ro, tree, ikey, out);
    if (s.IsInvalidArgument() && ShouldReroute(t, {tree})) continue;
    return s;
  }
}

Status TableStore::ReadItem(const lsm::ReadOptions& ro, lsm::TreeId tree, const std::string& ikey,
                            std::optional<Item>* out) {
  std::string raw;
  Status s = db_->Get(ro, tree, ikey, &raw);
  if (s.IsNotFound()) {
    out->reset();
    return Status::OK();
  }
  if (!s.ok()) return s;
  Item item;
  s = DecodeItem(raw, &item);
  if (!s.ok()) return s;
  *out = std::move(item);
  return Status::OK();
}

std::mutex& TableStore::LatchFor(std::string_view ikey) {
  return (*latches_)[Hash64(ikey) % kLatchStripes];
}

Status TableStore::GetItem(const std::string& table, const Item& key, const lsm::Snapshot* snapshot,
                           std::optional<Item>* out) {
  std::shared_ptr<TableState> t;
  Status s = FindTable(table, &t);
  if (!s.ok()) return s;
  std::string ikey;
  uint64_t hash;
  s = LocateKey(*t, key, /*key_only=*/true, &ikey, &hash);
  if (!s.ok()) return s;
  lsm::ReadOptions ro;
  ro.snapshot = snapshot;
  return ReadRouted(*t, ro, hash, ikey, out);
}

Status TableStore::PutItem(const std::string& table, const Item& item, std::optional<Item>* old) {
  std::shared_ptr<TableState> t;
  Status s = FindTable(table, &t);
  if (!s.ok()) return s;
  s = ValidateItemKey(t->def, item);
  if (!s.ok()) return s;
  UpdateResult r;
  s = Update(
      table, ExtractKey(t->def, item), [&](const Item*) { return Decision::Put(item); }, &r);
  if (s.ok() && old != nullptr) *old = std::move(r.old_item);
  return s;
}

Status TableStore::DeleteItem(const std::string& table, const Item& key, std::optional<Item>* old) {
  UpdateResult r;
  Status s = Update(
      table, key, [](const Item*) { return Decision::Delete(); }, &r);
  if (s.ok() && old != nullptr) *old = std::move(r.old_item);
  return s;
}

Status TableStore::Update(const std::string& table, const Item& key,
                          const std::function<Decision(const Item* old)>& fn,
                          UpdateResult* result) {
  std::shared_ptr<TableState> t;
  Status s = FindTable(table, &t);
  if (!s.ok()) return s;
  std::string ikey;
  uint64_t hash;
  s = LocateKey(*t, key, /*key_only=*/true, &ikey, &hash);
  if (!s.ok()) return s;

  std::lock_guard<std::mutex> latch(LatchFor(ikey));
  std::optional<Item> old;
  s = ReadRouted(*t, lsm::ReadOptions(), hash, ikey, &old);
  if (!s.ok()) return s;
  Decision d = fn(old ? &*old : nullptr);
  std::optional<Item> next;
  bool write = false, is_put = false;
  std::string enc;
  switch (d.kind) {
    case Decision::Kind::kConditionFailed:
    case Decision::Kind::kNoChange:
      result->outcome = d.kind;
      result->new_item = old;
      result->old_item = std::move(old);
      return Status::OK();
    case Decision::Kind::kDelete:
      write = old.has_value();
      break;
    case Decision::Kind::kPut: {
      s = ValidateItemKey(t->def, d.item);
      if (!s.ok()) return s;
      std::string new_key;
      s = EncodeItemKey(*d.item.Find(t->def.partition_key.name),
                        t->def.sort_key ? d.item.Find(t->def.sort_key->name) : nullptr, &new_key);
      if (!s.ok()) return s;
      if (new_key != ikey) {
        return Status::InvalidArgument(
            "One or more parameter values were invalid: the new item's key attributes differ "
            "from the key");
      }
      s = ValidateItem(d.item);
      if (!s.ok()) return s;
      CanonicalizeItem(&d.item);
      EncodeItem(d.item, &enc);
      write = is_put = true;
      next = std::move(d.item);
      break;
    }
  }
  // A put of an item identical to the old one changes nothing: no stream
  // record (as DynamoDB). Both encodings are canonical.
  bool record = write;
  if (write && is_put && old) {
    std::string old_enc;
    EncodeItem(*old, &old_enc);
    record = old_enc != enc;
  }
  const bool by_ttl = d.origin == Decision::Origin::kTtl;
  // The latch keeps every other writer of this key out, so if a split moved
  // the key since the read, the child holds the same old item: re-route the
  // write without calling fn again.
  while (write) {
    std::shared_lock<std::shared_mutex> commit(t->streams.commit_mu);
    const PartitionDef part = RoutePartition(*t, hash);
    const lsm::TreeId tree = part.tree;
    lsm::WriteBatch batch;
    if (is_put) {
      batch.Put(tree, ikey, enc);
    } else {
      batch.Delete(tree, ikey);
    }
    std::vector<StagedRecord> staged;
    if (record) {
      StageRecord(&t->streams, part.id, key, old, next, by_ttl, StreamNowMs(), &batch, &staged);
    }
    s = db_->Write(lsm::WriteOptions(), &batch);
    FinishRecords(&staged, s.ok());
    commit.unlock();  // before waiting in ShouldReroute: a split needs it
    if (s.IsInvalidArgument() && ShouldReroute(*t, {tree})) continue;
    if (!s.ok()) return s;
    break;
  }
  t->Account(old, next);
  result->outcome = d.kind;
  result->old_item = std::move(old);
  result->new_item = std::move(next);
  return Status::OK();
}

Status TableStore::WriteAtomically(const std::vector<WriteOp>& ops, WriteAtomicallyResult* result) {
  struct Prepared {
    std::shared_ptr<TableState> t;
    std::string ikey;
    uint64_t hash = 0;
    Item item;  // kPut: canonicalised item
  };
  std::vector<Prepared> prep(ops.size());
  std::set<std::pair<uint64_t, std::string>> seen;
  std::vector<size_t> stripes;
  for (size_t i = 0; i < ops.size(); i++) {
    const WriteOp& op = ops[i];
    Prepared& p = prep[i];
    Status s = FindTable(op.table, &p.t);
    if (!s.ok()) return s;
    if (op.kind == WriteOp::Kind::kPut) {
      s = LocateKey(*p.t, op.item, /*key_only=*/false, &p.ikey, &p.hash);
      if (s.ok()) s = ValidateItem(op.item);
      if (!s.ok()) return s;
      p.item = op.item;
      CanonicalizeItem(&p.item);
    } else {
      s = LocateKey(*p.t, op.item, /*key_only=*/true, &p.ikey, &p.hash);
      if (!s.ok()) return s;
    }
    if (!seen.emplace(p.t->def.table_id, p.ikey).second) {
      return Status::InvalidArgument(kDuplicateKeysMessage);
    }
    stripes.push_back(Hash64(p.ikey) % kLatchStripes);
  }
  std::sort(stripes.begin(), stripes.end());
  stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
  std::vector<std::unique_lock<std::mutex>> locks;
  locks.reserve(stripes.size());
  for (size_t stripe : stripes) locks.emplace_back((*latches_)[stripe]);

  WriteAtomicallyResult local;
  WriteAtomicallyResult* r = result != nullptr ? result : &local;
  r->failed_op.reset();
  r->old_items.assign(ops.size(), std::nullopt);
  std::vector<std::pair<size_t, std::string>> writes;  // op index, encoded item (puts)
  std::vector<bool> record(ops.size(), false);         // changes the item: stream record
  for (size_t i = 0; i < ops.size(); i++) {
    Status s =
        ReadRouted(*prep[i].t, lsm::ReadOptions(), prep[i].hash, prep[i].ikey, &r->old_items[i]);
    if (!s.ok()) return s;
    if (ops[i].condition && !ops[i].condition(r->old_items[i] ? &*r->old_items[i] : nullptr)) {
      r->failed_op = i;
      return Status::OK();
    }
    if (ops[i].kind == WriteOp::Kind::kPut) {
      std::string enc;
      EncodeItem(prep[i].item, &enc);
      std::string old_enc;
      if (r->old_items[i]) EncodeItem(*r->old_items[i], &old_enc);
      record[i] = !r->old_items[i] || old_enc != enc;
      writes.emplace_back(i, std::move(enc));
    } else if (r->old_items[i]) {
      record[i] = true;
      writes.emplace_back(i, std::string());
    }
  }
  // Commit locks of the tables written, in table id order (deadlock free).
  std::vector<TableStreams*> stream_locks;
  for (const auto& [i, enc] : writes) stream_locks.push_back(&prep[i].t->streams);
  std::sort(stream_locks.begin(), stream_locks.end(),
            [](const TableStreams* a, const TableStreams* b) { return a->table_id < b->table_id; });
  stream_locks.erase(std::unique(stream_locks.begin(), stream_locks.end()), stream_locks.end());
  // Under the latches the old items stay valid across a split: re-route only.
  while (!writes.empty()) {
    std::vector<std::shared_lock<std::shared_mutex>> commits;
    for (TableStreams* ts : stream_locks) commits.emplace_back(ts->commit_mu);
    lsm::WriteBatch batch;
    std::vector<lsm::TreeId> used;
    std::vector<StagedRecord> staged;
    const uint64_t now_ms = StreamNowMs();
    for (const auto& [i, enc] : writes) {
      const PartitionDef part = RoutePartition(*prep[i].t, prep[i].hash);
      used.push_back(part.tree);
      std::optional<Item> next;
      if (ops[i].kind == WriteOp::Kind::kPut) {
        batch.Put(part.tree, prep[i].ikey, enc);
        next = prep[i].item;
      } else {
        batch.Delete(part.tree, prep[i].ikey);
      }
      if (record[i]) {
        StageRecord(&prep[i].t->streams, part.id, ExtractKey(prep[i].t->def, ops[i].item),
                    r->old_items[i], next, /*by_ttl=*/false, now_ms, &batch, &staged);
      }
    }
    Status s = db_->Write(lsm::WriteOptions(), &batch);
    FinishRecords(&staged, s.ok());
    commits.clear();  // before waiting in ShouldReroute: a split needs them
    if (s.IsInvalidArgument()) {
      bool retry = false;
      for (size_t j = 0; j < writes.size() && !retry; j++) {
        retry = ShouldReroute(*prep[writes[j].first].t, {used[j]});
      }
      if (retry) continue;
    }
    if (!s.ok()) return s;
    break;
  }
  for (size_t i = 0; i < ops.size(); i++) {
    std::optional<Item> next;
    if (ops[i].kind == WriteOp::Kind::kPut) next = std::move(prep[i].item);
    prep[i].t->Account(r->old_items[i], next);
  }
  return Status::OK();
}

// ---- Query / Scan ----

Status TableStore::ReadRange(const TableState& t, lsm::TreeId tree, const KeyRange& range,
                             bool forward, size_t byte_budget, size_t limit,
                             const lsm::Snapshot* snapshot, Page* out, bool* full,
                             std::string* last_key) {
  lsm::ReadOptions ro;
  ro.snapshot = snapshot;
  auto it = db_->NewIterator(ro, tree);
  if (forward) {
    it->Seek(range.start);
  } else if (range.limit.empty()) {
    it->SeekToLast();
  } else {
    it->Seek(range.limit);
    if (it->Valid()) {
      it->Prev();
    } else if (it->status().ok()) {
      it->SeekToLast();
    }
  }
  *full = false;
  while (it->Valid()) {
    std::string_view k = it->key();
    if (forward ? !range.Contains(k) : k < std::string_view(range.start)) break;
    if ((limit != 0 && out->count >= limit) || (byte_budget != 0 && out->bytes >= byte_budget)) {
      *full = true;
      break;
    }
    Item item;
    Status s = DecodeItem(it->value(), &item);
    if (!s.ok()) return s;
    out->bytes += ItemSize(item);
    out->count++;
    out->items.push_back(std::move(item));
    last_key->assign(k);
    if (forward) {
      it->Next();
    } else {
      it->Prev();
    }
  }
  if (!it->status().ok()) return it->status();
  if (*full) out->last_evaluated_key = ExtractKey(t.def, out->items.back());
  return Status::OK();
}

Status TableStore::Query(const std::string& table, const Value& pk, const SortKeyCondition& cond,
                         bool forward, const std::optional<Item>& exclusive_start_key,
                         size_t byte_budget, size_t limit, const lsm::Snapshot* snapshot,
                         QueryPage* out) {
  *out = QueryPage();
  std::shared_ptr<TableState> t;
  Status s = FindTable(table, &t);
  if (!s.ok()) return s;
  const TableDef& def = t->def;
  if (pk.type() != def.partition_key.type) return Status::InvalidArgument(kConditionTypeMismatch);
  if (IsEmptyKeyValue(pk)) return EmptyKeyError(def.partition_key.name);
  if (cond.op != SortKeyOp::kAll) {
    if (!def.sort_key) return Status::InvalidArgument("Query key condition not supported");
    ValueType skt = def.sort_key->type;
    if (cond.a.type() != skt ||
        (cond.op == SortKeyOp::kBetween && (!cond.b || cond.b->type() != skt))) {
      return Status::InvalidArgument(kConditionTypeMismatch);
    }
    if (cond.op == SortKeyOp::kBeginsWith && skt == ValueType::kN) {
      return Status::InvalidArgument("Query key condition not supported");
    }
  }
  KeyRange range;
  s = SortKeyRange(pk, cond.op, cond.a, cond.b ? &*cond.b : nullptr, &range);
  if (!s.ok()) return s;
  if (exclusive_start_key) {
    s = ValidateKeyOnly(def, *exclusive_start_key);
    if (!s.ok()) return s;
    if (!(*exclusive_start_key->Find(def.partition_key.name) == pk)) {
      return Status::InvalidArgument("The provided starting key is invalid");
    }
    std::string ek;
    s = EncodeItemKey(pk, def.sort_key ? exclusive_start_key->Find(def.sort_key->name) : nullptr,
                      &ek);
    if (!s.ok()) return s;
    if (forward) {
      ek.push_back('\0');  // the smallest key after ek
      if (ek > range.start) range.start = std::move(ek);
    } else if (range.limit.empty() || ek < range.limit) {
      range.limit = std::move(ek);
    }
  }
  if (!range.limit.empty() && range.start >= range.limit) return Status::OK();
  const uint64_t hash = PartitionHash(pk);
  for (;;) {
    bool full;
    std::string last;
    lsm::TreeId tree = RouteTree(*t, hash);
    s = ReadRange(*t, tree, range, forward, byte_budget, limit, snapshot, out, &full, &last);
    if (s.IsInvalidArgument() && ShouldReroute(*t, {tree})) {
      *out = QueryPage();
      continue;
    }
    return s;
  }
}

Status TableStore::Scan(const std::string& table, uint64_t lo, uint64_t hi,
                        const std::optional<Item>& exclusive_start_key, size_t byte_budget,
                        size_t limit, const lsm::Snapshot* snapshot, ScanPage* out) {
  *out = ScanPage();
  std::shared_ptr<TableState> t;
  Status s = FindTable(table, &t);
  if (!s.ok()) return s;
  if (hi != 0 && lo >= hi) return Status::OK();
  KeyRange range;
  range.start = BigEndian64(lo);
  if (hi != 0) range.limit = BigEndian64(hi);
  if (exclusive_start_key) {
    std::string ek;
    uint64_t unused;
    s = LocateKey(*t, *exclusive_start_key, /*key_only=*/true, &ek, &unused);
    if (!s.ok()) return s;
    ek.push_back('\0');
    if (ek > range.start) range.start = std::move(ek);
  }
  if (!range.limit.empty() && range.start >= range.limit) return Status::OK();
  // Key order within the table does not change with a split, so a partition
  // split away under us is resumed on the children after the last key read.
  std::string last;
  bool restart = true;
  while (restart) {
    restart = false;
    if (!last.empty()) {
      std::string after = last + '\0';
      if (after > range.start) range.start = std::move(after);
    }
    auto parts = t->Parts();
    for (const PartitionDef& p : *parts) {
      if (p.hi != 0 && p.hi <= lo) continue;
      if (hi != 0 && p.lo >= hi) break;
      if (p.hi != 0 && BigEndian64(p.hi) <= range.start) continue;
      bool full;
      s = ReadRange(*t, p.tree, range, /*forward=*/true, byte_budget, limit, snapshot, out, &full,
                    &last);
      if (s.IsInvalidArgument() && ShouldReroute(*t, {p.tree})) {
        restart = true;
        break;
      }
      if (!s.ok() || full) return s;
    }
  }
  return Status::OK();
}

// ---- streams ----

namespace {

uint64_t ShardNo(uint32_t stream_index, uint32_t partition_id) {
  return (static_cast<uint64_t>(stream_index) << 32) | partition_id;
}

// DynamoDB's StreamLabel form: UTC, millisecond precision.
std::string MakeStreamLabel(uint64_t ms) {
  time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03u", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<unsigned>(ms % 1000));
  return buf;
}

// Closes every open shard of stream `index` (REQUIRES no write to them in
// flight): ending = its last record, or its start when empty (then that
// sequence is burnt so no later shard starts at or below it).
void CloseShards(TableStreams* s, uint32_t index, lsm::TreeId tree, lsm::WriteBatch* batch) {
  for (auto& [no, sh] : s->shards) {
    if (sh.stream_index() != index || sh.ending) continue;
    sh.ending = sh.last_seq != 0 ? sh.last_seq : sh.starting;
    s->next_seq = std::max(s->next_seq, *sh.ending + 1);
    std::string enc;
    EncodeShardMeta(sh, &enc);
    batch->Put(tree, ShardMetaKey(no), enc);
  }
}

ShardMeta NewShard(uint32_t index, const PartitionDef& p, std::optional<uint64_t> parent,
                   uint64_t start, uint64_t now_ms) {
  ShardMeta m;
  m.shard_no = ShardNo(index, p.id);
  m.lo = p.lo;
  m.hi = p.hi;
  m.parent_no = parent;
  m.starting = start;
  m.trim_horizon = start;
  m.created_ms = now_ms;
  return m;
}

void PutShard(const ShardMeta& m, lsm::TreeId tree, lsm::WriteBatch* batch) {
  std::string enc;
  EncodeShardMeta(m, &enc);
  batch->Put(tree, ShardMetaKey(m.shard_no), enc);
}

void PutNextSeq(const TableStreams& s, lsm::WriteBatch* batch) {
  std::string v;
  PutFixed64(&v, s.next_seq);
  batch->Put(*s.tree, kStreamNextSeqKey, v);
}

// Does [lo, hi) (hi 0 = 2^64) contain [clo, chi)?
bool RangeContains(uint64_t lo, uint64_t hi, uint64_t clo, uint64_t chi) {
  auto end = [](uint64_t h) {
    return h == 0 ? (static_cast<unsigned __int128>(1) << 64) : static_cast<unsigned __int128>(h);
  };
  return lo <= clo && end(chi) <= end(hi);
}

Status StreamNotFound(const std::string& label) {
  return Status::NotFound("Requested resource not found: Stream: " + label + " not found");
}

}  // namespace

uint64_t TableStore::StreamNowMs() const { return options_.now_ms ? options_.now_ms() : NowMs(); }

Status TableStore::LoadStreams(TableState* t, const PartitionList& parts) {
  TableStreams& s = t->streams;
  if (!s.tree) return Status::OK();
  uint64_t floor = 1;
  {
    auto it = db_->NewIterator(lsm::ReadOptions(), *s.tree);
    for (it->SeekToFirst(); it->Valid() && it->key()[0] != 'r'; it->Next()) {
      std::string_view k = it->key();
      if (k == kStreamNextSeqKey) {
        std::string_view v = it->value();
        if (!GetFixed64(&v, &floor)) return Status::Corruption("stream: next sequence");
      } else if (k[0] == 'm') {
        StreamMeta m;
        Status st = DecodeStreamMeta(it->value(), &m);
        if (!st.ok()) return st;
        if (m.enabled) s.current = m.index;
        s.streams[m.index] = std::move(m);
      } else if (k[0] == 'h') {
        ShardMeta m;
        Status st = DecodeShardMeta(it->value(), &m);
        if (!st.ok()) return st;
        s.shards[m.shard_no] = m;
      } else {
        return Status::Corruption("stream: unknown key");
      }
    }
    if (!it->status().ok()) return it->status();
    // Each shard's last record: seek past the shard, step back.
    for (auto& [no, sh] : s.shards) {
      if (no == UINT64_MAX)
        it->SeekToLast();
      else
        it->Seek(StreamRecordKey(no + 1, 0));
      if (it->Valid()) {
        it->Prev();
      } else if (it->status().ok()) {
        it->SeekToLast();
      }
      if (!it->status().ok()) return it->status();
      const std::string prefix = StreamRecordKey(no, 0).substr(0, 9);
      if (it->Valid() && it->key().size() == 17 && it->key().starts_with(prefix)) {
        sh.last_seq = DecodeBigEndian64(it->key().substr(9));
      }
    }
  }
  s.next_seq = floor;
  for (const auto& [no, sh] : s.shards) {
    s.next_seq = std::max({s.next_seq, sh.last_seq + 1, sh.starting, sh.trim_horizon,
                           sh.ending ? *sh.ending + 1 : 0});
  }
  if (s.current == 0) return Status::OK();
  // A crash after a split but before its shard metadata was written: derive
  // it from the partitions (close shards of vanished partitions, open shards
  // for new ones, parented by the shard whose range contains theirs).
  lsm::WriteBatch batch;
  std::set<uint32_t> live;
  for (const auto& p : parts) live.insert(p.id);
  for (auto& [no, sh] : s.shards) {
    if (sh.stream_index() != s.current || sh.ending || live.count(sh.partition_id())) continue;
    sh.ending = sh.last_seq != 0 ? sh.last_seq : sh.starting;
    s.next_seq = std::max(s.next_seq, *sh.ending + 1);
    PutShard(sh, *s.tree, &batch);
  }
  const uint64_t now = StreamNowMs();
  for (const auto& p : parts) {
    if (s.shards.count(ShardNo(s.current, p.id))) continue;
    std::optional<uint64_t> parent;
    for (const auto& [no, sh] : s.shards) {
      if (sh.stream_index() == s.current && RangeContains(sh.lo, sh.hi, p.lo, p.hi)) parent = no;
    }
    ShardMeta m = NewShard(s.current, p, parent, s.next_seq, now);
    PutShard(m, *s.tree, &batch);
    s.shards[m.shard_no] = m;
  }
  if (batch.Empty()) return Status::OK();
  PutNextSeq(s, &batch);
  return db_->Write(SyncWrite(), &batch);
}

Status TableStore::StageStreamChange(TableState* t, const StreamSpec& before, StreamSpec* after,
                                     const PartitionList& parts, lsm::WriteBatch* batch,
                                     std::function<void()>* apply) {
  TableStreams& s = t->streams;
  const bool start = after->enabled && (!before.enabled || after->label != before.label);
  const bool stop = before.enabled && (!after->enabled || start);
  const bool view =
      after->enabled && before.enabled && !start && after->view_type != before.view_type;
  if (!start && !stop && !view) return Status::OK();
  if (!s.tree) {
    lsm::TreeId tree;
    Status st = db_->CreateTree(StreamTreeName(t->def.table_id), &tree);
    if (!st.ok()) return st;
    std::lock_guard<std::mutex> l(s.mu);
    s.tree = tree;
  }
  const uint64_t now = StreamNowMs();
  if (start && after->label.empty()) after->label = MakeStreamLabel(now);
  // Work on a copy, installed by *apply once the batch is durable.
  auto next = std::make_shared<TableStreams>();
  {
    std::lock_guard<std::mutex> l(s.mu);
    next->next_seq = s.next_seq;
    next->streams = s.streams;
    next->shards = s.shards;
    next->current = s.current;
  }
  const lsm::TreeId tree = *s.tree;
  auto put_stream = [&](const StreamMeta& m) {
    std::string enc;
    EncodeStreamMeta(m, &enc);
    batch->Put(tree, StreamMetaKey(m.index), enc);
  };
  if (stop && next->current != 0) {
    CloseShards(next.get(), next->current, tree, batch);
    StreamMeta& m = next->streams[next->current];
    m.enabled = false;
    put_stream(m);
    next->current = 0;
  }
  if (view && next->current != 0) {
    StreamMeta& m = next->streams[next->current];
    m.view_type = after->view_type;
    put_stream(m);
  }
  if (start) {
    for (const auto& [i, m] : next->streams) {
      if (m.label == after->label) {
        return Status::InvalidArgument("stream label already used: " + after->label);
      }
    }
    StreamMeta m;
    m.index = next->streams.empty() ? 1 : next->streams.rbegin()->first + 1;
    m.label = after->label;
    m.view_type = after->view_type;
    m.created_ms = now;
    m.enabled = true;
    put_stream(m);
    for (const auto& p : parts) {
      ShardMeta sh = NewShard(m.index, p, std::nullopt, next->next_seq, now);
      PutShard(sh, tree, batch);
      next->shards[sh.shard_no] = sh;
    }
    next->current = m.index;
    next->streams[m.index] = std::move(m);
  }
  {
    std::string v;
    PutFixed64(&v, next->next_seq);
    batch->Put(tree, kStreamNextSeqKey, v);
  }
  *apply = [&s, next] {
    std::lock_guard<std::mutex> l(s.mu);
    // Trim passes may have raised horizons meanwhile; keep theirs.
    for (auto& [no, sh] : next->shards) {
      auto it = s.shards.find(no);
      if (it != s.shards.end())
        sh.trim_horizon = std::max(sh.trim_horizon, it->second.trim_horizon);
    }
    s.next_seq = std::max(s.next_seq, next->next_seq);
    s.streams = std::move(next->streams);
    s.shards = std::move(next->shards);
    s.current = next->current;
  };
  return Status::OK();
}

void TableStore::StreamSplit(TableState* t, const PartitionDef& parent, const PartitionDef& left,
                             const PartitionDef& right) {
  TableStreams& s = t->streams;
  lsm::WriteBatch batch;
  {
    std::lock_guard<std::mutex> l(s.mu);
    if (s.current == 0 || !s.tree) return;
    std::optional<uint64_t> parent_no;
    auto it = s.shards.find(ShardNo(s.current, parent.id));
    if (it != s.shards.end()) {
      ShardMeta& sh = it->second;
      if (!sh.ending) {
        sh.ending = sh.last_seq != 0 ? sh.last_seq : sh.starting;
        s.next_seq = std::max(s.next_seq, *sh.ending + 1);
        PutShard(sh, *s.tree, &batch);
      }
      parent_no = it->first;
    }
    const uint64_t now = StreamNowMs();
    for (const PartitionDef* c : {&left, &right}) {
      ShardMeta m = NewShard(s.current, *c, parent_no, s.next_seq, now);
      PutShard(m, *s.tree, &batch);
      s.shards[m.shard_no] = m;
    }
    PutNextSeq(s, &batch);
  }
  // On failure Open derives the same metadata from the partitions.
  db_->Write(SyncWrite(), &batch).PermitUnchecked();
}

Status TableStore::ListStreams(const std::string& table, std::vector<StreamInfo>* out) {
  out->clear();
  std::vector<std::pair<std::string, std::shared_ptr<TableState>>> tables;
  if (table.empty()) {
    std::shared_lock<std::shared_mutex> l(mu_);
    tables.assign(tables_.begin(), tables_.end());
  } else {
    std::shared_ptr<TableState> t;
    Status s = FindTable(table, &t);
    if (!s.ok()) return s;
    tables.emplace_back(table, t);
  }
  for (const auto& [name, t] : tables) {
    std::lock_guard<std::mutex> l(t->streams.mu);
    for (const auto& [index, m] : t->streams.streams) {
      out->push_back({name, m.label, m.view_type, index == t->streams.current, m.created_ms});
    }
  }
  return Status::OK();
}

Status TableStore::DescribeStream(const std::string& table, const std::string& label,
                                  StreamInfo* info, std::vector<ShardInfo>* shards) {
  shards->clear();
  std::shared_ptr<TableState> t;
  Status s = FindTable(table, &t);
  if (!s.ok()) return StreamNotFound(label);
  const TableStreams& ts = t->streams;
  std::lock_guard<std::mutex> l(ts.mu);
  const StreamMeta* m = nullptr;
  for (const auto& [index, sm] : ts.streams) {
    if (sm.label == label) m = &sm;
  }
  if (m == nullptr) return StreamNotFound(label);
  *info = {table, m->label, m->view_type, m->index == ts.current, m->created_ms};
  // Children have larger partition ids than their parents: shard order is lineage order.
  for (const auto& [no, sh] : ts.shards) {
    if (sh.stream_index() != m->index) continue;
    ShardInfo si;
    si.shard_id = FormatShardId(ts.table_id, label, no);
    if (sh.parent_no) si.parent_shard_id = FormatShardId(ts.table_id, label, *sh.parent_no);
    si.starting_sequence = sh.starting;
    si.ending_sequence = sh.ending;
    shards->push_back(std::move(si));
  }
  return Status::OK();
}

Status TableStore::FindShard(const std::string& table, const std::string& label,
                             const std::string& shard_id, std::shared_ptr<TableState>* t,
                             uint64_t* shard_no) {
  Status s = FindTable(table, t);
  if (!s.ok()) return StreamNotFound(label);
  const TableStreams& ts = (*t)->streams;
  std::lock_guard<std::mutex> l(ts.mu);
  const StreamMeta* m = nullptr;
  for (const auto& [index, sm] : ts.streams) {
    if (sm.label == label) m = &sm;
  }
  if (m == nullptr) return StreamNotFound(label);
  if (!ParseShardId(ts.table_id, label, shard_id, shard_no) || (*shard_no >> 32) != m->index ||
      ts.shards.count(*shard_no) == 0) {
    return Status::NotFound("Requested resource not found: Shard does not exist");
  }
  return Status::OK();
}

Status TableStore::ReadShard(const std::string& table, const std::string& label,
                             const std::string& shard_id, uint64_t from_sequence, size_t limit,
                             size_t max_bytes, std::vector<StreamRecord>* out,
                             uint64_t* next_sequence, bool* shard_end) {
  out->clear();
  *next_sequence = from_sequence;
  *shard_end = false;
  std::shared_ptr<TableState> t;
  uint64_t no;
  Status s = FindShard(table, label, shard_id, &t, &no);
  if (!s.ok()) return s;
  TableStreams& ts = t->streams;
  const auto trimmed = [&] {
    return Status::Aborted(
        "TrimmedDataAccess: the requested sequence number is beyond the trim horizon");
  };
  uint64_t bound;
  bool closed;
  lsm::TreeId tree;
  {
    std::lock_guard<std::mutex> l(ts.mu);
    auto it = ts.shards.find(no);
    if (it == ts.shards.end() || !ts.tree) {
      return Status::NotFound("Requested resource not found: Shard does not exist");
    }
    if (from_sequence < it->second.trim_horizon) return trimmed();
    closed = it->second.ending.has_value();
    // A closed shard has nothing in flight. An open one shows only records
    // below every sequence still in flight: a record committing later has a
    // sequence at or above the bound, so no reader passes it by.
    bound = closed ? UINT64_MAX : ts.VisibleBound();
    tree = *ts.tree;
  }
  if (limit == 0) limit = 1;
  auto it = db_->NewIterator(lsm::ReadOptions(), tree);
  const std::string prefix = StreamRecordKey(no, 0).substr(0, 9);
  size_t bytes = 0;
  bool exhausted = true;
  for (it->Seek(StreamRecordKey(no, from_sequence)); it->Valid(); it->Next()) {
    std::string_view k = it->key();
    if (!k.starts_with(prefix) || k.size() != 17) break;
    const uint64_t seq = DecodeBigEndian64(k.substr(9));
    if (seq >= bound || out->size() >= limit || (max_bytes != 0 && bytes >= max_bytes)) {
      exhausted = false;
      break;
    }
    StreamRecord r;
    s = DecodeStreamRecord(it->value(), &r);
    if (!s.ok()) return s;
    r.sequence = seq;
    bytes += r.size_bytes;
    out->push_back(std::move(r));
    *next_sequence = seq + 1;
  }
  if (!it->status().ok()) return it->status();
  {
    // A trim pass raises the horizon before deleting: if it passed us while
    // we read, records may be missing from what we saw.
    std::lock_guard<std::mutex> l(ts.mu);
    auto sh = ts.shards.find(no);
    if (sh == ts.shards.end() || from_sequence < sh->second.trim_horizon) {
      out->clear();
      *next_sequence = from_sequence;
      return trimmed();
    }
  }
  *shard_end = closed && exhausted;
  return Status::OK();
}

Status TableStore::ShardBounds(const std::string& table, const std::string& label,
                               const std::string& shard_id, uint64_t* trim_horizon,
                               uint64_t* latest) {
  std::shared_ptr<TableState> t;
  uint64_t no;
  Status s = FindShard(table, label, shard_id, &t, &no);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> l(t->streams.mu);
  auto it = t->streams.shards.find(no);
  if (it == t->streams.shards.end()) {
    return Status::NotFound("Requested resource not found: Shard does not exist");
  }
  *trim_horizon = it->second.trim_horizon;
  *latest = it->second.ending ? *it->second.ending + 1
                              : std::max(it->second.starting, t->streams.VisibleBound());
  return Status::OK();
}

Status TableStore::TrimTable(TableState* t, uint64_t* trimmed) {
  TableStreams& s = t->streams;
  const uint64_t now = StreamNowMs();
  if (now < options_.stream_retention_ms) return Status::OK();
  const uint64_t cutoff = now - options_.stream_retention_ms;
  std::lock_guard<std::mutex> trim(s.trim_mu);
  // Shared commit lock: no shard metadata change (split, alter) interleaves
  // with our metadata writes, so the stored shard stays as in memory.
  std::shared_lock<std::shared_mutex> commit(s.commit_mu);
  std::vector<uint64_t> todo;
  lsm::TreeId tree;
  uint64_t bound;
  {
    std::lock_guard<std::mutex> l(s.mu);
    if (!s.tree) return Status::OK();
    tree = *s.tree;
    bound = s.VisibleBound();
    for (const auto& [no, sh] : s.shards) {
      if (!sh.empty()) todo.push_back(no);
    }
  }
  constexpr size_t kMaxDeletesPerBatch = 4096;
  for (uint64_t no : todo) {
    for (bool more = true; more;) {
      more = false;
      uint64_t from;
      {
        std::lock_guard<std::mutex> l(s.mu);
        from = s.shards.at(no).trim_horizon;
      }
      std::vector<std::string> keys;
      uint64_t horizon = from;
      {
        auto it = db_->NewIterator(lsm::ReadOptions(), tree);
        const std::string prefix = StreamRecordKey(no, 0).substr(0, 9);
        for (it->Seek(StreamRecordKey(no, from)); it->Valid(); it->Next()) {
          std::string_view k = it->key();
          if (!k.starts_with(prefix) || k.size() != 17) break;
          const uint64_t seq = DecodeBigEndian64(k.substr(9));
          uint64_t created;
          Status st = DecodeStreamRecordTime(it->value(), &created);
          if (!st.ok()) return st;
          if (seq >= bound || created >= cutoff) break;
          if (keys.size() == kMaxDeletesPerBatch) {
            more = true;
            break;
          }
          keys.emplace_back(k);
          horizon = seq + 1;
        }
        if (!it->status().ok()) return it->status();
      }
      if (keys.empty()) break;
      lsm::WriteBatch batch;
      {
        // Raise the horizon before the records go (ReadShard re-checks it).
        std::lock_guard<std::mutex> l(s.mu);
        ShardMeta& sh = s.shards.at(no);
        sh.trim_horizon = std::max(sh.trim_horizon, horizon);
        PutShard(sh, tree, &batch);
        PutNextSeq(s, &batch);
      }
      for (const auto& k : keys) batch.Delete(tree, k);
      Status st = db_->Write(lsm::WriteOptions(), &batch);
      if (!st.ok()) return st;
      if (trimmed != nullptr) *trimmed += keys.size();
    }
  }
  // Old streams whose records are all gone disappear.
  lsm::WriteBatch batch;
  std::vector<uint32_t> gone;
  {
    std::lock_guard<std::mutex> l(s.mu);
    for (const auto& [index, m] : s.streams) {
      if (index == s.current) continue;
      bool empty = true;
      for (const auto& [no, sh] : s.shards) {
        if (sh.stream_index() == index && !sh.empty()) empty = false;
      }
      if (!empty) continue;
      gone.push_back(index);
      batch.Delete(tree, StreamMetaKey(index));
      for (const auto& [no, sh] : s.shards) {
        if (sh.stream_index() == index) batch.Delete(tree, ShardMetaKey(no));
      }
    }
    if (gone.empty()) return Status::OK();
    PutNextSeq(s, &batch);
  }
  Status st = db_->Write(lsm::WriteOptions(), &batch);
  if (!st.ok()) return st;
  std::lock_guard<std::mutex> l(s.mu);
  for (uint32_t index : gone) {
    s.streams.erase(index);
    std::erase_if(s.shards, [&](const auto& e) { return e.second.stream_index() == index; });
  }
  return Status::OK();
}

Status TableStore::TrimStreams(uint64_t* trimmed) {
  if (trimmed != nullptr) *trimmed = 0;
  std::vector<std::shared_ptr<TableState>> tables;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    for (const auto& [name, t] : tables_) tables.push_back(t);
  }
  Status first;
  for (const auto& t : tables) {
    Status s = TrimTable(t.get(), trimmed);
    // A table deleted meanwhile fails on its dropped tree: not an error.
    if (!s.ok() && !t->dropped && first.ok()) first = s;
  }
  return first;
}

void TableStore::StreamLoop() {
  std::unique_lock<std::mutex> lk(stream_mu_);
  while (!stream_stop_) {
    stream_cv_.wait_for(lk, std::chrono::milliseconds(options_.stream_trim_interval_ms),
                        [&] { return stream_stop_.load(); });
    if (stream_stop_) break;
    lk.unlock();
    // Errors are retried by the next pass; there is no one to report them to.
    TrimStreams().PermitUnchecked();
    lk.lock();
  }
}

}  // namespace basalt::table
