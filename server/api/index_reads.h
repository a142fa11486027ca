// Query and Scan of secondary indexes: DynamoDB's rules for reading an index
// (reads.cc calls these once it knows the request names an index).
//
//   - the index must exist ("The table does not have the specified index:
//     NAME") and be readable (a GSI still backfilling: "Cannot read from
//     backfilling global secondary index: NAME");
//   - ConsistentRead is refused on GSIs ("Consistent reads are not supported
//     on global secondary indexes") and honoured on LSIs;
//   - Select: an index read returns the projected attributes by default;
//     ALL_ATTRIBUTES on a GSI needs projection ALL; on an LSI it and any
//     attribute the projection lacks (in ProjectionExpression,
//     AttributesToGet or the filter) are fetched from the table, item by
//     item, and charged to the table;
//   - ExclusiveStartKey: exactly the index's and the table's key attributes.
// Sources: the DynamoDB API Reference (Query, Scan: Select, ConsistentRead,
// IndexName) and the Developer Guide's GSI and LSI pages; message texts as
// DynamoDB answers (observed behaviour).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/table/table_store.h"
#include "server/api/request.h"
#include "server/expr/expr.h"

namespace basalt::server::api {

// What an index read must do beyond reading entries.
struct IndexRead {
  const table::IndexDef* index = nullptr;
  // An LSI read that needs attributes the projection lacks: each entry's
  // item is read from the table (and charged as a table read).
  bool fetch = false;
};

// The index `name` of the table, checked readable for this request
// (existence, backfill, ConsistentRead, Select, projection and filter
// attributes). filter_heads: the top-level attributes the filter reads.
IndexRead ResolveIndexRead(const table::TableDef& def, const std::string& name,
                           const std::string& select, bool consistent,
                           const std::optional<std::vector<expr::Path>>& projection,
                           const std::vector<std::string>& filter_heads);

// The entry key an ExclusiveStartKey names (DynamoDB's errors when it is not
// exactly the index's and the table's key attributes); *hash: the entry's
// index partition hash.
std::string LocateIndexStartKey(const table::TableDef& def, const table::IndexDef& index,
                                const Item& key, uint64_t* hash);

// The same plus a Query's boundary rules against its key condition.
std::string LocateIndexQueryStartKey(const table::TableDef& def, const table::IndexDef& index,
                                     const expr::KeyCondition& kc, const Item& key);

// Replaces each entry of an LSI page by its item from the table (entries
// whose item is gone meanwhile are dropped); *table_units: the read units
// of the items fetched, each rounded up on its own.
void FetchFromTable(Context& ctx, const table::TableHandle& t, bool consistent,
                    std::vector<Item>* items, double* table_units);

}  // namespace basalt::server::api
