// Reads of a table's partitions: the point read of one item, Query (the items
// of one partition key, in sort-key order) and Scan (a hash range, in hash
// order). Each call works on a resolved TableHandle and re-routes through the
// table's newest partition map when a split moved the partition it read
// (partition_map.h, IsRerouteError / ShouldReroute), so reads never fail or
// repeat items because of a split. Contracts of Query and Scan are those of
// TableStore::Query / Scan (table_store.h).
//
// Thread safety: free functions; safe to call concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "engine/base/status.h"
#include "engine/lsm/db.h"
#include "engine/table/item_key.h"
#include "engine/table/key_codec.h"
#include "engine/table/schema.h"
#include "engine/table/value.h"

namespace basalt::table {

class TableHandle;

struct SortKeyCondition {
  SortKeyOp op = SortKeyOp::kAll;
  Value a;                 // unused for kAll
  std::optional<Value> b;  // kBetween only
};

// One page of a Query or Scan.
struct Page {
  std::vector<Item> items;
  // Items read (== items.size(); filters are applied above this layer).
  size_t count = 0;
  // Sum of ItemSize over the items read.
  size_t bytes = 0;
  // Key attributes of the last item read when the page stopped early (limit
  // or byte budget reached) and more items may follow; resume by passing it
  // as exclusive_start_key. nullopt when the range is exhausted.
  std::optional<Item> last_evaluated_key;
};
using QueryPage = Page;
using ScanPage = Page;

// The item stored under `key` (nullopt if none), as of ro.snapshot. *raw
// (optional) receives its stored encoding ("" if none).
Status ReadItem(lsm::DB* db, const TableHandle& t, const lsm::ReadOptions& ro, const ItemKey& key,
                std::optional<Item>* out, std::string* raw = nullptr);

// exclusive_start: the located key to resume after (nullptr: from the start).
Status QueryPartitionKey(lsm::DB* db, const TableHandle& t, const Value& pk,
                         const SortKeyCondition& cond, bool forward, const ItemKey* exclusive_start,
                         size_t byte_budget, size_t limit, const lsm::Snapshot* snapshot,
                         QueryPage* out);

Status ScanHashRange(lsm::DB* db, const TableHandle& t, uint64_t lo, uint64_t hi,
                     const ItemKey* exclusive_start, size_t byte_budget, size_t limit,
                     const lsm::Snapshot* snapshot, ScanPage* out);

// A Query of a secondary index: equality on every partition key attribute
// (in KeySchema order), equality on the first sort_key_equal.size() sort key
// attributes, then `last` on the next one (kAll: none). The caller checks
// DynamoDB's rules and value types (the server's key-condition parser);
// InvalidArgument if the shape does not fit the index.
struct IndexQuery {
  std::vector<Value> partition_key;
  std::vector<Value> sort_key_equal;
  SortKeyCondition last;
};

// Entries of index `ix` matching `q`, in index key order (then table key
// order; reverse when !forward), starting after the entry key
// exclusive_start (EncodeIndexEntryKey; nullptr: from the start). Pages as
// QueryPartitionKey; items are the projected entries; last_evaluated_key
// holds the index's and the table's key attributes. NotFound kIndexNotFound
// if the index was dropped meanwhile.
Status QueryIndex(lsm::DB* db, const TableHandle& t, const IndexDef& ix, const IndexQuery& q,
                  bool forward, const std::string* exclusive_start, size_t byte_budget,
                  size_t limit, const lsm::Snapshot* snapshot, QueryPage* out);

// Entries of index `ix` whose index partition hash is in [lo, hi), in hash
// order, resumable after an entry key. As ScanHashRange otherwise.
Status ScanIndex(lsm::DB* db, const TableHandle& t, const IndexDef& ix, uint64_t lo, uint64_t hi,
                 const std::string* exclusive_start, size_t byte_budget, size_t limit,
                 const lsm::Snapshot* snapshot, ScanPage* out);

}  // namespace basalt::table
