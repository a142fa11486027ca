#include "engine/table/table_store.h"

#include <algorithm>
#include <chrono>
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
bool ParseTreeName(std::string_view name, uint64_t* table_id) {
  if (name.size() < 4 || name[0] != 't') return false;
  size_t dot = name.find(".p");
  if (dot == std::string_view::npos || dot == 1 || dot + 2 >= name.size()) return false;
  uint64_t id = 0;
  for (size_t i = 1; i < dot; i++) {
    if (name[i] < '0' || name[i] > '9') return false;
    id = id * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  for (size_t i = dot + 2; i < name.size(); i++) {
    if (name[i] < '0' || name[i] > '9') return false;
  }
  *table_id = id;
  return true;
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

}  // namespace

bool IsTableInUse(const Status& s) {
  return s.IsInvalidArgument() && s.message().starts_with(kTableInUsePrefix);
}

struct TableStore::TableState {
  TableDef def;  // immutable while in tables_, except the statistics below
  std::atomic<int64_t> item_count{0};
  std::atomic<int64_t> size_bytes{0};

  void Account(const std::optional<Item>& old_item, const std::optional<Item>& new_item) {
    item_count.fetch_add((new_item ? 1 : 0) - (old_item ? 1 : 0), std::memory_order_relaxed);
    size_bytes.fetch_add(static_cast<int64_t>(MaybeItemSize(new_item)) -
                             static_cast<int64_t>(MaybeItemSize(old_item)),
                         std::memory_order_relaxed);
  }
  void FillStats(TableDef* d) const {
    d->approx_item_count = static_cast<uint64_t>(std::max<int64_t>(0, item_count.load()));
    d->approx_size_bytes = static_cast<uint64_t>(std::max<int64_t>(0, size_bytes.load()));
  }
};

// ---- validation ----

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
    if (IsEmptyKeyValue(*v)) {
      return Invalid(
          kInvalidPrefix,
          "The AttributeValue for a key attribute cannot contain an empty string value. Key: " +
              a->name);
    }
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
    if (IsEmptyKeyValue(*v)) {
      return Status::InvalidArgument(
          "One or more parameter values are not valid. The AttributeValue for a key attribute "
          "cannot contain an empty string value. Key: " +
          a->name);
    }
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
  *store = std::move(ts);
  return Status::OK();
}

Status TableStore::Load() {
  std::set<lsm::TreeId> referenced;
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
        for (const auto& p : t->def.partitions) referenced.insert(p.tree);
        next_table_id_ = std::max(next_table_id_, t->def.table_id + 1);
        tables_[t->def.name] = std::move(t);
      } else {
        return Status::Corruption("catalog: unknown key");
      }
    }
    if (!it->status().ok()) return it->status();
  }
  // Trees of tables whose creation or deletion a crash interrupted.
  for (const auto& info : db_->ListTrees()) {
    uint64_t table_id;
    if (ParseTreeName(info.name, &table_id) && referenced.count(info.id) == 0) {
      Status s = db_->DropTree(info.id);
      if (!s.ok()) return s;
    }
  }
  return Status::OK();
}

TableStore::~TableStore() { Close().PermitUnchecked(); }

