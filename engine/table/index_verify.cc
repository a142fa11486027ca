// TableStore's index inspection: ItemCollectionSize (item_collection.h) and
// VerifyIndexes: every index equals the function of its table (index_key.h),
// checked at one snapshot. Used by `basalt-admin verify-indexes`
// and the index tests. Memory: the expected entries of one table's indexes
// are held at once (keys and projections), so it is a tool for tables that
// fit in memory, like the tests' and an operator's spot checks.
#include <map>
#include <optional>

#include "engine/table/index_key.h"
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

Status TableStore::VerifyTableIndexes(const TableHandle& t, const lsm::Snapshot* snap,
                                      std::vector<IndexVerifyReport>* out) {
  const TableDef& def = t.def();
  if (def.indexes.empty()) return Status::OK();
  // What the table's items give each index: entry key -> projection.
  std::vector<std::map<std::string, Item>> expected(def.indexes.size());
  std::vector<uint64_t> violations(def.indexes.size(), 0);
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
        IndexEntry e;
        bool present;
        if (!MakeIndexEntry(def, def.indexes[i], item, &e, &present).ok()) {
          violations[i]++;  // skipped by a backfill, refused since
          continue;
        }
        if (present) expected[i].emplace(std::move(e.key), std::move(e.projected));
      }
    }
    if (!page.last_evaluated_key) break;
    ItemKey k;
    s = t.LocateKey(*page.last_evaluated_key, &k);
    if (!s.ok()) return s;
    resume = std::move(k.encoded);
  }
  for (size_t i = 0; i < def.indexes.size(); i++) {
    const IndexDef& ix = def.indexes[i];
    IndexVerifyReport r;
    r.table = def.name;
    r.index = ix.name;
    r.backfilling = ix.backfilling;
    r.expected = expected[i].size();
    if (r.backfilling) {
      out->push_back(std::move(r));
      continue;
    }
    std::map<std::string, Item>& want = expected[i];
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
        auto it = s.ok() ? want.find(key) : want.end();
        if (it == want.end()) {
          r.extra++;
          if (r.examples.size() < 5) r.examples.push_back("extra entry " + DebugString(got));
          continue;
        }
        if (!(it->second == got)) {
          r.stale++;
          if (r.examples.size() < 5) {
            r.examples.push_back("stale entry " + DebugString(got) + ", expected " +
                                 DebugString(it->second));
          }
        }
        want.erase(it);
      }
      if (!page.last_evaluated_key) break;
      std::string key;
      uint64_t hash;
      s = EncodeIndexEntryKey(def, ix, *page.last_evaluated_key, &key, &hash);
      if (!s.ok()) return s;
      start = std::move(key);
    }
    r.missing = want.size();
    for (const auto& [key, item] : want) {
      if (r.examples.size() >= 5) break;
      r.examples.push_back("missing entry " + DebugString(item));
    }
    out->push_back(std::move(r));
  }
  return Status::OK();
}

Status TableStore::ItemCollectionSize(const TableHandle& table, const Value& pk,
                                      uint64_t* bytes) {
  const std::shared_ptr<const PartitionSet> parts = table.runtime().Partitions();
  return ItemCollectionBytes(db_.get(), table.def(), *parts, pk, bytes);
}

}  // namespace basalt::table
