// Secondary index definitions: DynamoDB JSON <-> table::IndexDef, in one
// place. CreateTable's LocalSecondaryIndexes / GlobalSecondaryIndexes and
// UpdateTable's GlobalSecondaryIndexUpdates.Create are parsed and validated
// here; DescribeTable's index descriptions are built here; and the index
// definitions that catalog formats 1-2 stored as JSON text are converted here
// (the table layer parses no JSON; TableStoreOptions::legacy_index_decoder).
//
// Parsers throw ApiError with DynamoDB's messages.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"
#include "engine/table/schema.h"
#include "server/api/table_json.h"

namespace basalt::server::api {

// The LocalSecondaryIndexes and GlobalSecondaryIndexes members of `req`
// (either may be absent), validated against the table's key schema and the
// attribute definitions; LSIs first, each list in request order. Index ids
// are left 0 (the table layer assigns them). Shape errors are collected over
// all indexes and reported together (as DynamoDB does), then the semantic
// checks run index by index. existing_non_key: INCLUDE attributes already
// projected by the table's other indexes (UpdateTable), for the limit of 100.
// member_path: the path constraint messages name for the (single) index, for
// UpdateTable's "globalSecondaryIndexUpdates.N.member.create"; empty:
// "globalSecondaryIndexes.N.member" / "localSecondaryIndexes.N.member".
std::vector<table::IndexDef> ParseIndexes(const boost::json::object& req,
                                          const std::vector<KeyElement>& table_keys,
                                          const std::vector<table::KeyAttribute>& defs,
                                          bool pay_per_request, size_t existing_non_key = 0,
                                          std::string_view member_path = {});

// The KeySchema of each index in req's index lists (GSIs, then LSIs), as far
// as it is well formed, without validation: for CreateTable's checks
// that DynamoDB makes before it validates the indexes (a name repeated in a
// key schema; "AttributeDefinitions not used"). With `c`, attribute names
// longer than 255 are added to it (DynamoDB reports them before any check of
// the definitions' consistency).
std::vector<std::vector<KeyElement>> IndexKeyElements(const boost::json::object& req,
                                                      Constraints* c = nullptr,
                                                      std::string_view member_path = {});

// The descriptions of the table's GSIs (global) or LSIs, as DescribeTable
// lists them; empty when it has none. table_arn: the table's ARN.
// status_of: when set, reported as the IndexStatus of the index named `only`
// (of every GSI when `only` is empty) instead of the stored status — the
// status a response shows for a change it just made (e.g. DELETING).
boost::json::array IndexesJson(const std::string& table_arn, const table::TableDef& d, bool global,
                               std::optional<table::IndexStatus> status_of = std::nullopt,
                               std::string_view only = {});

// The index definitions of a catalog entry of format 1-2: the JSON text
// {"LocalSecondaryIndexes": [...], "GlobalSecondaryIndexes": [...]} that the
// server of those releases stored (already validated when it was written).
// Key attribute types come from def's attribute definitions. Corruption if
// the text is not of that shape.
Status DecodeLegacyIndexJson(const table::TableDef& def, std::string_view json,
                             std::vector<table::IndexDef>* out);

}  // namespace basalt::server::api
