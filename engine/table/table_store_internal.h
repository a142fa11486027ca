// Helpers shared by TableStore's implementation files (table_store.cc
// defines them). Internal to the table layer.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"
#include "engine/lsm/db.h"
#include "engine/table/partition_map.h"
#include "engine/table/schema.h"

namespace basalt::table::store_detail {

// The catalog key of a table: "table:" + name.
std::string TableKey(std::string_view name);
uint64_t NowMs();
lsm::WriteOptions SyncWrite();
Status TableNotFound(std::string_view name);
Status Closed();
// A definition as the runtime keeps it (no partitions, no statistics).
std::shared_ptr<const TableDef> Stripped(TableDef def);
// An index's partitions, with counters starting from its stored statistics.
PartitionSet::IndexParts MakeIndexParts(const IndexDef& ix, std::vector<PartitionDef> parts);
// Drops the trees of the given partitions; returns the first error.
Status DropPartitions(lsm::DB* db, const std::vector<PartitionDef>& parts);

}  // namespace basalt::table::store_detail