Status TableStore::Close() {
  std::lock_guard<std::mutex> cl(catalog_mu_);
  if (closed_ || db_ == nullptr) return Status::OK();
  closed_ = true;
  lsm::WriteBatch batch;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    for (const auto& [name, t] : tables_) {
      TableDef def = t->def;
      t->FillStats(&def);
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
  def.partitions.clear();
  def.approx_item_count = 0;
  def.approx_size_bytes = 0;
  if (def.creation_time_ms == 0) def.creation_time_ms = NowMs();
  if (def.status.empty()) def.status = "ACTIVE";

  const uint32_t n = options_.initial_partitions;
  auto drop_created = [&] {
    for (const auto& p : def.partitions) db_->DropTree(p.tree).PermitUnchecked();
  };
  for (uint32_t i = 0; i < n; i++) {
    PartitionDef p;
    p.id = i;
    // lo = floor(i * 2^64 / n); the last partition ends at 2^64 (hi = 0).
    p.lo = static_cast<uint64_t>((static_cast<unsigned __int128>(i) << 64) / n);
    p.hi =
        i + 1 == n ? 0 : static_cast<uint64_t>((static_cast<unsigned __int128>(i + 1) << 64) / n);
    Status s = db_->CreateTree(TreeName(def.table_id, i), &p.tree);
    if (!s.ok()) {
      drop_created();
      return s;
    }
    def.partitions.push_back(p);
  }
  std::string enc;
  EncodeTableDef(def, &enc);
  std::string next;
  PutFixed64(&next, def.table_id + 1);
  lsm::WriteBatch batch;
  batch.Put(catalog_tree_, TableKey(def.name), enc);
  batch.Put(catalog_tree_, kNextTableIdKey, next);
  Status s = db_->Write(SyncWrite(), &batch);
  if (!s.ok()) {
    drop_created();
    return s;
  }
  if (created != nullptr) *created = def;
  std::unique_lock<std::shared_mutex> l(mu_);
  next_table_id_ = def.table_id + 1;
  tables_[def.name] = std::move(t);
  return Status::OK();
}

Status TableStore::DescribeTable(const std::string& name, TableDef* def) {
  std::shared_ptr<TableState> t;
  Status s = FindTable(name, &t);
  if (!s.ok()) return s;
  *def = t->def;
  t->FillStats(def);
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
  // A crash before this point leaves trees that Open drops.
  for (const auto& p : t->def.partitions) {
    s = db_->DropTree(p.tree);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

// ---- items ----

const PartitionDef& TableStore::Route(const TableState& t, uint64_t hash) {
  const auto& parts = t.def.partitions;
  auto it = std::upper_bound(parts.begin(), parts.end(), hash,
                             [](uint64_t h, const PartitionDef& p) { return h < p.lo; });
  return *(it - 1);  // parts[0].lo == 0
}

Status TableStore::LocateKey(const TableState& t, const Item& key, bool key_only, std::string* ikey,
                             lsm::TreeId* tree) {
  Status s = key_only ? ValidateKeyOnly(t.def, key) : ValidateItemKey(t.def, key);
  if (!s.ok()) return s;
  const Value* pk = key.Find(t.def.partition_key.name);
  const Value* sk = t.def.sort_key ? key.Find(t.def.sort_key->name) : nullptr;
  ikey->clear();
  s = EncodeItemKey(*pk, sk, ikey);
  if (!s.ok()) return s;
  *tree = Route(t, PartitionHash(*pk)).tree;
  return Status::OK();
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
  lsm::TreeId tree;
  s = LocateKey(*t, key, /*key_only=*/true, &ikey, &tree);
  if (!s.ok()) return s;
  lsm::ReadOptions ro;
  ro.snapshot = snapshot;
  return ReadItem(ro, tree, ikey, out);
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
  lsm::TreeId tree;
  s = LocateKey(*t, key, /*key_only=*/true, &ikey, &tree);
  if (!s.ok()) return s;

  std::lock_guard<std::mutex> latch(LatchFor(ikey));
  std::optional<Item> old;
  s = ReadItem(lsm::ReadOptions(), tree, ikey, &old);
  if (!s.ok()) return s;
  Decision d = fn(old ? &*old : nullptr);
  std::optional<Item> next;
  lsm::WriteBatch batch;
  switch (d.kind) {
    case Decision::Kind::kConditionFailed:
    case Decision::Kind::kNoChange:
      result->outcome = d.kind;
      result->new_item = old;
      result->old_item = std::move(old);
      return Status::OK();
    case Decision::Kind::kDelete:
      if (old) batch.Delete(tree, ikey);
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
      std::string enc;
      EncodeItem(d.item, &enc);
      batch.Put(tree, ikey, enc);
      next = std::move(d.item);
      break;
    }
  }
  if (!batch.Empty()) {
    s = db_->Write(lsm::WriteOptions(), &batch);
    if (!s.ok()) return s;
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
    lsm::TreeId tree = 0;
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
      s = LocateKey(*p.t, op.item, /*key_only=*/false, &p.ikey, &p.tree);
      if (s.ok()) s = ValidateItem(op.item);
      if (!s.ok()) return s;
      p.item = op.item;
      CanonicalizeItem(&p.item);
    } else {
      s = LocateKey(*p.t, op.item, /*key_only=*/true, &p.ikey, &p.tree);
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
  lsm::WriteBatch batch;
  for (size_t i = 0; i < ops.size(); i++) {
    Status s = ReadItem(lsm::ReadOptions(), prep[i].tree, prep[i].ikey, &r->old_items[i]);
    if (!s.ok()) return s;
    if (ops[i].condition && !ops[i].condition(r->old_items[i] ? &*r->old_items[i] : nullptr)) {
      r->failed_op = i;
      return Status::OK();
    }
    if (ops[i].kind == WriteOp::Kind::kPut) {
      std::string enc;
      EncodeItem(prep[i].item, &enc);
      batch.Put(prep[i].tree, prep[i].ikey, enc);
    } else if (r->old_items[i]) {
      batch.Delete(prep[i].tree, prep[i].ikey);
    }
  }
  if (!batch.Empty()) {
    Status s = db_->Write(lsm::WriteOptions(), &batch);
    if (!s.ok()) return s;
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
                             const lsm::Snapshot* snapshot, Page* out, bool* full) {
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
  if (IsEmptyKeyValue(pk)) {
    return Status::InvalidArgument(
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        "cannot contain an empty string value. Key: " +
        def.partition_key.name);
  }
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
  bool full;
  return ReadRange(*t, Route(*t, PartitionHash(pk)).tree, range, forward, byte_budget, limit,
                   snapshot, out, &full);
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
    lsm::TreeId unused;
    s = LocateKey(*t, *exclusive_start_key, /*key_only=*/true, &ek, &unused);
    if (!s.ok()) return s;
    ek.push_back('\0');
    if (ek > range.start) range.start = std::move(ek);
  }
  if (!range.limit.empty() && range.start >= range.limit) return Status::OK();
  for (const PartitionDef& p : t->def.partitions) {
    if (p.hi != 0 && p.hi <= lo) continue;
    if (hi != 0 && p.lo >= hi) break;
    if (p.hi != 0 && BigEndian64(p.hi) <= range.start) continue;
    bool full;
    s = ReadRange(*t, p.tree, range, /*forward=*/true, byte_budget, limit, snapshot, out, &full);
    if (!s.ok() || full) return s;
  }
  return Status::OK();
}

}  // namespace basalt::table
