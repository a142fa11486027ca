// Capacity units as DynamoDB counts them (the Developer Guide's "Read/write
// capacity mode" and "Item sizes and formats" pages), and the
// ConsumedCapacity member of responses.
//
// Reads: one unit per 4 KB (rounded up, at least one), halved for eventually
// consistent reads. Writes: one unit per 1 KB (rounded up, at least one). Sizes
// are table::ItemSize (names + values, without the storage overhead).
#pragma once

#include <boost/json/object.hpp>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/table/schema.h"
#include "engine/table/value.h"

namespace basalt::server::api {

enum class ReturnCapacity { kNone, kTotal, kIndexes };

// ReturnConsumedCapacity of a request (NONE when absent). Enum errors are the
// caller's (ParseReturnCapacity only maps valid names).
ReturnCapacity ReturnCapacityFromName(const std::string& name);

double ReadUnits(size_t bytes, bool strongly_consistent);
double WriteUnits(size_t bytes);

// Write units one item write costs an index (the Developer Guide's
// "Provisioned throughput considerations for GSIs/LSIs"): an index entry
// exists when the item has all of the index's key attributes; its size is the
// projected entry (table keys + index keys + projected attributes). A new entry
// or a removed one costs its size in units, a changed index key costs both
// (delete + put), a changed projection costs the larger entry, no change 0.
struct IndexCapacity {
  std::string name;
  bool global = true;
  double units = 0;
};
// old_item / new_item: nullptr when absent.
std::vector<IndexCapacity> IndexWriteUnits(const table::TableDef& def, const table::Item* old_item,
                                           const table::Item* new_item);

// {"TableName": t, "CapacityUnits": total} where total = table units + the
// indexes' units; with INDEXES also "Table": {"CapacityUnits": ...} and
// "GlobalSecondaryIndexes"/"LocalSecondaryIndexes": {name: {"CapacityUnits": u}}
// for the indexes that were charged. `read` selects ReadCapacityUnits or
// WriteCapacityUnits beside CapacityUnits in the INDEXES detail.
boost::json::object CapacityJson(const std::string& table, double units, ReturnCapacity mode,
                                 bool read, const std::vector<IndexCapacity>& indexes = {});

// The capacity one table consumed in a multi-item request (BatchGetItem,
// BatchWriteItem, transactions): its units and its indexes' units.
struct TableUnits {
  std::string table;
  double units = 0;
  std::map<std::string, IndexCapacity> indexes;

  // Charges one item write (old/new item: nullptr when absent), the larger
  // item rounded up to 1 KB, times `factor` (2 in a transaction), and its
  // index writes.
  void AddWrite(const table::TableDef& def, const table::Item* old_item,
                const table::Item* new_item, double factor = 1);
};

// "ConsumedCapacity": one CapacityJson per table, in the given order; nothing
// with ReturnCapacity::kNone.
void AddCapacityList(boost::json::object* resp, ReturnCapacity mode,
                     const std::vector<TableUnits>& units, bool read);

}  // namespace basalt::server::api
