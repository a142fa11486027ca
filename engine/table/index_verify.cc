// TableStore's index inspection: ItemCollectionSize (item_collection.h) and
// VerifyIndexes: every index equals the function of its table (index_key.h),
// checked at one snapshot, one page in memory at a time. Used by
// `basalt-admin verify-indexes` and the index tests.
#include <optional>

#include "engine/table/index_key.h"
#include "engine/table/item_codec.h"
#include "engine/table/query_scan.h"
#include "engine/table/table_store.h"

namespace basalt::table {

Status TableStore::VerifyIndexes(const std::string& table, std::vector<IndexVerifyReport>* out) {
  out->clear();
  std::vector<std::string> names;
  if (table.empty()) {
    names = ListTables();
  } else {
    names.push_back(table);
  }
  const lsm::Snapshot* snap = db_->GetSnapshot();
  Status first;
  for (const std::string& name : names) {
    TableRef t;
    Status s = Resolve(name, &t);
    if (s.ok()) s = VerifyTableIndexes(*t, snap, out);
    if (!s.ok() && !(table.empty() && s.Is(Status::SubCode::kTableNotFound)) && first.ok()) {
      first = s;
    }
  }
  db_->ReleaseSnapshot(snap);
  return first;
}

// Two passes per index, each holding one page at a time (memory stays
// bounded whatever the table's size): table -> index finds missing and stale
// entries by point reads of the entries each item should have; index -> table
// finds extra entries by reading back the item each entry names.
Status TableStore::VerifyTableIndexes(const TableHandle& t, const lsm::Snapshot* snap,
                                      std::vector<IndexVerifyReport>* out) {
  const TableDef& def = t.def();
  if (def.indexes.empty()) return Status::OK();
  const std::shared_ptr<const PartitionSet> parts = t.runtime().Partitions();
  lsm::ReadOptions ro;
  ro.snapshot = snap;
  const size_t first_report = out->size();
  for (const IndexDef& ix : def.indexes) {
    IndexVerifyReport r;
    r.table = def.name;
    r.index = ix.name;
    r.backfilling = ix.backfilling;
    out->push_back(std::move(r));
  }
  auto example = [](IndexVerifyReport* r, std::string text) {
    if (r->examples.size() < 5) r->examples.push_back(std::move(text));
  };

  // Table -> index.
  std::optional<std::string> resume;
  for (;;) {
    ScanPage page;
    ItemKey start;
    if (resume) start.encoded = *resume;
    Status s = table::ScanHashRange(db_.get(), t, 0, 0, resume ? &start : nullptr, 1 << 20, 0, snap,
                                    &page);
    if (!s.ok()) return s;
    for (const Item& item : page.items) {
      for (size_t i = 0; i < def.indexes.size(); i++) {
        const IndexDef& ix = def.indexes[i];
        IndexVerifyReport& r = (*out)[first_report + i];
        IndexEntry e;
        bool present;
        // An item whose index keys cannot be indexed has no entry (skipped
        // by a backfill, refused since).
        if (!MakeIndexEntry(def, ix, item, &e, &present).ok() || !present) continue;
        r.expected++;
        const PartitionSet::IndexParts* index = parts->index(ix.id);
        if (r.backfilling || index == nullptr) continue;
        std::string value;
        s = db_->Get(ro, index->map->Route(e.hash).tree, e.key, &value);
        if (s.IsNotFound()) {
          r.missing++;
          example(&r, "missing entry " + DebugString(e.projected));
          continue;
        }
        if (!s.ok()) return s;
        Item got;
        s = DecodeItem(value, &got);
        if (!s.ok()) return s;
        if (!(got == e.projected)) {
          r.stale++;
          example(&r, "stale entry " + DebugString(got) + ", expected " + DebugString(e.projected));
        }
      }
    }
    if (!page.last_evaluated_key) break;
    ItemKey k;
    s = t.LocateKey(*page.last_evaluated_key, &k);
    if (!s.ok()) return s;
    resume = std::move(k.encoded);
  }

  // Index -> table.
  for (size_t i = 0; i < def.indexes.size(); i++) {
    const IndexDef& ix = def.indexes[i];
    IndexVerifyReport& r = (*out)[first_report + i];
    if (r.backfilling) continue;
    std::optional<std::string> start;
    for (;;) {
      ScanPage page;
      Status s = table::ScanIndex(db_.get(), t, ix, 0, 0, start ? &*start : nullptr, 1 << 20, 0,
                                  snap, &page);
      if (!s.ok()) return s;
      for (const Item& got : page.items) {
        r.actual++;
        std::string key;
        uint64_t hash;
        s = EncodeIndexEntryKey(def, ix, got, &key, &hash);
        ItemKey item_key;
        if (s.ok()) s = t.LocateKey(ExtractKey(def, got), &item_key);
        std::optional<Item> item;
        std::string encoded;
        if (s.ok()) s = ReadItem(db_.get(), t, ro, item_key, &item, &encoded);
        if (!s.ok() && !s.IsInvalidArgument()) return s;
        IndexEntry e;
        bool present = false;
        if (!s.ok() || !item || !MakeIndexEntry(def, ix, *item, &e, &present).ok() || !present ||
            e.key != key) {
          r.extra++;
          example(&r, "extra entry " + DebugString(got));
        }
      }
      if (!page.last_evaluated_key) break;
      std::string key;
      uint64_t hash;
      s = EncodeIndexEntryKey(def, ix, *page.last_evaluated_key, &key, &hash);
      if (!s.ok()) return s;
      start = std::move(key);
    }
  }
  return Status::OK();
}

Status TableStore::ItemCollectionSize(const TableHandle& table, const Value& pk, uint64_t* bytes) {
  const std::shared_ptr<const PartitionSet> parts = table.runtime().Partitions();
  return ItemCollectionBytes(db_.get(), table.def(), *parts, pk, bytes);
}

}  // namespace basalt::table
