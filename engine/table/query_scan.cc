#include "engine/table/query_scan.h"

#include <string>

#include "engine/base/coding.h"
#include "engine/base/function_ref.h"
#include "engine/table/index_key.h"
#include "engine/table/item_codec.h"
#include "engine/table/table_handle.h"

namespace basalt::table {

namespace {

Status IndexGone() {
  return Status::NotFound(Status::SubCode::kIndexNotFound, "the index no longer exists");
}

constexpr std::string_view kConditionTypeMismatch =
    "One or more parameter values were invalid: Condition parameter type does not match schema "
    "type";

Status ReadFromTree(lsm::DB* db, const lsm::ReadOptions& ro, lsm::TreeId tree,
                    const std::string& ikey, std::optional<Item>* out, std::string* raw) {
  raw->clear();
  Status s = db->Get(ro, tree, ikey, raw);
  if (s.IsNotFound()) {
    out->reset();
    return Status::OK();
  }
  if (!s.ok()) return s;
  Item item;
  s = DecodeItem(*raw, &item);
  if (!s.ok()) return s;
  *out = std::move(item);
  return Status::OK();
}

// The resume key of a page's last item (the table's key attributes, or for
// an index also the index's).
using PageKeyFn = FunctionRef<Item(const Item&)>;

// Appends the items of `range` in `tree` to *out until the limit or budget;
// *full when it stopped early; *last_key: the key of the last item appended.
Status ReadRange(lsm::DB* db, PageKeyFn page_key, lsm::TreeId tree, const KeyRange& range,
                 bool forward, size_t byte_budget, size_t limit, const lsm::Snapshot* snapshot,
                 Page* out, bool* full, std::string* last_key) {
  lsm::ReadOptions ro;
  ro.snapshot = snapshot;
  auto it = db->NewIterator(ro, tree);
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
  if (*full) out->last_evaluated_key = page_key(out->items.back());
  return Status::OK();
}

// Scan of [lo, hi) over the partitions of `map` (the table's or an index's,
// per index_id), resumable after *resume; re-routes through the table's
// newest maps when a partition was split away.
Status ScanMap(lsm::DB* db, const TableHandle& t, uint32_t index_id, PageKeyFn page_key,
               uint64_t lo, uint64_t hi, const std::string* resume, size_t byte_budget,
               size_t limit, const lsm::Snapshot* snapshot, Page* out) {
  *out = Page();
  if (hi != 0 && lo >= hi) return Status::OK();
  KeyRange range;
  range.start = BigEndian64(lo);
  if (hi != 0) range.limit = BigEndian64(hi);
  if (resume != nullptr) {
    std::string after = *resume + '\0';  // the smallest key after it
    if (after > range.start) range.start = std::move(after);
  }
  if (!range.limit.empty() && range.start >= range.limit) return Status::OK();
  const PartitionMap* map = t.partition_set().Map(index_id);
  if (map == nullptr) return IndexGone();
  // Key order does not change with a split, so a partition split away under
  // us is resumed on the children after the last key read.
  std::string last;
  std::shared_ptr<const PartitionSet> newer;
  for (bool restart = true; restart;) {
    restart = false;
    if (!last.empty()) {
      std::string after = last + '\0';
      if (after > range.start) range.start = std::move(after);
    }
    for (const PartitionDef& p : map->parts()) {
      if (p.hi != 0 && p.hi <= lo) continue;
      if (hi != 0 && p.lo >= hi) break;
      if (p.hi != 0 && BigEndian64(p.hi) <= range.start) continue;
      bool full;
      Status s = ReadRange(db, page_key, p.tree, range, /*forward=*/true, byte_budget, limit,
                           snapshot, out, &full, &last);
      if (IsRerouteError(s) && ShouldReroute(t.runtime(), {&p.tree, 1})) {
        newer = t.runtime().Partitions();
        map = newer->Map(index_id);
        if (map == nullptr) return IndexGone();
        restart = true;
        break;
      }
      if (!s.ok() || full) return s;
    }
  }
  return Status::OK();
}

// Reads `range` forward or backward from the partition holding `hash` of
// the table's or an index's map, re-routing across splits.
Status ReadRouted(lsm::DB* db, const TableHandle& t, uint32_t index_id, PageKeyFn page_key,
                  uint64_t hash, const KeyRange& range, bool forward, size_t byte_budget,
                  size_t limit, const lsm::Snapshot* snapshot, Page* out) {
  const PartitionMap* map = t.partition_set().Map(index_id);
  if (map == nullptr) return IndexGone();
  std::shared_ptr<const PartitionSet> newer;
  for (;;) {
    bool full;
    std::string last;
    const lsm::TreeId tree = map->Route(hash).tree;
    Status s = ReadRange(db, page_key, tree, range, forward, byte_budget, limit, snapshot, out,
                         &full, &last);
    if (!IsRerouteError(s) || !ShouldReroute(t.runtime(), {&tree, 1})) return s;
    *out = Page();
    newer = t.runtime().Partitions();
    map = newer->Map(index_id);
    if (map == nullptr) return IndexGone();
  }
}

}  // namespace

Status ReadItem(lsm::DB* db, const TableHandle& t, const lsm::ReadOptions& ro, const ItemKey& key,
                std::optional<Item>* out, std::string* raw) {
  std::string local;
  if (raw == nullptr) raw = &local;
  const PartitionMap* map = &t.partitions();
  std::shared_ptr<const PartitionSet> newer;  // keeps the map alive after a re-route
  for (;;) {
    const lsm::TreeId tree = map->Route(key.hash).tree;
    Status s = ReadFromTree(db, ro, tree, key.encoded, out, raw);
    if (!IsRerouteError(s) || !ShouldReroute(t.runtime(), {&tree, 1})) return s;
    newer = t.runtime().Partitions();
    map = &newer->table();
  }
}

Status QueryPartitionKey(lsm::DB* db, const TableHandle& t, const Value& pk,
                         const SortKeyCondition& cond, bool forward, const ItemKey* exclusive_start,
                         size_t byte_budget, size_t limit, const lsm::Snapshot* snapshot,
                         QueryPage* out) {
  *out = QueryPage();
  const TableDef& def = t.def();
  if (pk.type() != def.partition_key.type) return Status::InvalidArgument(kConditionTypeMismatch);
  if (IsEmptyKeyValue(pk)) return EmptyKeyError(def.partition_key.name, pk.type());
  if (cond.op != SortKeyOp::kAll) {
    if (!def.sort_key) return Status::InvalidArgument("Query key condition not supported");
    const ValueType skt = def.sort_key->type;
    if (cond.a.type() != skt ||
        (cond.op == SortKeyOp::kBetween && (!cond.b || cond.b->type() != skt))) {
      return Status::InvalidArgument(kConditionTypeMismatch);
    }
    if (cond.op == SortKeyOp::kBeginsWith && skt == ValueType::kN) {
      return Status::InvalidArgument("Query key condition not supported");
    }
  }
  KeyRange range;
  Status s = SortKeyRange(pk, cond.op, cond.a, cond.b ? &*cond.b : nullptr, &range);
  if (!s.ok()) return s;
  if (exclusive_start != nullptr) {
    const Value* start_pk = exclusive_start->attributes.Find(def.partition_key.name);
    if (start_pk == nullptr || !(*start_pk == pk)) {
      return Status::InvalidArgument("The provided starting key is invalid");
    }
    std::string ek = exclusive_start->encoded;
    if (forward) {
      ek.push_back('\0');  // the smallest key after ek
      if (ek > range.start) range.start = std::move(ek);
    } else if (range.limit.empty() || ek < range.limit) {
      range.limit = std::move(ek);
    }
  }
  if (!range.limit.empty() && range.start >= range.limit) return Status::OK();
  return ReadRouted(
      db, t, 0, [&](const Item& item) { return t.KeyOf(item); }, PartitionHash(pk), range, forward,
      byte_budget, limit, snapshot, out);
}

Status ScanHashRange(lsm::DB* db, const TableHandle& t, uint64_t lo, uint64_t hi,
                     const ItemKey* exclusive_start, size_t byte_budget, size_t limit,
                     const lsm::Snapshot* snapshot, ScanPage* out) {
  return ScanMap(
      db, t, 0, [&](const Item& item) { return t.KeyOf(item); }, lo, hi,
      exclusive_start != nullptr ? &exclusive_start->encoded : nullptr, byte_budget, limit,
      snapshot, out);
}

Status QueryIndex(lsm::DB* db, const TableHandle& t, const IndexDef& ix, const IndexQuery& q,
                  bool forward, const std::string* exclusive_start, size_t byte_budget,
                  size_t limit, const lsm::Snapshot* snapshot, QueryPage* out) {
  *out = QueryPage();
  if (q.partition_key.size() != ix.partition_key.size() ||
      q.sort_key_equal.size() > ix.sort_key.size() ||
      (q.sort_key_equal.size() == ix.sort_key.size() && q.last.op != SortKeyOp::kAll)) {
    return Status::InvalidArgument("Query key condition not supported");
  }
  std::string prefix;
  uint64_t hash;
  Status s = EncodeIndexPartitionPrefix(q.partition_key, &prefix, &hash);
  if (!s.ok()) return s;
  for (const Value& v : q.sort_key_equal) {
    s = EncodeKeyPart(v, &prefix);
    if (!s.ok()) return s;
  }
  KeyRange range;
  s = RangeAfterPrefix(prefix, q.last.op, q.last.a, q.last.b ? &*q.last.b : nullptr, &range);
  if (!s.ok()) return s;
  if (exclusive_start != nullptr) {
    if (!exclusive_start->starts_with(prefix)) {
      return Status::InvalidArgument("The provided starting key is invalid");
    }
    if (forward) {
      std::string ek = *exclusive_start + '\0';
      if (ek > range.start) range.start = std::move(ek);
    } else if (range.limit.empty() || *exclusive_start < range.limit) {
      range.limit = *exclusive_start;
    }
  }
  if (!range.limit.empty() && range.start >= range.limit) return Status::OK();
  const TableDef& def = t.def();
  return ReadRouted(
      db, t, ix.id, [&](const Item& item) { return IndexEntryKeyAttributes(def, ix, item); }, hash,
      range, forward, byte_budget, limit, snapshot, out);
}

Status ScanIndex(lsm::DB* db, const TableHandle& t, const IndexDef& ix, uint64_t lo, uint64_t hi,
                 const std::string* exclusive_start, size_t byte_budget, size_t limit,
                 const lsm::Snapshot* snapshot, ScanPage* out) {
  const TableDef& def = t.def();
  return ScanMap(
      db, t, ix.id, [&](const Item& item) { return IndexEntryKeyAttributes(def, ix, item); }, lo,
      hi, exclusive_start, byte_budget, limit, snapshot, out);
}

}  // namespace basalt::table
