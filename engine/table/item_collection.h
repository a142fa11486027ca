// Item collections (DynamoDB Developer Guide, "Item collections in Local
// Secondary Indexes"): on a table with local secondary indexes, every item
// with one partition key value, in the table and in each LSI. DynamoDB caps a
// collection at 10 GB (ItemCollectionSizeLimitExceededException, "Collection
// size exceeded.") and reports its size as an estimate range
// (ItemCollectionMetrics.SizeEstimateRangeGB).
//
// Here a collection's size is the engine's approximate byte count of its key
// ranges — in the table partition holding the key and in each LSI's partition
// holding it (DB::GetApproximateRangeSize: the entries as stored, SSTables
// compressed; no I/O). docs/indexes.md says why an estimate, not a counter.
//
// Thread safety: pure functions over immutable definitions and maps; the DB
// is thread safe.
#pragma once

#include <array>
#include <cstdint>

#include "engine/base/status.h"
#include "engine/lsm/db.h"
#include "engine/table/partition_map.h"
#include "engine/table/schema.h"
#include "engine/table/value.h"

namespace basalt::table {

// DynamoDB's item collection size limit.
inline constexpr uint64_t kItemCollectionLimitBytes = uint64_t{10} << 30;
// Its error text (ItemCollectionSizeLimitExceededException).
inline constexpr std::string_view kItemCollectionLimitMessage = "Collection size exceeded.";

// True if the table has a local secondary index (only then do item
// collections have a limit and metrics).
bool HasLocalIndex(const TableDef& def);

// The approximate bytes of the collection of partition key value `pk`.
// Errors: the DB's (a dropped tree: InvalidArgument kTreeGone).
Status ItemCollectionBytes(lsm::DB* db, const TableDef& def, const PartitionSet& parts,
                           const Value& pk, uint64_t* bytes);

// SizeEstimateRangeGB for a collection of `bytes`: the whole gigabytes below
// and above it, e.g. [0.0, 1.0] for anything under 1 GB (DynamoDB's answer
// for a small collection).
std::array<double, 2> SizeEstimateRangeGB(uint64_t bytes);

}  // namespace basalt::table
