// DynamoDB JSON (the marshalled AttributeValue form: {"S": "x"}, {"N": "1"},
// {"B": "<base64>"}, ...) <-> table values, for export data files and import
// sources (DynamoDB Developer Guide, "DynamoDB table export output format",
// "DynamoDB JSON"). This is the data format only: no request parsing, no
// DynamoDB error types (the protocol layer, server/api/json_value.h, has its
// own parser with DynamoDB's request errors). Errors here are InvalidArgument
// with a readable reason, which an import counts as one item error.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "engine/base/status.h"
#include "engine/table/value.h"

namespace basalt::server::exports {

boost::json::value ValueToDynamoJson(const table::Value& v);
boost::json::object ItemToDynamoJson(const table::Item& item);

// One AttributeValue object; InvalidArgument (with the reason) for anything
// that is not exactly one known type member of the right JSON type, bad base64
// or a bad number. Sets, nesting and sizes are checked by ValidateItem later.
Status ValueFromDynamoJson(const boost::json::value& v, table::Value* out);
// An attribute map {"name": AttributeValue, ...}.
Status ItemFromDynamoJson(const boost::json::value& v, table::Item* out);

}  // namespace basalt::server::exports
