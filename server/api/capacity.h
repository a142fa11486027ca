// Capacity units as DynamoDB counts them (DYNAMODB.md 3), and the
// ConsumedCapacity member of responses.
//
// Reads: one unit per 4 KB (rounded up, at least one), halved for eventually
// consistent reads. Writes: one unit per 1 KB (rounded up, at least one). Sizes
// are table::ItemSize (names + values, without the storage overhead).
#pragma once

#include <boost/json/object.hpp>
#include <cstddef>
#include <string>

namespace basalt::server::api {

enum class ReturnCapacity { kNone, kTotal, kIndexes };

// ReturnConsumedCapacity of a request (NONE when absent). Enum errors are the
// caller's (ParseReturnCapacity only maps valid names).
ReturnCapacity ReturnCapacityFromName(const std::string& name);

double ReadUnits(size_t bytes, bool strongly_consistent);
double WriteUnits(size_t bytes);

// {"TableName": t, "CapacityUnits": u} (+ "Table": {"CapacityUnits": u} with
// INDEXES). `read` selects ReadCapacityUnits/WriteCapacityUnits in the
// INDEXES detail.
boost::json::object CapacityJson(const std::string& table, double units, ReturnCapacity mode,
                                 bool read);

}  // namespace basalt::server::api
